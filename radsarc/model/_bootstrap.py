"""Logistic regression averaged over imbalance-adjusted bootstrap samples."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["BootstrapLogisticRegression"]

logger = logging.getLogger(__name__)

#: Newton iterations stop when no coefficient moves by more than this.
_NEWTON_TOL = 1e-10


def _newton_binary(X, y, weights, C, max_iter):
    """Minimise ``sum_i w_bi loss_i(beta_b) + ||coef_b||^2 / (2 C)`` for every
    row ``b`` of ``weights`` at once (intercept not penalised), by damped Newton.

    Returns ``(coef (B, p), intercept (B,), iterations)``.
    """
    n_boot = weights.shape[0]
    Xa = np.column_stack([X, np.ones(X.shape[0])])
    penalty = np.r_[np.full(X.shape[1], 1.0 / C), 0.0]

    def objective(beta, w):
        eta = beta @ Xa.T
        loss = np.logaddexp(0.0, eta) - y * eta
        return (w * loss).sum(axis=1) + 0.5 * (penalty * beta**2).sum(axis=1)

    beta = np.zeros((n_boot, Xa.shape[1]))
    value = objective(beta, weights)
    active = np.ones(n_boot, dtype=bool)
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        b, w = beta[active], weights[active]
        prob = expit(b @ Xa.T)
        grad = (w * (prob - y)) @ Xa + penalty * b
        hess = np.einsum("bn,ni,nj->bij", w * prob * (1.0 - prob), Xa, Xa)
        hess += np.diag(penalty)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        # Halve the step of a bootstrap while its objective does not decrease.
        scale = np.ones(b.shape[0])
        old = value[active]
        new = objective(b - step, w)
        for _ in range(30):
            worse = new > old + 1e-12 * np.abs(old)
            if not worse.any():
                break
            scale[worse] /= 2.0
            new[worse] = objective(
                b[worse] - scale[worse, None] * step[worse], w[worse]
            )
        moved = scale[:, None] * step
        beta[active] = b - moved
        value[active] = new
        done = np.abs(moved).max(axis=1) <= _NEWTON_TOL * (1.0 + np.abs(b).max(axis=1))
        idx = np.flatnonzero(active)
        active[idx[done]] = False
        if not active.any():
            break
    else:
        warnings.warn(
            f"BootstrapLogisticRegression: Newton iterations did not converge on "
            f"{int(active.sum())} of {n_boot} bootstrap samples within max_iter="
            f"{max_iter}; increase max_iter or lower C.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return beta[:, :-1], beta[:, -1], n_iter


class BootstrapLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression with coefficients averaged over balanced bootstraps.

    The multivariable modelling of Vallieres et al. (2015): ``n_bootstrap``
    bootstrap samples are drawn (with replacement, within each class, so that every
    sample holds every class in its original proportion); on each, a logistic
    regression is fitted with the instances weighted so that the classes weigh
    the same (imbalance adjustment). The final model's coefficients and
    intercept are the means over the bootstrap fits.

    Parameters
    ----------
    n_bootstrap : int, default=100
        Number of bootstrap samples (Vallieres et al. used 1000).
    C : float, default=1.0
        Inverse L2 penalty of each logistic regression; ``numpy.inf`` for none.
    max_iter : int, default=1000
        Maximum solver iterations of each fit (Newton iterations for two classes).
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap draws.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features_in_) or (n_classes, n_features_in_)
        Mean coefficients over the bootstrap fits.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Mean intercepts over the bootstrap fits.
    coef_std_ : ndarray of the shape of ``coef_``
        Standard deviation of the coefficients over the bootstrap fits.
    n_iter_ : int
        Largest number of solver iterations over the bootstrap fits.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : One fit on the data as given.

    Notes
    -----
    With two classes and a finite ``C``, all bootstrap fits are solved together:
    a bootstrap sample is the data with each case weighted by how often it was
    drawn (times the class weight ``n / (2 n_k)``), and damped Newton iterations
    minimise ``sum_i w_i log-loss_i + ||coef||^2 / (2 C)`` for every sample at
    once until no coefficient moves by more than 1e-10 (relative). This is the
    objective of ``LogisticRegression(C=C, class_weight="balanced")`` on the
    drawn rows, solved more tightly than its lbfgs default. With more classes
    (or ``C=inf``) each sample is fitted by ``LogisticRegression``.

    References
    ----------
    .. [1] M. Vallieres, C. R. Freeman, S. R. Skamene, I. El Naqa, "A radiomics
       model from joint FDG-PET and MRI texture features for the prediction of
       lung metastases in soft-tissue sarcomas of the extremities", Phys Med
       Biol 60(14):5471-5496, 2015. doi:10.1088/0031-9155/60/14/5471

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.model import BootstrapLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0.8).astype(int)
    >>> clf = BootstrapLogisticRegression(n_bootstrap=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape, bool(clf.coef_[0, 0] > clf.coef_[0, 1])
    ((40, 2), True)
    """

    _parameter_constraints: dict = {
        "n_bootstrap": [Interval(Integral, 1, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_bootstrap=100, C=1.0, max_iter=1000, random_state=None):
        self.n_bootstrap = n_bootstrap
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit one logistic regression per balanced bootstrap sample and average.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : BootstrapLogisticRegression
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                "BootstrapLogisticRegression needs at least 2 classes in y; got 1 "
                f"class: {self.classes_.tolist()}."
            )
        rng = check_random_state(self.random_state)
        members = [np.flatnonzero(y_codes == k) for k in range(self.classes_.size)]
        draws = [
            np.concatenate([rng.choice(m, size=m.size) for m in members])
            for _ in range(self.n_bootstrap)
        ]
        if self.classes_.size == 2 and np.isfinite(self.C):
            # A bootstrap sample is the data with each case weighted by how often
            # it was drawn; "balanced" multiplies by n / (2 n_k), the same in every
            # sample (each class keeps its size). All samples are solved together.
            counts = np.array([np.bincount(i, minlength=y.size) for i in draws])
            balance = y.size / (2.0 * np.bincount(y_codes))
            coefs, intercepts, n_iter = _newton_binary(
                X, y_codes, counts * balance[y_codes], self.C, self.max_iter
            )
            self.coef_ = coefs.mean(axis=0, keepdims=True)
            self.coef_std_ = coefs.std(axis=0, keepdims=True)
            self.intercept_ = intercepts.mean(keepdims=True)
            self.n_iter_ = int(n_iter)
            return self
        coefs, intercepts, n_iter = [], [], 0
        for index in draws:
            model = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=self.max_iter
            )
            model.fit(X[index], y_codes[index])
            coefs.append(model.coef_)
            intercepts.append(model.intercept_)
            n_iter = max(n_iter, int(np.max(model.n_iter_)))
        coefs = np.asarray(coefs)
        self.coef_ = coefs.mean(axis=0)
        self.coef_std_ = coefs.std(axis=0)
        self.intercept_ = np.asarray(intercepts).mean(axis=0)
        self.n_iter_ = n_iter
        return self

    def decision_function(self, X):
        """Linear score of the averaged model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Log-odds of the second class (binary) or one score per class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities of the averaged model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
