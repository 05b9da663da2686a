"""Penalised Cox models for time to metastasis or recurrence.

:class:`CoxnetCV` wraps scikit-survival's elastic-net Cox model
(:class:`sksurv.linear_model.CoxnetSurvivalAnalysis`) and chooses the penalty
on its own training rows by an inner cross-validated concordance index, so that
it can sit in a pipeline evaluated by outer cross-validation. See
``docs/survival.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from sksurv.base import SurvivalAnalysisMixin
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.metrics import concordance_index_censored
from sksurv.util import check_array_survival

__all__ = ["CoxnetCV", "make_cox_pipeline"]

logger = logging.getLogger(__name__)


class CoxnetCV(SurvivalAnalysisMixin, BaseEstimator):
    """Elastic-net Cox model with the penalty chosen by inner cross-validation.

    Fits the regularisation path of
    :class:`sksurv.linear_model.CoxnetSurvivalAnalysis` on the rows given to
    ``fit``, scores every penalty ``alpha`` of the path by the mean Harrell
    concordance index over ``cv`` inner folds (stratified on the event), and
    keeps the coefficients of the best ``alpha``. LASSO is ``l1_ratio=1``.

    Parameters
    ----------
    l1_ratio : float, default=0.5
        Elastic-net mixing in (0, 1]; 1 is the LASSO.
    n_alphas : int, default=30
        Number of penalties on the path.
    alpha_min_ratio : float, default=0.05
        Smallest penalty as a fraction of the largest (which selects nothing).
    cv : int, default=5
        Inner folds that choose ``alpha``.
    unpenalized : list of str or int, or None, default=None
        Columns fitted without penalty (e.g. clinical covariates that must stay
        in the model), by name (DataFrame input) or position.
    max_iter : int, default=100000
        Coordinate-descent iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the inner folds' shuffling.

    Attributes
    ----------
    estimator_ : CoxnetSurvivalAnalysis
        The path fitted on all rows given to ``fit``.
    alpha_ : float
        The chosen penalty.
    coef_ : ndarray of shape (n_features_in_,)
        Log hazard ratios per unit of each (standardised) input column.
    cv_results_ : DataFrame
        ``alpha``, ``mean_c_index``, ``std_c_index``, ``n_nonzero`` per penalty.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    make_cox_pipeline : imputation, standardisation and this model.
    radsarc.evaluation.evaluate_survival : cross-validated c-index and
        time-dependent AUC.

    Notes
    -----
    ``predict`` returns the linear predictor (log relative hazard); higher
    means earlier events. The target is a structured array of (event, time),
    e.g. ``sksurv.util.Surv.from_arrays(event, time)``.

    References
    ----------
    Simon N, Friedman J, Hastie T, Tibshirani R. Regularization paths for Cox's
    proportional hazards model via coordinate descent. J Stat Softw.
    2011;39(5):1-13.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from radsarc.model import CoxnetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 6))
    >>> time = rng.exponential(np.exp(-X[:, 0]))
    >>> y = Surv.from_arrays(rng.random(80) < 0.8, time)
    >>> model = CoxnetCV(l1_ratio=1.0, random_state=0).fit(X, y)
    >>> bool(model.coef_[0] > 0.3), round(float(model.score(X, y)), 1)
    (True, 0.8)
    """

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "n_alphas": [Interval(Integral, 2, None, closed="left")],
        "alpha_min_ratio": [Interval(Real, 0, 1, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "unpenalized": ["array-like", None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        l1_ratio: float = 0.5,
        n_alphas: int = 30,
        alpha_min_ratio: float = 0.05,
        cv: int = 5,
        unpenalized: Sequence | None = None,
        max_iter: int = 100000,
        random_state=None,
    ):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.cv = cv
        self.unpenalized = unpenalized
        self.max_iter = max_iter
        self.random_state = random_state

    def _penalty_factor(self, n_features: int) -> np.ndarray:
        factor = np.ones(n_features)
        names = getattr(self, "feature_names_in_", None)
        for col in self.unpenalized or []:
            if isinstance(col, str):
                if names is None or col not in set(names):
                    raise ValueError(
                        f"unpenalized column {col!r} is not a column of X "
                        f"({'no column names' if names is None else 'not found'})."
                    )
                factor[np.flatnonzero(names == col)[0]] = 0.0
            elif isinstance(col, Integral) and 0 <= col < n_features:
                factor[int(col)] = 0.0
            else:
                raise ValueError(
                    f"unpenalized must hold column names or positions < "
                    f"{n_features}; got {col!r}."
                )
        if not factor.any():
            raise ValueError("At least one column must be penalised.")
        return factor

    def _path(self, alphas, factor):
        return CoxnetSurvivalAnalysis(
            l1_ratio=self.l1_ratio,
            n_alphas=self.n_alphas,
            alphas=alphas,
            alpha_min_ratio=self.alpha_min_ratio,
            penalty_factor=factor,
            max_iter=self.max_iter,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the path, choose ``alpha`` by inner cross-validation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Standardised features (see :func:`make_cox_pipeline`).
        y : structured array of shape (n_samples,)
            Event indicator (bool) and time, e.g. from ``sksurv.util.Surv``.

        Returns
        -------
        self : CoxnetCV
        """
        X = validate_data(self, X, dtype=np.float64)
        event, time = check_array_survival(X, y)
        if event.sum() < self.cv:
            raise ValueError(
                f"CoxnetCV needs at least cv={self.cv} events to choose alpha; got "
                f"{int(event.sum())} among {event.size} rows."
            )
        factor = self._penalty_factor(X.shape[1])
        self.estimator_ = self._path(None, factor).fit(X, y)
        alphas = self.estimator_.alphas_
        rng = check_random_state(self.random_state)
        folds = StratifiedKFold(
            n_splits=self.cv, shuffle=True, random_state=rng.randint(2**31 - 1)
        )
        scores = np.full((self.cv, alphas.size), np.nan)
        for i, (train, test) in enumerate(folds.split(X, event)):
            if not event[test].any():
                continue
            inner = self._path(alphas, factor).fit(X[train], y[train])
            risk = X[test] @ inner.coef_  # (n_test, n_alphas)
            for k in range(inner.coef_.shape[1]):
                if np.ptp(risk[:, k]) == 0:
                    scores[i, k] = 0.5
                else:
                    scores[i, k] = concordance_index_censored(
                        event[test], time[test], risk[:, k]
                    )[0]
        mean = np.nanmean(scores, axis=0)
        best = int(np.nanargmax(mean))  # first maximum: the largest such alpha
        self.alpha_ = float(alphas[best])
        self.coef_ = self.estimator_.coef_[:, best].copy()
        self.cv_results_ = pd.DataFrame(
            {
                "alpha": alphas,
                "mean_c_index": mean,
                "std_c_index": np.nanstd(scores, axis=0),
                "n_nonzero": np.count_nonzero(self.estimator_.coef_, axis=0),
            }
        )
        logger.debug(
            "CoxnetCV: alpha=%g, %d non-zero coefficients, inner c-index %.3f",
            self.alpha_,
            int(np.count_nonzero(self.coef_)),
            mean[best],
        )
        return self

    def predict(self, X):
        """Linear predictor (log relative hazard); higher = higher risk.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        risk : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_


def make_cox_pipeline(
    *,
    l1_ratio: float = 0.5,
    unpenalized: Sequence[str] | None = None,
    n_alphas: int = 30,
    cv: int = 5,
    random_state: int | None = 0,
) -> Pipeline:
    """Imputation, standardisation and an elastic-net Cox model.

    Parameters
    ----------
    l1_ratio : float, default=0.5
        Elastic-net mixing of :class:`CoxnetCV`; 1 is the LASSO.
    unpenalized : list of str or None, default=None
        Columns (e.g. clinical covariates) kept in the model without penalty.
    n_alphas : int, default=30
        Penalties on the path.
    cv : int, default=5
        Inner folds that choose the penalty.
    random_state : int or None, default=0
        Seed of the inner folds.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"imputer"`` (median), ``"scaler"`` and ``"cox"``; with pandas
        output, so that ``unpenalized`` names reach the model.

    Examples
    --------
    >>> from radsarc.model import make_cox_pipeline
    >>> [name for name, _ in make_cox_pipeline(l1_ratio=1.0).steps]
    ['imputer', 'scaler', 'cox']
    """
    pipeline = Pipeline(
        [
            ("imputer", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scaler", StandardScaler()),
            (
                "cox",
                CoxnetCV(
                    l1_ratio=l1_ratio,
                    unpenalized=unpenalized,
                    n_alphas=n_alphas,
                    cv=cv,
                    random_state=random_state,
                ),
            ),
        ]
    )
    return pipeline.set_output(transform="pandas")
