"""Feature selection: mRMR, LASSO, correlation, univariate and stability (ICC) filters.

scikit-learn's :class:`~sklearn.feature_selection.RFE`,
:class:`~sklearn.feature_selection.RFECV` and
:class:`~sklearn.feature_selection.VarianceThreshold` are re-exported unchanged
so that every selector radsarc's pipelines use is importable from one place.
"""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "RFE": ("sklearn.feature_selection", "RFE"),
    "RFECV": ("sklearn.feature_selection", "RFECV"),
    "VarianceThreshold": ("sklearn.feature_selection", "VarianceThreshold"),
    "CorrelationFilter": (
        "radsarc.feature_selection._correlation",
        "CorrelationFilter",
    ),
    "ICCFilter": ("radsarc.feature_selection._icc", "ICCFilter"),
    "LassoSelector": ("radsarc.feature_selection._lasso", "LassoSelector"),
    "MRMRSelector": ("radsarc.feature_selection._mrmr", "MRMRSelector"),
    "UnivariateSelector": (
        "radsarc.feature_selection._univariate",
        "UnivariateSelector",
    ),
    "benjamini_hochberg": (
        "radsarc.feature_selection._univariate",
        "benjamini_hochberg",
    ),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
