"""Nadeau-Bengio corrected resampled t-test and confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

__all__ = [
    "CorrectedTTestResult",
    "corrected_resampled_ci",
    "corrected_resampled_ttest",
]


def _corrected_se(values: np.ndarray, n_train: float, n_test: float) -> float:
    j = values.size
    return float(np.sqrt((1.0 / j + n_test / n_train) * np.var(values, ddof=1)))


def _check(values, n_train, n_test) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        raise ValueError(
            "The corrected resampled t-test needs at least two splits with a value; "
            f"got {values.size}."
        )
    if n_train <= 0 or n_test <= 0:
        raise ValueError(
            f"n_train and n_test must be positive; got {n_train!r} and {n_test!r}."
        )
    return values


def corrected_resampled_ci(
    values, n_train: float, n_test: float, confidence_level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of a metric over resampled splits with the Nadeau-Bengio corrected CI.

    The variance of the mean over J train/test splits that share cases is
    underestimated by ``s**2 / J``; Nadeau and Bengio replace it by
    ``(1/J + n_test/n_train) * s**2`` and use Student's t with J-1 degrees of
    freedom. NaN values (a metric undefined on a split) are skipped.

    Returns
    -------
    mean, low, high : float

    References
    ----------
    Nadeau C, Bengio Y. Inference for the generalization error. Machine Learning
    2003;52:239-281.
    Bouckaert RR, Frank E. Evaluating the replicability of significance tests for
    comparing learning algorithms. PAKDD 2004.

    Examples
    --------
    >>> corrected_resampled_ci([0.8, 0.7, 0.9, 0.8], n_train=80, n_test=20)
    (0.8, 0.616..., 0.983...)
    """
    values = _check(values, n_train, n_test)
    mean = float(values.mean())
    half = student_t.ppf(0.5 + confidence_level / 2, values.size - 1) * _corrected_se(
        values, n_train, n_test
    )
    return mean, float(mean - half), float(mean + half)


@dataclass(frozen=True)
class CorrectedTTestResult:
    """Result of :func:`corrected_resampled_ttest`."""

    mean_difference: float
    t: float
    p_value: float
    ci_low: float
    ci_high: float


def corrected_resampled_ttest(
    scores_a, scores_b, n_train: float, n_test: float, confidence_level: float = 0.95
) -> CorrectedTTestResult:
    """Compare two models evaluated on the same resampled splits (paired by split)."""
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            "scores_a and scores_b must have the same shape; got "
            f"{a.shape} and {b.shape}."
        )
    d = _check(a - b, n_train, n_test)
    se = _corrected_se(d, n_train, n_test)
    mean = float(d.mean())
    tval = (
        mean / se if se > 0 else (0.0 if mean == 0 else float(np.sign(mean) * np.inf))
    )
    p = float(2 * student_t.sf(abs(tval), d.size - 1))
    half = student_t.ppf(0.5 + confidence_level / 2, d.size - 1) * se
    return CorrectedTTestResult(mean, float(tval), p, mean - half, mean + half)
