"""Feature selection: mRMR, LASSO, correlation, univariate and stability (ICC) filters.

scikit-learn's :class:`~sklearn.feature_selection.RFE`,
:class:`~sklearn.feature_selection.RFECV` and
:class:`~sklearn.feature_selection.VarianceThreshold` are re-exported unchanged
so that every selector radsarc's pipelines use is importable from one place.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.feature_selection._correlation": ["CorrelationFilter"],
        "radsarc.feature_selection._icc": ["ICCFilter"],
        "radsarc.feature_selection._lasso": ["LassoSelector"],
        "radsarc.feature_selection._mrmr": ["MRMRSelector"],
        "radsarc.feature_selection._univariate": [
            "UnivariateSelector",
            "benjamini_hochberg",
        ],
        "sklearn.feature_selection": ["RFE", "RFECV", "VarianceThreshold"],
    },
)
