"""Calibration: reliability curve, calibration slope and intercept."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CalibrationResult", "calibration", "reliability_curve"]

logger = logging.getLogger(__name__)
_EPS = 1e-6


def _check_probabilities(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, dtype=float)
    if y_prob.shape != y_true.shape:
        raise ValueError(
            f"y_true and y_prob must have the same shape; got {y_true.shape} and "
            f"{y_prob.shape}."
        )
    if np.any((y_prob < 0) | (y_prob > 1)) or np.any(np.isnan(y_prob)):
        raise ValueError(
            "Calibration needs predicted probabilities in [0, 1]; the scores given "
            "are not (use an estimator with predict_proba)."
        )
    return y_true, y_prob


def reliability_curve(
    y_true, y_prob, *, n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Observed event rate against mean predicted probability in bins.

    Parameters
    ----------
    n_bins : int, default=10
    strategy : {"quantile", "uniform"}, default="quantile"
        Quantile bins hold about the same number of cases; uniform bins split
        [0, 1] into equal widths. Empty bins are dropped.

    Returns
    -------
    curve : DataFrame
        Columns ``mean_predicted``, ``observed``, ``count``; one row per bin.
    """
    y_true, y_prob = _check_probabilities(y_true, y_prob)
    if strategy == "quantile":
        edges = np.unique(np.quantile(y_prob, np.linspace(0, 1, n_bins + 1)))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform'; got {strategy!r}.")
    bins = np.clip(
        np.searchsorted(edges[1:-1], y_prob, side="right"), 0, len(edges) - 2
    )
    rows = []
    for b in np.unique(bins):
        sel = bins == b
        rows.append(
            (float(y_prob[sel].mean()), float(y_true[sel].mean()), int(sel.sum()))
        )
    return pd.DataFrame(rows, columns=["mean_predicted", "observed", "count"])


def _logistic_fit(design: np.ndarray, y: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Unpenalised logistic regression by Newton-Raphson."""
    beta = np.zeros(design.shape[1])
    for _ in range(100):
        eta = design @ beta + offset
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        grad = design.T @ (y - p)
        hess = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return beta
    warnings.warn(
        "The calibration fit did not converge (the predictions may separate the "
        "classes perfectly); the calibration slope and intercept are unreliable.",
        RuntimeWarning,
        stacklevel=3,
    )
    return beta


@dataclass(frozen=True)
class CalibrationResult:
    """Calibration slope and intercept (calibration-in-the-large)."""

    slope: float
    intercept: float


def calibration(y_true, y_prob) -> CalibrationResult:
    """Calibration slope and intercept of predicted probabilities.

    With ``lp = logit(p)``, the slope is ``b`` in ``logit P(y=1) = a + b * lp``
    (1 is ideal; below 1 means the predictions are too extreme, typical of
    overfitting), and the intercept is ``a`` in ``logit P(y=1) = a + lp`` with
    ``lp`` as an offset (0 is ideal; above 0 means risks are underestimated).
    Probabilities are clipped to [1e-6, 1 - 1e-6] before the logit.

    References
    ----------
    Van Calster B, McLernon DJ, van Smeden M, et al. Calibration: the Achilles heel
    of predictive analytics. BMC Medicine 2019;17:230.
    Cox DR. Two further applications of a model for binary regression.
    Biometrika 1958;45:562-565.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 20000)
    >>> y = (rng.uniform(size=p.size) < p).astype(int)
    >>> c = calibration(y, p)
    >>> abs(c.slope - 1) < 0.1, abs(c.intercept) < 0.1
    (True, True)
    """
    y_true, y_prob = _check_probabilities(y_true, y_prob)
    if y_true.min() == y_true.max():
        raise ValueError("Calibration needs both classes in y_true.")
    lp = np.log(np.clip(y_prob, _EPS, 1 - _EPS) / (1 - np.clip(y_prob, _EPS, 1 - _EPS)))
    ones = np.ones((lp.size, 1))
    slope = _logistic_fit(np.column_stack([ones, lp]), y_true, np.zeros_like(lp))[1]
    intercept = _logistic_fit(ones, y_true, lp)[0]
    return CalibrationResult(float(slope), float(intercept))
