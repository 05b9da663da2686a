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
    "baseline_figure",
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


def baseline_figure(results: Sequence[EvaluationResult], title: str = "") -> Figure:
    """Models and baselines side by side.

    Left: the mean test AUC of every model and of the baselines fitted on the
    same splits (tumour volume; clinical covariates when given), with 95% CIs.
    Right: each model's AUC difference to each baseline (paired by split) with
    its 95% CI; the dotted line at 0 is "no better than the baseline".
    """
    from radsarc.report._tables import section_baselines

    baselines = section_baselines(results)
    entries = [(r.name, r.summary.loc["auc"], False) for r in results]
    entries += [(f"{b.name} (baseline)", b.summary.loc["auc"], True) for b in baselines]
    n_rows = max(len(entries), 1)
    fig = Figure(figsize=(10.0, 0.45 * n_rows + 1.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, sharey=False)
    pos = np.arange(len(entries))[::-1]
    for y, (_label, s, is_base) in zip(pos, entries, strict=True):
        color = "dimgrey" if is_base else "tab:blue"
        low, high = s["ci_low"], s["ci_high"]
        err = (
            None if np.isnan(low) else np.array([[s["mean"] - low], [high - s["mean"]]])
        )
        left.errorbar(
            s["mean"],
            y,
            xerr=err,
            fmt="s" if is_base else "o",
            color=color,
            capsize=3,
        )
    left.axvline(0.5, color="grey", ls="--", lw=1)
    left.set_yticks(pos, [e[0] for e in entries])
    left.set(xlim=(0, 1), xlabel="mean test AUC (95% CI)", title="AUC")
    left.set_ylim(-0.5, len(entries) - 0.5)
    colors = dict(
        zip([b.name for b in baselines], _colors(len(baselines)), strict=True)
    )
    model_pos = pos[: len(results)]
    offsets = np.linspace(0.15, -0.15, max(len(baselines), 1))
    drawn = set()
    for y, r in zip(model_pos, results, strict=True):
        for k, (name, c) in enumerate(r.comparisons.iterrows()):
            if np.isnan(c["ci_low"]):
                continue
            right.errorbar(
                c["delta_auc"],
                y + (offsets[k] if len(baselines) > 1 else 0.0),
                xerr=np.array(
                    [[c["delta_auc"] - c["ci_low"]], [c["ci_high"] - c["delta_auc"]]]
                ),
                fmt="o",
                color=colors.get(name, "black"),
                capsize=3,
                label=None if name in drawn else f"vs {name}",
            )
            drawn.add(name)
    right.axvline(0.0, color="black", ls=":", lw=1)
    right.set_yticks(model_pos, [r.name for r in results])
    right.set_ylim(left.get_ylim())
    right.set(
        xlabel="\u0394AUC, model minus baseline (95% CI)",
        title="difference to the baselines",
    )
    if drawn:
        right.legend(loc="lower right", fontsize=7)
    else:
        right.text(
            0.5, 0.5, "no baseline", ha="center", va="center", transform=right.transAxes
        )
    if title:
        fig.suptitle(title)
    return fig
