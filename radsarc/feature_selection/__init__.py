"""Feature selection: mRMR, LASSO, correlation, univariate and stability (ICC) filters.

scikit-learn's :class:`~sklearn.feature_selection.RFE`,
:class:`~sklearn.feature_selection.RFECV` and
:class:`~sklearn.feature_selection.VarianceThreshold` are re-exported unchanged
so that every selector radsarc's pipelines use is importable from one place.
"""

from sklearn.feature_selection import RFE, RFECV, VarianceThreshold

from radsarc.feature_selection._correlation import CorrelationFilter
from radsarc.feature_selection._icc import ICCFilter
from radsarc.feature_selection._lasso import LassoSelector
from radsarc.feature_selection._mrmr import MRMRSelector
from radsarc.feature_selection._univariate import UnivariateSelector, benjamini_hochberg

__all__ = [
    "RFE",
    "RFECV",
    "CorrelationFilter",
    "ICCFilter",
    "LassoSelector",
    "MRMRSelector",
    "UnivariateSelector",
    "VarianceThreshold",
    "benjamini_hochberg",
]
