"""Stratified percentile-bootstrap confidence intervals on one test set."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from radsarc.evaluation._metrics import binary_metrics

__all__ = ["bootstrap_ci"]


def bootstrap_ci(
    y_true,
    y_score,
    threshold,
    *,
    n_bootstraps: int = 1000,
    confidence_level: float = 0.95,
    random_state=None,
) -> dict[str, tuple[float, float]]:
    """Percentile-bootstrap CIs of every metric on one test set.

    Cases are resampled with replacement within each class (stratified), so every
    replicate has both classes and the class balance of the test set; the cut-off
    stays fixed (it was chosen on the training data). ``threshold`` may be one
    value, None (cut-off-free metrics only) or one value per case (pooled test
    predictions of several splits, each with its own cut-off).

    Returns
    -------
    cis : dict of str to (low, high)
        One interval per metric of :func:`binary_metrics`.

    References
    ----------
    Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall, 1993.
    """
    if n_bootstraps < 10:
        raise ValueError(f"n_bootstraps must be at least 10; got {n_bootstraps!r}.")
    y_true = np.asarray(y_true).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    rng = check_random_state(random_state)
    per_case = threshold is not None and np.ndim(threshold) == 1
    if per_case:
        threshold = np.asarray(threshold, dtype=float)
    pos = np.flatnonzero(y_true == 1)
    neg = np.flatnonzero(y_true == 0)
    draws: dict[str, list[float]] = {}
    for _ in range(n_bootstraps):
        idx = np.concatenate(
            [
                rng.choice(pos, pos.size, replace=True),
                rng.choice(neg, neg.size, replace=True),
            ]
        )
        thr = threshold[idx] if per_case else threshold
        for name, value in binary_metrics(y_true[idx], y_score[idx], thr).items():
            draws.setdefault(name, []).append(value)
    alpha = (1 - confidence_level) / 2
    out = {}
    for name, values in draws.items():
        arr = np.asarray(values, dtype=float)
        arr = arr[~np.isnan(arr)]
        if arr.size == 0:
            out[name] = (float("nan"), float("nan"))
        else:
            out[name] = (
                float(np.quantile(arr, alpha)),
                float(np.quantile(arr, 1 - alpha)),
            )
    return out
