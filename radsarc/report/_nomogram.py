"""Nomogram of a fitted logistic model (e.g. clinical covariates + radiomics score)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.special import logit

from radsarc.report._figures import _new_figure

__all__ = ["nomogram_figure", "nomogram_points"]

logger = logging.getLogger(__name__)


def _parts(model, X):
    """The logistic step, its input matrix and its input names."""
    if hasattr(model, "steps"):
        head, clf = model[:-1], model[-1]
        Xt = np.asarray(head.transform(X), dtype=float)
        names = list(head.get_feature_names_out())
    else:
        clf = model
        Xt = np.asarray(X, dtype=float)
        names = list(getattr(X, "columns", [f"x{i}" for i in range(Xt.shape[1])]))
    coef = getattr(clf, "coef_", None)
    if coef is None or np.asarray(coef).shape[0] != 1:
        raise ValueError(
            "nomogram_figure needs a fitted binary linear model (e.g. "
            f"LogisticRegression) as the last step; got {type(clf).__name__}."
        )
    return clf, Xt, names


def nomogram_points(model, X) -> dict:
    """The scales of a nomogram: points per predictor and the risk mapping.

    Each predictor's contribution ``coef * x`` is shifted so that its least
    risky value over ``X`` scores 0 points; the predictor with the widest range
    of contribution scores 0 to 100. The predicted log-odds is
    ``offset + total_points / scale``.

    Parameters
    ----------
    model : fitted pipeline or estimator
        Ends with a binary linear model with ``coef_`` and ``intercept_``
        (e.g. the ``"combined"`` model of
        :func:`radsarc.model.make_nomogram_models`).
    X : DataFrame
        Data whose ranges set the scales (the training data).

    Returns
    -------
    scales : dict
        ``names``, ``coef``, ``low``, ``high``, ``reference`` (value scoring 0),
        ``scale`` (points per unit of log-odds), ``offset`` (log-odds at 0
        points) and ``max_points`` (per predictor).
    """
    clf, Xt, names = _parts(model, X)
    coef = np.asarray(clf.coef_, dtype=float).ravel()
    low, high = Xt.min(axis=0), Xt.max(axis=0)
    widths = np.abs(coef) * (high - low)
    if not np.any(widths > 0):
        raise ValueError("Every predictor has a zero coefficient or no range in X.")
    scale = 100.0 / widths.max()
    reference = np.where(coef >= 0, low, high)
    offset = float(np.ravel(clf.intercept_)[0] + coef @ reference)
    return {
        "names": names,
        "coef": coef,
        "low": low,
        "high": high,
        "reference": reference,
        "scale": scale,
        "offset": offset,
        "max_points": widths * scale,
    }


def nomogram_figure(
    model,
    X,
    *,
    probabilities: Sequence[float] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
    labels: dict[str, str] | None = None,
    outcome: str = "Risk",
    title: str = "",
) -> Figure:
    """Draw the nomogram of a fitted logistic model.

    One row per predictor with its values placed at their points, a points
    axis (0-100), a total-points axis and the predicted probability below it.

    Parameters
    ----------
    model : fitted pipeline or estimator
        See :func:`nomogram_points`.
    X : DataFrame
        Training data (sets each predictor's range).
    probabilities : sequence of float, default=(0.05, ..., 0.95)
        Probabilities marked on the risk axis (those reachable are drawn).
    labels : dict of str to str, default=None
        Display names of predictors (e.g. ``{"rad_score": "Rad-score"}``).
    outcome : str, default="Risk"
        Name of the probability axis.
    title : str, default=""

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    s = nomogram_points(model, X)
    labels = {"rad_score": "Rad-score", **(labels or {})}
    n = len(s["names"])
    rows = n + 3
    fig, ax = _new_figure(8.0, 0.7 * rows + 1.0)
    total_max = float(s["max_points"].sum())

    def axis(y, positions, texts, label, span=None):
        span = span or (min(positions), max(positions))
        ax.plot(list(span), [y, y], color="black", lw=1)
        for x, text in zip(positions, texts, strict=True):
            ax.plot([x, x], [y, y + 0.12], color="black", lw=1)
            ax.text(x, y + 0.18, text, ha="center", va="bottom", fontsize=8)
        ax.text(-4, y, label, ha="right", va="center", fontsize=9)

    y = rows - 1
    axis(y, list(range(0, 101, 10)), [str(v) for v in range(0, 101, 10)], "Points")
    for j, name in enumerate(s["names"]):
        y -= 1
        lo, hi = s["low"][j], s["high"][j]
        if {float(lo), float(hi)} == {0.0, 1.0}:  # a 0/1 covariate
            values = np.array([0.0, 1.0])
        else:
            values = MaxNLocator(nbins=6).tick_values(lo, hi)
        values = values[(values >= lo - 1e-9) & (values <= hi + 1e-9)]
        if values.size < 2:
            values = np.array([lo, hi])
        points = s["scale"] * s["coef"][j] * (values - s["reference"][j])
        axis(
            y,
            list(points),
            [f"{v:g}" for v in values],
            labels.get(name, name),
            span=(0.0, float(s["max_points"][j])),
        )
    y -= 1
    ticks = MaxNLocator(nbins=8).tick_values(0, total_max)
    ticks = ticks[(ticks >= 0) & (ticks <= total_max + 1e-9)]
    axis(
        y,
        list(ticks * 100.0 / total_max),
        [f"{t:g}" for t in ticks],
        "Total points",
    )
    y -= 1
    probs = np.asarray(probabilities, dtype=float)
    totals = (logit(probs) - s["offset"]) * s["scale"]
    reachable = (totals >= 0) & (totals <= total_max)
    if reachable.sum() >= 2:
        axis(
            y,
            list(totals[reachable] * 100.0 / total_max),
            [f"{p:g}" for p in probs[reachable]],
            outcome,
        )
    else:
        logger.warning("Fewer than two of the probabilities are on the scale.")
    ax.set_xlim(-30, 105)
    ax.set_ylim(y - 0.6, rows - 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig
