"""Choosing the cut-off on a score: Youden, or highest specificity at a sensitivity."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

__all__ = [
    "CUTOFFS",
    "choose_threshold",
    "specificity_at_sensitivity_threshold",
    "youden_threshold",
]

#: Names accepted by :func:`choose_threshold` (a float is a fixed cut-off).
CUTOFFS: tuple[str, ...] = ("youden", "specificity")


def _roc(y_true, y_score):
    y_true = np.asarray(y_true).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.min() == y_true.max():
        raise ValueError(
            "A cut-off needs both classes in the data it is chosen on; got only "
            f"label {int(y_true[0])} ({y_true.size} cases)."
        )
    fpr, tpr, thr = roc_curve(y_true, y_score, drop_intermediate=False)
    # roc_curve's first threshold is +inf (nothing positive); drop it.
    return fpr[1:], tpr[1:], thr[1:]


def youden_threshold(y_true, y_score) -> float:
    """Cut-off that maximises Youden's J = sensitivity + specificity - 1.

    Cases with ``y_score >= threshold`` are positive. Ties in J are broken
    towards the highest cut-off (the more specific one).

    Examples
    --------
    >>> youden_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8
    """
    fpr, tpr, thr = _roc(y_true, y_score)
    j = tpr - fpr
    # Ties within rounding error (e.g. 2/3 - 0 and 1 - 1/3) go to the highest cut-off.
    return float(thr[np.flatnonzero(j >= j.max() - 1e-12)[0]])


def specificity_at_sensitivity_threshold(
    y_true, y_score, min_sensitivity: float
) -> float:
    """Highest-specificity cut-off whose sensitivity is at least ``min_sensitivity``.

    Among the cut-offs reaching the sensitivity, the highest one is taken (it has
    the highest specificity, as specificity falls as the cut-off is lowered).

    Examples
    --------
    >>> specificity_at_sensitivity_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 1.0)
    0.35
    """
    if not 0.0 < min_sensitivity <= 1.0:
        raise ValueError(f"min_sensitivity must be in (0, 1]; got {min_sensitivity!r}.")
    fpr, tpr, thr = _roc(y_true, y_score)
    reach = np.flatnonzero(tpr >= min_sensitivity - 1e-12)
    return float(thr[reach[0]])


def choose_threshold(
    y_true, y_score, cutoff: str | float = "youden", min_sensitivity: float = 0.9
) -> float:
    """Choose a cut-off by name (``"youden"``, ``"specificity"``) or fix it (float).

    ``"specificity"`` is :func:`specificity_at_sensitivity_threshold` with
    ``min_sensitivity``.
    """
    if isinstance(cutoff, bool):
        raise TypeError(f"cutoff must be one of {CUTOFFS} or a float; got {cutoff!r}.")
    if isinstance(cutoff, int | float):
        return float(cutoff)
    if cutoff == "youden":
        return youden_threshold(y_true, y_score)
    if cutoff == "specificity":
        return specificity_at_sensitivity_threshold(y_true, y_score, min_sensitivity)
    raise ValueError(f"cutoff must be one of {CUTOFFS} or a float; got {cutoff!r}.")
