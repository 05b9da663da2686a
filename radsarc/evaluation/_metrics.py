"""Binary classification metrics from a score and a cut-off."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "METRICS",
    "THRESHOLD_FREE_METRICS",
    "auc_score",
    "binary_metrics",
    "confusion_counts",
    "positive_scores",
]

#: Every metric :func:`binary_metrics` returns, in report order.
METRICS: tuple[str, ...] = (
    "auc",
    "sensitivity",
    "specificity",
    "accuracy",
    "balanced_accuracy",
    "ppv",
    "npv",
    "f1",
    "brier",
)
#: The metrics that do not depend on a cut-off.
THRESHOLD_FREE_METRICS: tuple[str, ...] = ("auc", "brier")


def _check_binary(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.ndim != 1 or y_score.shape != y_true.shape:
        raise ValueError(
            "y_true and y_score must be 1-D arrays of the same length; got shapes "
            f"{y_true.shape} and {y_score.shape}."
        )
    labels = set(np.unique(y_true).tolist())
    if not labels <= {0, 1}:
        raise ValueError(
            f"y_true must hold the labels 0 and 1 only; got {sorted(labels)!r}."
        )
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinite values.")
    return y_true.astype(int), y_score


def confusion_counts(y_true, y_pred) -> tuple[int, int, int, int]:
    """Return ``(tn, fp, fn, tp)`` for 0/1 labels and 0/1 predictions."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    return tn, fp, fn, tp


def _ratio(num: float, den: float) -> float:
    # An undefined ratio (e.g. PPV when nothing is predicted positive) is NaN on
    # purpose: it is not zero, and averaging code skips it and counts the splits.
    return float(num / den) if den > 0 else float("nan")


def auc_score(y_true, y_score) -> float:
    """Area under the ROC curve by the Mann-Whitney statistic (ties count 1/2)."""
    y_true, y_score = _check_binary(y_true, y_score)
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(y_score)
    return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(y_true, y_score, threshold) -> dict[str, float]:
    """Compute every metric of :data:`METRICS` on one set of predictions.

    A case is predicted positive when ``y_score >= threshold``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, 0 or 1.
    y_score : array-like of shape (n_samples,)
        Score of the positive class (a probability for the Brier score).
    threshold : float, array-like of shape (n_samples,) or None
        The cut-off (one per case when pooling splits with their own cut-offs).
        ``None`` computes the cut-off-free metrics only
        (:data:`THRESHOLD_FREE_METRICS`).

    Returns
    -------
    metrics : dict of str to float
        ``auc`` (NaN if one class is absent); ``sensitivity`` TP/(TP+FN);
        ``specificity`` TN/(TN+FP); ``accuracy``; ``balanced_accuracy`` the mean of
        sensitivity and specificity; ``ppv`` TP/(TP+FP); ``npv`` TN/(TN+FN);
        ``f1`` 2TP/(2TP+FP+FN); ``brier`` mean squared difference between the
        score and the label (NaN when the scores are not probabilities in [0, 1]).
        A ratio whose denominator is zero is NaN.

    Examples
    --------
    >>> m = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    >>> m["sensitivity"], m["specificity"], m["auc"]
    (0.5, 0.5, 0.75)
    """
    y_true, y_score = _check_binary(y_true, y_score)
    out = {"auc": auc_score(y_true, y_score)}
    if np.all((y_score >= 0) & (y_score <= 1)):
        out["brier"] = float(np.mean((y_score - y_true) ** 2))
    else:
        out["brier"] = float("nan")
    if threshold is None:
        return {k: out[k] for k in THRESHOLD_FREE_METRICS}
    y_pred = (y_score >= np.asarray(threshold, dtype=float)).astype(int)
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    sens = _ratio(tp, tp + fn)
    spec = _ratio(tn, tn + fp)
    out.update(
        sensitivity=sens,
        specificity=spec,
        accuracy=_ratio(tp + tn, tp + tn + fp + fn),
        balanced_accuracy=float(np.nanmean([sens, spec]))
        if not (np.isnan(sens) and np.isnan(spec))
        else float("nan"),
        ppv=_ratio(tp, tp + fp),
        npv=_ratio(tn, tn + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
    )
    return {k: out[k] for k in METRICS}


def positive_scores(model, X) -> np.ndarray:
    """Score of the positive class (label 1): ``predict_proba`` if the model has
    it, else ``decision_function``."""
    if hasattr(model, "predict_proba"):
        classes = list(model.classes_)
        return np.asarray(model.predict_proba(X))[:, classes.index(1)]
    return np.asarray(model.decision_function(X), dtype=float)
