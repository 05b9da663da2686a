"""LASSO (L1-penalised logistic regression) feature selection."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from radsarc.feature_selection._base import (
    _check_classes,
    _keep_best,
    _SupportMaskMixin,
)

__all__ = ["LassoSelector"]

logger = logging.getLogger(__name__)


class LassoSelector(_SupportMaskMixin, SelectorMixin, BaseEstimator):
    """Keep the features with a non-zero L1-penalised logistic-regression weight.

    The LASSO selection used throughout radiomics: fit a logistic regression with
    an L1 penalty of inverse strength ``C`` and keep the features whose
    coefficient is not zero. With ``cv`` set, ``C`` is chosen among ``Cs`` by an
    inner cross-validation on the training data (as ``glmnet``'s ``cv.glmnet``
    does for radiomics papers written in R).

    Parameters
    ----------
    C : float, default=1.0
        Inverse penalty strength; smaller keeps fewer features. Ignored when
        ``cv`` is set.
    cv : int, cross-validation generator or None, default=None
        When set, choose ``C`` among ``Cs`` by cross-validated ``scoring``
        (:class:`sklearn.linear_model.LogisticRegressionCV`).
    Cs : int or list of float, default=10
        Candidate values of ``C`` (an int ``n`` means ``n`` values on a
        logarithmic grid between 1e-4 and 1e4). Used only with ``cv``.
    scoring : str, default="roc_auc"
        Score that picks ``C`` in the inner cross-validation.
    max_features : int or None, default=None
        Keep at most this many features: those with the largest absolute
        coefficients among the non-zero ones.
    min_features : int or None, default=None
        Keep at least this many features: when the penalty leaves fewer non-zero
        coefficients (common on small training folds), ``C`` is doubled until it
        does (at most 30 doublings), following the L1 path as glmnet users do
        when they move from ``lambda.1se`` towards ``lambda.min``. ``C_`` records
        the penalty used. None: keep what the penalty gives, possibly nothing.
    class_weight : dict, "balanced" or None, default=None
        Class weights of the logistic regression.
    max_iter : int, default=1000
        Maximum solver iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the solver's coordinate shuffling.

    Attributes
    ----------
    estimator_ : LogisticRegression or LogisticRegressionCV
        The fitted L1-penalised model.
    C_ : float
        The penalty used (``C``, or the one chosen by cross-validation).
    coef_ : ndarray of shape (n_features_in_,)
        Coefficients (largest absolute value over classes for more than two
        classes).
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the selected features.
    n_iter_ : int
        Number of solver iterations (the largest over classes and folds).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.feature_selection.SelectFromModel : The generic version.

    Notes
    -----
    The penalty acts on the coefficients on the features' own scale: standardise
    the features first (the radsarc pipelines do). Binary problems use the
    ``liblinear`` solver, more classes ``saga``. If no coefficient is non-zero, a
    warning is raised and no feature is selected.

    References
    ----------
    .. [1] R. Tibshirani, "Regression shrinkage and selection via the lasso",
       J R Stat Soc B 58(1):267-288, 1996.

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.feature_selection import LassoSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = (X[:, 1] - X[:, 3] > 0).astype(int)
    >>> LassoSelector(C=0.1).fit(X, y).get_support(indices=True)
    array([1, 3])
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "cv": ["cv_object", None],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "scoring": [str],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "min_features": [Interval(Integral, 1, None, closed="left"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        C=1.0,
        cv=None,
        Cs=10,
        scoring="roc_auc",
        max_features=None,
        min_features=None,
        class_weight=None,
        max_iter=1000,
        random_state=None,
    ):
        self.C = C
        self.cv = cv
        self.Cs = Cs
        self.scoring = scoring
        self.max_features = max_features
        self.min_features = min_features
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the L1-penalised logistic regression and keep its non-zero weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (standardised).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : LassoSelector
            The fitted selector.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if (
            self.min_features is not None
            and self.max_features is not None
            and (self.min_features > self.max_features)
        ):
            raise ValueError(
                f"LassoSelector: min_features={self.min_features} is larger than "
                f"max_features={self.max_features}; expected min <= max."
            )

        n_classes = _check_classes(y, "LassoSelector").size
        solver = "liblinear" if n_classes <= 2 else "saga"
        common = {
            "solver": solver,
            "class_weight": self.class_weight,
            "max_iter": self.max_iter,
            "random_state": self.random_state,
        }
        if self.cv is None:
            estimator = LogisticRegression(C=self.C, l1_ratio=1.0, **common)
            estimator.fit(X, y)
            self.C_ = float(self.C)
        else:
            estimator = LogisticRegressionCV(
                Cs=self.Cs,
                cv=self.cv,
                l1_ratios=(1.0,),
                scoring=self.scoring,
                use_legacy_attributes=False,
                **common,
            )
            estimator.fit(X, y)
            self.C_ = float(np.ravel(estimator.C_)[0])
        self.estimator_ = estimator
        self.n_iter_ = int(np.max(estimator.n_iter_))
        coef = np.abs(estimator.coef_).max(axis=0)
        self.coef_ = (
            estimator.coef_[0] if estimator.coef_.shape[0] == 1 else coef.copy()
        )
        support = coef > 0
        wanted = min(self.min_features or 0, X.shape[1])
        doublings = 0
        while support.sum() < wanted and doublings < 30:
            doublings += 1
            self.C_ *= 2.0
            estimator = LogisticRegression(C=self.C_, l1_ratio=1.0, **common)
            estimator.fit(X, y)
            coef = np.abs(estimator.coef_).max(axis=0)
            support = coef > 0
        if doublings:
            self.estimator_ = estimator
            self.n_iter_ = int(np.max(estimator.n_iter_))
            self.coef_ = (
                estimator.coef_[0] if estimator.coef_.shape[0] == 1 else coef.copy()
            )
            logger.debug(
                "LassoSelector: C raised to %g for %d features", self.C_, wanted
            )
        support = _keep_best(support, -coef, self.max_features)
        if not support.any():
            warnings.warn(
                f"LassoSelector: no coefficient is non-zero with C={self.C_:g}; no "
                "feature is selected. Increase C (or widen Cs).",
                UserWarning,
                stacklevel=2,
            )
        self.support_ = support
        logger.debug("LassoSelector kept %d features (C=%g)", support.sum(), self.C_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
