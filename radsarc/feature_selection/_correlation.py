"""Correlation filter: drop one feature of each highly correlated pair."""

from __future__ import annotations

import logging
from numbers import Real

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin, f_classif
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from radsarc.feature_selection._base import _SupportMaskMixin

__all__ = ["CorrelationFilter"]

logger = logging.getLogger(__name__)


def _abs_correlation(X, method):
    """Absolute correlation matrix of the columns; 0 where undefined."""
    if method == "spearman":
        X = rankdata(X, axis=0)
    centred = X - X.mean(axis=0)
    norm = np.sqrt((centred * centred).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = centred / norm
    scaled[:, norm == 0] = 0.0
    corr = np.abs(scaled.T @ scaled)
    return np.clip(corr, 0.0, 1.0)


class CorrelationFilter(_SupportMaskMixin, SelectorMixin, BaseEstimator):
    """Drop one feature of each pair correlated above a threshold.

    Features are visited from the most to the least relevant to the target
    (ANOVA F-statistic); a feature is kept unless its absolute correlation with
    a feature already kept exceeds ``threshold``. Of each highly correlated
    pair, the more relevant feature therefore stays.

    Parameters
    ----------
    threshold : float, default=0.9
        Largest absolute correlation allowed between two kept features, in (0, 1].
    method : {"pearson", "spearman"}, default="pearson"
        Correlation coefficient.

    Attributes
    ----------
    relevance_ : ndarray of shape (n_features_in_,)
        ANOVA F-statistic of each feature (0 for constant features).
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the kept features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    radsarc.feature_selection.MRMRSelector : Trades relevance against redundancy.

    Notes
    -----
    Among features of equal relevance the earlier column is visited first.
    Constant features have correlation 0 with every feature and relevance 0: they
    are kept (remove them with :class:`sklearn.feature_selection.VarianceThreshold`).

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.feature_selection import CorrelationFilter
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> a = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    >>> X = np.column_stack([a + [0, 0, 0, 0, 0, 0.5], a, [1, 0, 1, 0, 1, 0]])
    >>> CorrelationFilter(threshold=0.9).fit(X, y).get_support()
    array([False,  True,  True])
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0, 1, closed="right")],
        "method": [StrOptions({"pearson", "spearman"})],
    }

    def __init__(self, *, threshold=0.9, method="pearson"):
        self.threshold = threshold
        self.method = method

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Find the features to keep.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Class labels, used to rank the features by relevance.

        Returns
        -------
        self : CorrelationFilter
            The fitted filter.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        n_features = X.shape[1]
        constant = np.ptp(X, axis=0) == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            if np.unique(y).size > 1 and X.shape[0] > np.unique(y).size:
                relevance = np.asarray(f_classif(X[:, ~constant], y)[0])
            else:
                relevance = np.zeros((~constant).sum())
        full = np.zeros(n_features)
        full[~constant] = np.nan_to_num(relevance, nan=0.0, posinf=np.inf)
        corr = _abs_correlation(X, self.method)
        order = np.argsort(-full, kind="stable")
        support = np.zeros(n_features, dtype=bool)
        for j in order:
            kept = np.flatnonzero(support)
            if kept.size == 0 or corr[j, kept].max() <= self.threshold:
                support[j] = True
        self.relevance_ = full
        self.support_ = support
        logger.debug(
            "CorrelationFilter kept %d of %d features", support.sum(), n_features
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
