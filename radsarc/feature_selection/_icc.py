"""Stability filter: keep the features whose ICC reaches a threshold."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from radsarc.feature_selection._base import _SupportMaskMixin

__all__ = ["ICCFilter"]

logger = logging.getLogger(__name__)


class ICCFilter(_SupportMaskMixin, SelectorMixin, BaseEstimator):
    """Keep the features robust to segmentation: ICC at or above a threshold.

    The ICC of each feature is measured beforehand, across perturbed masks or
    readers (:func:`radsarc.features.robustness_icc`), and given to the filter;
    ``fit`` only matches it to the columns of ``X`` by name. The filter learns
    nothing from ``X`` or ``y``, so it cannot leak.

    Parameters
    ----------
    icc : DataFrame, Series or dict
        ICC per feature name: a table from
        :func:`~radsarc.features.robustness_icc` (column ``kind`` is used), a
        Series or a dict. When ``X`` has no column names, its features are named
        ``x0, x1, ...`` as in scikit-learn.
    threshold : float, default=0.75
        Smallest ICC kept (Koo & Li 2016: 0.75 and above is "good" reliability).
    kind : str, default="ICC(2,1)"
        The column of ``icc`` to use when it is a DataFrame.
    missing : {"error", "drop", "keep"}, default="error"
        What to do with a feature of ``X`` that ``icc`` has no value for.

    Attributes
    ----------
    icc_ : ndarray of shape (n_features_in_,)
        The ICC of each column of ``X`` (NaN where unknown or undefined).
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the kept features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    radsarc.features.robustness_icc : Computes the ICC table.
    radsarc.harmonisation.ComBat : Removes centre and scanner effects.

    Notes
    -----
    A feature whose ICC is NaN (undefined: constant over every case and rater)
    is dropped: its robustness cannot be shown.

    References
    ----------
    Peeken JC, Spraker MB, Knebel C, et al. Tumor grading of soft tissue sarcomas
    using MRI-based radiomics. EBioMedicine. 2019;48:332-340.

    Examples
    --------
    >>> import pandas as pd
    >>> from radsarc.feature_selection import ICCFilter
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    >>> ICCFilter(icc={"a": 0.9, "b": 0.4}).fit(X).get_feature_names_out().tolist()
    ['a']
    """

    _parameter_constraints: dict = {
        "icc": [pd.DataFrame, pd.Series, Mapping],
        "threshold": [Interval(Real, None, 1, closed="right")],
        "kind": [str],
        "missing": [StrOptions({"error", "drop", "keep"})],
    }

    def __init__(self, *, icc, threshold=0.75, kind="ICC(2,1)", missing="error"):
        self.icc = icc
        self.threshold = threshold
        self.kind = kind
        self.missing = missing

    def _table(self) -> pd.Series:
        icc = self.icc
        if isinstance(icc, pd.DataFrame):
            if self.kind not in icc.columns:
                raise ValueError(
                    f"The icc table has no column {self.kind!r} (kind); its columns "
                    f"are {list(icc.columns)}."
                )
            icc = icc[self.kind]
        series = pd.Series(icc, dtype=float)
        series.index = series.index.astype(str)
        return series

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Match the ICC table to the columns of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training features (only their names are used).
        y : None
            Ignored.

        Returns
        -------
        self : ICCFilter
            The fitted filter.
        """
        validate_data(self, X, ensure_all_finite="allow-nan")
        names = (
            [str(n) for n in self.feature_names_in_]
            if hasattr(self, "feature_names_in_")
            else [f"x{i}" for i in range(self.n_features_in_)]
        )
        table = self._table()
        absent = [n for n in names if n not in table.index]
        if absent and self.missing == "error":
            raise ValueError(
                f"The ICC table has no value for {len(absent)} feature(s) of X, e.g. "
                f"{absent[:5]}; compute the ICC with the same extraction settings, "
                "or pass missing='drop' or missing='keep'."
            )
        icc = table.reindex(names).to_numpy(dtype=float)
        support = np.nan_to_num(icc, nan=-np.inf) >= self.threshold
        if self.missing == "keep":
            support |= ~np.isin(names, table.index)
        self.icc_ = icc
        self.support_ = support
        logger.debug(
            "ICCFilter kept %d of %d features (threshold %s)",
            int(support.sum()),
            support.size,
            self.threshold,
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags
