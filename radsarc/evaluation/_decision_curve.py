"""Decision-curve analysis (net benefit across threshold probabilities)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["decision_curve"]


def decision_curve(y_true, y_prob, thresholds=None) -> pd.DataFrame:
    """Net benefit of the model, of treating everyone and of treating no one.

    At threshold probability ``pt`` a case is treated when ``y_prob >= pt`` and

        net benefit = TP/n - FP/n * pt / (1 - pt);

    treating everyone has ``prevalence - (1 - prevalence) * pt / (1 - pt)``;
    treating no one has 0.

    Parameters
    ----------
    thresholds : array-like, default=None
        Threshold probabilities in (0, 1); default 0.01, 0.02, ..., 0.99.

    Returns
    -------
    curve : DataFrame
        Columns ``threshold``, ``model``, ``treat_all``, ``treat_none``.

    References
    ----------
    Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating
    prediction models. Med Decis Making 2006;26:565-574.

    Examples
    --------
    >>> dc = decision_curve([0, 1, 1, 0], [0.2, 0.7, 0.9, 0.6], thresholds=[0.5])
    >>> float(dc.loc[0, "model"]), float(dc.loc[0, "treat_all"])
    (0.25, 0.0)
    """
    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, dtype=float)
    if thresholds is None:
        thresholds = np.round(np.arange(1, 100) / 100, 2)
    thresholds = np.asarray(thresholds, dtype=float)
    if np.any((thresholds <= 0) | (thresholds >= 1)):
        raise ValueError("thresholds must lie strictly between 0 and 1.")
    n = y_true.size
    prevalence = y_true.mean()
    rows = []
    for pt in thresholds:
        treat = y_prob >= pt
        tp = np.sum(treat & (y_true == 1))
        fp = np.sum(treat & (y_true == 0))
        odds = pt / (1 - pt)
        rows.append(
            (pt, tp / n - fp / n * odds, prevalence - (1 - prevalence) * odds, 0.0)
        )
    return pd.DataFrame(rows, columns=["threshold", "model", "treat_all", "treat_none"])
