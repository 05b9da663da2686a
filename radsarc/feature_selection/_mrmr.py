"""Minimum-redundancy-maximum-relevance (mRMR) feature selection, vectorised."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from radsarc.feature_selection._base import _SupportMaskMixin

__all__ = ["MRMRSelector"]

logger = logging.getLogger(__name__)

#: Lower bound of a redundancy (mean absolute correlation) in the quotient scheme,
#: the value of ``mrmr.main.FLOOR`` in ``mrmr_selection``.
FLOOR = 0.001


def _f_statistic(X0, valid, y_codes, n_classes):
    """ANOVA F of every column against the classes, on its non-missing rows.

    The same sums-of-squares formula as :func:`sklearn.feature_selection.f_classif`
    (which ``mrmr_selection`` calls column by column on the non-missing rows).
    Columns that are constant on their non-missing rows, or that have fewer rows
    than needed for the degrees of freedom, get 0.
    """
    onehot = (y_codes[:, None] == np.arange(n_classes)[None, :]).astype(np.float64)
    validf = valid.astype(np.float64)
    counts = onehot.T @ validf  # (n_classes, n_features)
    sums = onehot.T @ X0
    n = counts.sum(axis=0)
    total = sums.sum(axis=0)
    ss_all = (X0 * X0).sum(axis=0)
    present = counts > 0
    n_present = present.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        square_total = total**2 / n
        sstot = ss_all - square_total
        ssbn = np.where(present, sums**2 / np.where(present, counts, 1), 0.0).sum(
            axis=0
        )
        ssbn = ssbn - square_total
        sswn = sstot - ssbn
        dfbn = n_present - 1
        dfwn = n - n_present
        f = (ssbn / dfbn) / (sswn / dfwn)
    lo = np.where(valid, X0, np.inf).min(axis=0)
    hi = np.where(valid, X0, -np.inf).max(axis=0)
    degenerate = (dfbn <= 0) | (dfwn <= 0) | ~(hi > lo)
    f = np.where(degenerate | np.isnan(f), 0.0, f)
    return f


def _discretise(X, valid, n_bins):
    """Equal-frequency bin codes per column; missing values get code ``n_bins``."""
    quantiles = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        edges = np.nanquantile(X, quantiles, axis=0)  # (n_bins - 1, n_features)
    codes = (X[None, :, :] > edges[:, None, :]).sum(axis=0)
    return np.where(valid, codes, n_bins)


def _mutual_info(codes, target, n_code_values, n_target_values):
    """Plug-in mutual information (nats) between every code column and ``target``."""
    n_samples, n_features = codes.shape
    cells = n_code_values * n_target_values
    index = (
        np.arange(n_features)[None, :] * cells
        + codes * n_target_values
        + target[:, None]
    )
    joint = np.bincount(index.ravel(), minlength=n_features * cells).reshape(
        n_features, n_code_values, n_target_values
    )
    joint = joint / n_samples
    p_code = joint.sum(axis=2, keepdims=True)
    p_target = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = joint * np.log(joint / (p_code * p_target))
    mi = np.where(joint > 0, terms, 0.0).sum(axis=(1, 2))
    return np.maximum(mi, 0.0)


class _PearsonRedundancy:
    """Absolute Pearson correlation of every column with a given column.

    Mirrors ``pandas.DataFrame.corrwith`` as called by ``mrmr_selection``:
    pairwise-complete rows, centring, scaling by the maximum absolute value,
    ``NaN`` (fewer than two rows, or constant data) for undefined correlations.
    Without missing values the centred, scaled columns are computed once.
    """

    def __init__(self, X0, valid):
        self.X0 = X0
        self.valid = valid
        self.complete = bool(valid.all())
        if self.complete:
            n_samples = X0.shape[0]
            centred = X0 - X0.mean(axis=0)
            scale = np.abs(centred).max(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                self.scaled = centred / scale
                self.fact = n_samples - 1
                self.divisor = np.sqrt(
                    (self.scaled * self.scaled).sum(axis=0) / self.fact
                )
            self.undefined = (scale == 0) | (self.divisor == 0) | (n_samples < 2)

    def __call__(self, column):
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.complete:
                a = self.scaled[:, column]
                r = (self.scaled * a[:, None]).sum(axis=0) / self.fact
                r = r / self.divisor[column] / self.divisor
                undefined = self.undefined | self.undefined[column]
            else:
                r, undefined = self._masked(column)
        r = np.clip(r, -1.0, 1.0)
        return np.where(undefined | np.isnan(r), np.nan, np.abs(r))

    def _masked(self, column):
        mask = self.valid & self.valid[:, [column]]
        count = mask.sum(axis=0)
        a = np.where(mask, self.X0[:, [column]], 0.0)
        b = np.where(mask, self.X0, 0.0)
        a = np.where(mask, a - a.sum(axis=0) / count, 0.0)
        b = np.where(mask, b - b.sum(axis=0) / count, 0.0)
        a_scale = np.abs(a).max(axis=0)
        b_scale = np.abs(b).max(axis=0)
        a = a / a_scale
        b = b / b_scale
        fact = count - 1
        a_div = np.sqrt((a * a).sum(axis=0) / fact)
        b_div = np.sqrt((b * b).sum(axis=0) / fact)
        r = (a * b).sum(axis=0) / fact / a_div / b_div
        undefined = (count < 2) | (a_scale == 0) | (b_scale == 0)
        undefined |= (a_div == 0) | (b_div == 0)
        return r, undefined


class MRMRSelector(_SupportMaskMixin, SelectorMixin, BaseEstimator):
    """Minimum-redundancy-maximum-relevance (mRMR) feature selection.

    Greedy forward selection: the first feature is the most relevant one; each
    following feature maximises its relevance to the target combined with its
    mean redundancy with the features already selected, either as a quotient
    (``relevance / redundancy``) or a difference (``relevance - redundancy``).

    With the defaults (``relevance="f"``, ``redundancy="pearson"``,
    ``scheme="quotient"``) this is the F-test correlation quotient (FCQ) of
    Ding and Peng, the default of the ``mrmr_selection`` package, and selects
    the same features as ``mrmr.mrmr_classif(X, y, K)`` in a fraction of the time
    (one vectorised pass per selected feature instead of one per feature pair).
    With ``relevance="mi", redundancy="mi"`` it is Peng's mutual-information
    scheme (MIQ with ``scheme="quotient"``, MID with ``scheme="difference"``).

    Parameters
    ----------
    n_features_to_select : int, default=10
        Number of features to select. Fewer are selected when fewer features
        have a relevance above zero (a warning says so).
    relevance : {"f", "mi"}, default="f"
        Relevance of a feature to the target: ``"f"``, the ANOVA F-statistic
        computed on the feature's non-missing rows; ``"mi"``, the mutual
        information (nats) between the feature discretised into ``n_bins``
        equal-frequency bins and the class.
    redundancy : {"pearson", "mi"}, default="pearson"
        Redundancy between two features: ``"pearson"``, the absolute Pearson
        correlation on their pairwise-complete rows; ``"mi"``, the mutual
        information between the two discretised features.
    scheme : {"quotient", "difference"}, default="quotient"
        How relevance and mean redundancy are combined. In the quotient scheme
        the mean redundancy is floored at 0.001 (each redundancy first is), and a
        mean Pearson redundancy of exactly 1 (a duplicate of every selected
        feature) makes the score 0, both as in ``mrmr_selection``.
    n_bins : int, default=5
        Number of equal-frequency bins per feature when ``relevance`` or
        ``redundancy`` is ``"mi"``; missing values form a bin of their own.
        Ignored otherwise.

    Attributes
    ----------
    relevance_ : ndarray of shape (n_features_in_,)
        Relevance of every feature (0 for constant features).
    selection_order_ : ndarray of shape (n_selected,)
        Indices of the selected features, in the order they were selected.
    scores_ : ndarray of shape (n_selected,)
        The mRMR score of each selected feature when it was selected.
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the selected features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    radsarc.feature_selection.CorrelationFilter : Drop one of each correlated pair.
    sklearn.feature_selection.SelectKBest : Relevance only, no redundancy.

    Notes
    -----
    Missing values are allowed: relevance and correlations use the available
    rows, as ``mrmr_selection`` does. Features with zero relevance (constant
    features, among others) are never selected. Differences from
    ``mrmr_selection``: correlations are computed with vectorised sums rather
    than one ``numpy.dot`` per pair, so scores can differ in the last bits;
    a feature constant on its non-missing rows always gets relevance 0 (in
    ``mrmr_selection`` floating-point rounding can give it a spurious F).

    References
    ----------
    .. [1] H. Peng, F. Long, C. Ding, "Feature selection based on mutual
       information: criteria of max-dependency, max-relevance, and
       min-redundancy", IEEE TPAMI 27(8):1226-1238, 2005.
    .. [2] C. Ding, H. Peng, "Minimum redundancy feature selection from
       microarray gene expression data", J Bioinform Comput Biol 3(2):185-205, 2005.
    .. [3] S. Mazzanti, mrmr_selection, https://github.com/smazzanti/mrmr

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.feature_selection import MRMRSelector
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> signal = y + rng.normal(scale=0.5, size=40)
    >>> near_copy = signal + rng.normal(scale=0.3, size=40)
    >>> noise = rng.normal(size=40)
    >>> other = y + rng.normal(scale=0.5, size=40)
    >>> X = np.column_stack([signal, near_copy, noise, other])
    >>> selector = MRMRSelector(n_features_to_select=2).fit(X, y)
    >>> selector.relevance_.round(1)  # the near copy is more relevant than `other`
    array([79.2, 46.6,  0.3, 28.9])
    >>> selector.selection_order_  # but redundant with the first pick
    array([0, 3])
    """

    _parameter_constraints: dict = {
        "n_features_to_select": [Interval(Integral, 1, None, closed="left")],
        "relevance": [StrOptions({"f", "mi"})],
        "redundancy": [StrOptions({"pearson", "mi"})],
        "scheme": [StrOptions({"quotient", "difference"})],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        n_features_to_select=10,
        relevance="f",
        redundancy="pearson",
        scheme="quotient",
        n_bins=5,
    ):
        self.n_features_to_select = n_features_to_select
        self.relevance = relevance
        self.redundancy = redundancy
        self.scheme = scheme
        self.n_bins = n_bins

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Select features by mRMR.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; may contain NaN.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : MRMRSelector
            The fitted selector.
        """
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64
        )
        check_classification_targets(y)
        classes, y_codes = np.unique(y, return_inverse=True)
        valid = ~np.isnan(X)
        X0 = np.where(valid, X, 0.0)
        n_features = X.shape[1]

        codes = None
        if "mi" in (self.relevance, self.redundancy):
            codes = _discretise(X, valid, self.n_bins)
        if self.relevance == "f":
            relevance = _f_statistic(X0, valid, y_codes, classes.size)
        else:
            relevance = _mutual_info(codes, y_codes, self.n_bins + 1, classes.size)
        if self.redundancy == "pearson":
            redundancy_of = _PearsonRedundancy(X0, valid)
        else:

            def redundancy_of(column):
                return _mutual_info(
                    codes, codes[:, column], self.n_bins + 1, self.n_bins + 1
                )

        candidates = np.flatnonzero(relevance > 0)
        n_select = min(self.n_features_to_select, candidates.size)
        if n_select < self.n_features_to_select:
            warnings.warn(
                f"MRMRSelector: only {candidates.size} of {n_features} features have "
                f"a relevance above 0; selecting {n_select} instead of "
                f"n_features_to_select={self.n_features_to_select}.",
                UserWarning,
                stacklevel=2,
            )
        relevance_c = relevance[candidates]
        quotient = self.scheme == "quotient"
        # redundancy of every candidate with each selected feature, in order
        redundancy = np.empty((candidates.size, n_select))
        available = np.ones(candidates.size, dtype=bool)
        order = []
        scores = []
        for i in range(n_select):
            if i == 0:
                score = relevance_c.copy()
            else:
                red = redundancy_of(candidates[order[-1]])[candidates]
                red = np.where(np.isnan(red), 0.0, red)
                if quotient:
                    red = np.maximum(red, FLOOR)
                redundancy[:, i - 1] = red
                mean_red = np.mean(redundancy[:, :i], axis=1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    if quotient:
                        if self.redundancy == "pearson":
                            mean_red = np.where(mean_red == 1.0, np.inf, mean_red)
                        score = relevance_c / mean_red
                    else:
                        score = relevance_c - mean_red
            score = np.where(available & ~np.isnan(score), score, -np.inf)
            best = int(np.argmax(score))
            available[best] = False
            order.append(best)
            scores.append(score[best])
        self.relevance_ = relevance
        self.selection_order_ = candidates[np.asarray(order, dtype=int)]
        self.scores_ = np.asarray(scores, dtype=np.float64)
        support = np.zeros(n_features, dtype=bool)
        support[self.selection_order_] = True
        self.support_ = support
        logger.debug("MRMRSelector selected %s", self.selection_order_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = True
        return tags
