"""DeLong's test for two correlated ROC AUCs (fast midrank algorithm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = ["DeLongResult", "delong_covariance", "delong_test"]


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    z = x[order]
    n = z.size
    t = np.empty(n, dtype=float)
    i = 0
    while i < n:
        j = i
        while j < n and z[j] == z[i]:
            j += 1
        t[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    out = np.empty(n, dtype=float)
    out[order] = t
    return out


def delong_covariance(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of several scores on the same cases and DeLong's covariance matrix.

    Uses the midrank formulation of Sun and Xu (2014), O(n log n) per score.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels with both classes present.
    scores : array-like of shape (n_scores, n_samples)
        One row per model.

    Returns
    -------
    aucs : ndarray of shape (n_scores,)
    covariance : ndarray of shape (n_scores, n_scores)

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 1988;44:837-845.
    Sun X, Xu W. Fast implementation of DeLong's algorithm for comparing the areas
    under correlated receiver operating characteristic curves. IEEE Signal Process
    Lett 2014;21:1389-1393.
    """
    y_true = np.asarray(y_true).astype(int)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    if scores.shape[1] != y_true.size:
        raise ValueError(
            f"scores has {scores.shape[1]} columns but y_true has {y_true.size} cases."
        )
    pos = scores[:, y_true == 1]
    neg = scores[:, y_true == 0]
    m, n = pos.shape[1], neg.shape[1]
    if m < 2 or n < 2:
        raise ValueError(
            "DeLong's variance needs at least two positive and two negative cases; "
            f"got {m} positive and {n} negative."
        )
    k = scores.shape[0]
    tx = np.vstack([_midranks(pos[r]) for r in range(k)])
    ty = np.vstack([_midranks(neg[r]) for r in range(k)])
    tz = np.vstack([_midranks(np.concatenate([pos[r], neg[r]])) for r in range(k)])
    aucs = tz[:, :m].sum(axis=1) / (m * n) - (m + 1.0) / (2.0 * n)
    v01 = (tz[:, :m] - tx) / n  # structural components of the positive cases
    v10 = 1.0 - (tz[:, m:] - ty) / m  # ... of the negative cases
    sx = np.atleast_2d(np.cov(v01))
    sy = np.atleast_2d(np.cov(v10))
    return aucs, sx / m + sy / n


@dataclass(frozen=True)
class DeLongResult:
    """Result of :func:`delong_test`."""

    auc_a: float
    auc_b: float
    difference: float
    standard_error: float
    z: float
    p_value: float


def delong_test(y_true, score_a, score_b) -> DeLongResult:
    """Two-sided DeLong test that two models have the same AUC on the same cases.

    Examples
    --------
    >>> r = delong_test([0, 0, 0, 1, 1, 1], [.1, .2, .6, .4, .8, .9],
    ...                 [.3, .1, .2, .9, .5, .4])
    >>> round(r.auc_a, 3), round(r.auc_b, 3)
    (0.889, 1.0)
    """
    aucs, cov = delong_covariance(y_true, np.vstack([score_a, score_b]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = float(np.sqrt(max(var, 0.0)))
    if se == 0.0:
        z = 0.0 if diff == 0.0 else float(np.sign(diff) * np.inf)
    else:
        z = diff / se
    p = float(2 * norm.sf(abs(z)))
    return DeLongResult(float(aucs[0]), float(aucs[1]), diff, se, z, p)
