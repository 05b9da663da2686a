"""Report figures, drawn on matplotlib ``Figure`` objects (Agg, no pyplot state)."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from radsarc.evaluation import (
    EvaluationResult,
    calibration,
    decision_curve,
    reliability_curve,
    roc_band,
)

__all__ = [
    "auc_distribution_figure",
    "calibration_figure",
    "decision_curve_figure",
    "figure_png",
    "roc_figure",
]

logger = logging.getLogger(__name__)


def _new_figure(width: float = 6.0, height: float = 5.0) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _colors(n: int):
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _is_probability(result: EvaluationResult) -> bool:
    s = result.predictions["y_score"].to_numpy()
    return bool(np.all((s >= 0) & (s <= 1)))


def roc_figure(results: Sequence[EvaluationResult], title: str = "") -> Figure:
    """Mean test ROC curve of each result with its pointwise 95% band."""
    fig, ax = _new_figure()
    for result, color in zip(results, _colors(len(results)), strict=True):
        band = roc_band(result)
        s = result.summary.loc["auc"]
        ci = f"[{s['ci_low']:.2f}, {s['ci_high']:.2f}]"
        label = f"{result.name}: AUC {s['mean']:.2f} {ci}"
        ax.plot(band["fpr"], band["tpr"], color=color, lw=1.8, label=label)
        ax.fill_between(
            band["fpr"], band["low"], band["high"], color=color, alpha=0.12, lw=0
        )
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="1 - specificity (false-positive rate)",
        ylabel="sensitivity (true-positive rate)",
        title=title or "ROC (test parts)",
    )
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7)
    return fig


def calibration_figure(results: Sequence[EvaluationResult], title: str = "") -> Figure:
    """Reliability curves of the pooled test predictions, with slope and intercept."""
    fig, ax = _new_figure()
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="ideal")
    for result, color in zip(results, _colors(len(results)), strict=True):
        if not _is_probability(result):
            continue
        p = result.predictions
        curve = reliability_curve(p["y_true"], p["y_score"], n_bins=8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cal = calibration(p["y_true"], p["y_score"])
        ax.plot(
            curve["mean_predicted"],
            curve["observed"],
            marker="o",
            ms=3,
            color=color,
            lw=1.5,
            label=f"{result.name}: slope {cal.slope:.2f}, "
            f"intercept {cal.intercept:.2f}",
        )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="predicted probability",
        ylabel="observed fraction positive",
        title=title or "Calibration (test parts)",
    )
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=7)
    return fig


def decision_curve_figure(
    results: Sequence[EvaluationResult], title: str = ""
) -> Figure:
    """Net benefit of each model, of treating all and of treating none."""
    fig, ax = _new_figure(7.0, 4.5)
    curve = None
    lows = []
    for result, color in zip(results, _colors(len(results)), strict=True):
        if not _is_probability(result):
            continue
        p = result.predictions
        curve = decision_curve(p["y_true"], p["y_score"])
        ax.plot(
            curve["threshold"], curve["model"], color=color, lw=1.5, label=result.name
        )
        lows.append(curve["model"].min())
    if curve is not None:
        ax.plot(
            curve["threshold"],
            curve["treat_all"],
            color="black",
            lw=1,
            ls=":",
            label="treat all",
        )
        ax.axhline(0, color="grey", lw=1, ls="--", label="treat none")
        prevalence = float(results[0].predictions["y_true"].mean())
        ax.set_ylim(-0.05, max(prevalence, 0.05) * 1.1)
    ax.set(
        xlim=(0, 1),
        xlabel="threshold probability",
        ylabel="net benefit",
        title=title or "Decision curve (test parts)",
    )
    ax.legend(loc="upper right", fontsize=7)
    return fig


def auc_distribution_figure(
    results: Sequence[EvaluationResult],
    reference: Mapping[str, float] | None = None,
    title: str = "",
) -> Figure:
    """Per-split test AUCs of each model (box and points) against reference lines.

    ``reference`` maps a label (e.g. ``"WORC (published)"``) to an AUC.
    """
    fig, ax = _new_figure(7.0, 0.6 * len(results) + 2.0)
    data = [r.split_metrics["auc"].dropna().to_numpy() for r in results]
    pos = np.arange(len(results))
    ax.boxplot(
        data, positions=pos, orientation="horizontal", widths=0.5, showfliers=False
    )
    rng = np.random.default_rng(0)
    for i, (values, color) in enumerate(zip(data, _colors(len(results)), strict=True)):
        ax.scatter(
            values,
            i + rng.uniform(-0.15, 0.15, values.size),
            s=8,
            alpha=0.5,
            color=color,
        )
        ax.plot([results[i].mean_auc], [i], marker="D", color="black", ms=5)
    for (label, value), ls in zip(
        (reference or {}).items(), ["-", "-.", ":"], strict=False
    ):
        ax.axvline(value, color="crimson", ls=ls, lw=1.2, label=f"{label}: {value:.2f}")
    ax.axvline(0.5, color="grey", ls="--", lw=1, label="chance")
    ax.set_yticks(pos, [r.name for r in results])
    ax.set(
        xlim=(0, 1),
        xlabel="test AUC per split (diamond: mean)",
        title=title or "AUC per split",
    )
    ax.legend(loc="lower left", fontsize=7)
    return fig
