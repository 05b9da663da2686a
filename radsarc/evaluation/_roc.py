"""Mean ROC curve over splits with a pointwise confidence band."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as student_t
from sklearn.metrics import roc_curve
from sklearn.utils import check_random_state

__all__ = ["roc_band"]


def _tpr_on_grid(y_true, y_score, grid) -> np.ndarray:
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return np.interp(grid, fpr, tpr)


def roc_band(
    result,
    *,
    n_points: int = 101,
    confidence_level: float = 0.95,
    n_bootstraps: int = 500,
    random_state=0,
) -> pd.DataFrame:
    """Mean test ROC curve of an evaluation with a pointwise confidence band.

    Each split's ROC curve is interpolated (vertical averaging) on a grid of
    false-positive rates. With several resampled splits the band is the
    Nadeau-Bengio corrected t-interval of the mean TPR at each FPR (the same
    correction as the AUC's CI); with one test set (or external validation) it
    is the percentile band of stratified bootstrap replicates of the test set.
    The band is clipped to [0, 1].

    Parameters
    ----------
    result : EvaluationResult

    Returns
    -------
    band : DataFrame
        Columns ``fpr``, ``tpr``, ``low``, ``high``.

    References
    ----------
    Fawcett T. An introduction to ROC analysis. Pattern Recognit Lett
    2006;27:861-874 (vertical averaging).
    """
    grid = np.linspace(0, 1, n_points)
    preds = result.predictions
    per_split = [
        _tpr_on_grid(g["y_true"].to_numpy(), g["y_score"].to_numpy(), grid)
        for _, g in preds.groupby("split")
        if g["y_true"].nunique() == 2
    ]
    if not per_split:
        raise ValueError("No split has both classes in its test part; no ROC curve.")
    curves = np.vstack(per_split)
    resampling = result.scheme["scheme"] in ("repeated", "nested", "splits")
    if resampling and len(curves) >= 2:
        mean = curves.mean(axis=0)
        j = len(curves)
        se = np.sqrt(
            (1 / j + result.n_test / result.n_train) * curves.var(axis=0, ddof=1)
        )
        half = student_t.ppf(0.5 + confidence_level / 2, j - 1) * se
        low, high = mean - half, mean + half
    else:
        y = preds["y_true"].to_numpy().astype(int)
        s = preds["y_score"].to_numpy()
        mean = _tpr_on_grid(y, s, grid)
        rng = check_random_state(random_state)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        boots = np.empty((n_bootstraps, grid.size))
        for b in range(n_bootstraps):
            idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
            boots[b] = _tpr_on_grid(y[idx], s[idx], grid)
        alpha = (1 - confidence_level) / 2
        low, high = (
            np.quantile(boots, alpha, axis=0),
            np.quantile(boots, 1 - alpha, axis=0),
        )
    mean[0] = 0.0 if mean[0] < 0 else mean[0]
    return pd.DataFrame(
        {
            "fpr": grid,
            "tpr": mean,
            "low": np.clip(low, 0, 1),
            "high": np.clip(high, 0, 1),
        }
    )
