"""Univariate two-group tests with Benjamini-Hochberg false-discovery-rate control."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from radsarc.feature_selection._base import (
    _check_classes,
    _keep_best,
    _SupportMaskMixin,
)

__all__ = ["UnivariateSelector", "benjamini_hochberg"]

logger = logging.getLogger(__name__)


def benjamini_hochberg(pvalues):
    """Benjamini-Hochberg adjusted p-values (q-values).

    Parameters
    ----------
    pvalues : array-like of shape (n_tests,)
        Raw p-values; NaN is treated as 1.

    Returns
    -------
    qvalues : ndarray of shape (n_tests,)
        ``min_{k >= rank} p_(k) * m / k``, clipped to at most 1. Rejecting the
        tests with ``qvalues <= alpha`` controls the false discovery rate at
        ``alpha`` for independent or positively dependent tests.

    References
    ----------
    .. [1] Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate: a
       practical and powerful approach to multiple testing", J R Stat Soc B
       57(1):289-300, 1995.

    Examples
    --------
    >>> from radsarc.feature_selection import benjamini_hochberg
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    array([0.04      , 0.05333333, 0.05333333, 0.5       ])
    """
    p = np.nan_to_num(np.asarray(pvalues, dtype=np.float64), nan=1.0)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


class UnivariateSelector(_SupportMaskMixin, SelectorMixin, BaseEstimator):
    """Keep the features that differ between two classes, with FDR control.

    Each feature is compared between the two classes with the Mann-Whitney U
    test (or Welch's t-test); the p-values are adjusted for multiple testing with
    the Benjamini-Hochberg procedure and the features with an adjusted p-value
    at most ``alpha`` are kept.

    Parameters
    ----------
    test : {"mannwhitneyu", "ttest"}, default="mannwhitneyu"
        Two-sided two-sample test: Mann-Whitney U (asymptotic p-value with tie
        and continuity correction) or Welch's unequal-variance t-test.
    alpha : float, default=0.05
        False discovery rate (or, with ``correction=None``, per-test level), in (0, 1].
    correction : {"fdr_bh"} or None, default="fdr_bh"
        Multiple-testing correction: Benjamini-Hochberg, or none.
    max_features : int or None, default=None
        Keep at most this many features: those with the smallest p-values among
        the significant ones.
    min_features : int, default=0
        Keep at least this many features (those with the smallest p-values) even
        when fewer are significant, so that a pipeline never runs out of
        features. With the default 0, a warning is raised when none is kept.

    Attributes
    ----------
    statistic_ : ndarray of shape (n_features_in_,)
        Test statistic of each feature.
    pvalues_ : ndarray of shape (n_features_in_,)
        Raw two-sided p-values (1 for constant features).
    qvalues_ : ndarray of shape (n_features_in_,)
        Adjusted p-values (equal to ``pvalues_`` when ``correction=None``).
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the kept features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.feature_selection.SelectFdr : The same control with ANOVA F-tests.

    Notes
    -----
    With more than two classes the tests become their k-sample versions:
    Kruskal-Wallis for ``"mannwhitneyu"``, one-way ANOVA for ``"ttest"``.
    If no feature is significant, a warning is
    raised and no feature is selected.

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.feature_selection import UnivariateSelector
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = rng.normal(size=(60, 4))
    >>> X[:, 2] += 2 * y
    >>> UnivariateSelector().fit(X, y).get_support(indices=True)
    array([2])
    """

    _parameter_constraints: dict = {
        "test": [StrOptions({"mannwhitneyu", "ttest"})],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "correction": [StrOptions({"fdr_bh"}), None],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "min_features": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        test="mannwhitneyu",
        alpha=0.05,
        correction="fdr_bh",
        max_features=None,
        min_features=0,
    ):
        self.test = test
        self.alpha = alpha
        self.correction = correction
        self.max_features = max_features
        self.min_features = min_features

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Test every feature and keep the significant ones.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Binary class labels.

        Returns
        -------
        self : UnivariateSelector
            The fitted selector.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = _check_classes(y, "UnivariateSelector")
        groups = [X[y == label] for label in classes]
        constant = np.ptp(X, axis=0) == 0
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.test == "mannwhitneyu" and classes.size == 2:
                result = stats.mannwhitneyu(
                    *groups, alternative="two-sided", method="asymptotic", axis=0
                )
            elif self.test == "mannwhitneyu":
                result = stats.kruskal(*groups, axis=0)
            elif classes.size == 2:
                result = stats.ttest_ind(*groups, equal_var=False, axis=0)
            else:
                result = stats.f_oneway(*groups, axis=0)
        statistic = np.asarray(result.statistic, dtype=np.float64)
        pvalues = np.asarray(result.pvalue, dtype=np.float64)
        pvalues = np.where(constant | np.isnan(pvalues), 1.0, pvalues)
        qvalues = benjamini_hochberg(pvalues) if self.correction else pvalues.copy()
        if self.max_features is not None and self.min_features > self.max_features:
            raise ValueError(
                f"UnivariateSelector: min_features={self.min_features} is larger "
                f"than max_features={self.max_features}."
            )
        support = qvalues <= self.alpha
        n_min = min(self.min_features, X.shape[1])
        if support.sum() < n_min:
            support[np.argsort(pvalues, kind="stable")[:n_min]] = True
        support = _keep_best(support, pvalues, self.max_features)
        if not support.any():
            warnings.warn(
                f"UnivariateSelector: no feature has an adjusted p-value <= "
                f"alpha={self.alpha:g} (smallest: {qvalues.min():.3g}); no feature "
                "is selected.",
                UserWarning,
                stacklevel=2,
            )
        self.statistic_ = statistic
        self.pvalues_ = pvalues
        self.qvalues_ = qvalues
        self.support_ = support
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
