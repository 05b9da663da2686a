"""Survival figures: Kaplan-Meier curves of risk groups, time-dependent AUC."""

from __future__ import annotations

import logging

import numpy as np
from matplotlib.figure import Figure

from radsarc.evaluation import SurvivalEvaluationResult, kaplan_meier, logrank_test
from radsarc.report._figures import _colors, _new_figure

__all__ = ["kaplan_meier_figure", "time_dependent_auc_figure"]

logger = logging.getLogger(__name__)


def kaplan_meier_figure(
    time,
    event,
    groups,
    *,
    confidence: bool = True,
    time_label: str = "Time",
    title: str = "",
) -> Figure:
    """Kaplan-Meier curves of groups with their log-rank p-value.

    Parameters
    ----------
    time, event : array-like of shape (n_samples,)
        Follow-up time and event indicator.
    groups : array-like of shape (n_samples,)
        Group of each case (e.g. ``"high"`` / ``"low"`` risk).
    confidence : bool, default=True
        Shade the pointwise 95% log(-log) interval.
    time_label : str, default="Time"
    title : str, default=""

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    groups = np.asarray(groups)
    labels = sorted(np.unique(groups), key=str)
    fig, ax = _new_figure(6.5, 4.5)
    for color, label in zip(_colors(len(labels)), labels, strict=True):
        sel = groups == label
        km = kaplan_meier(time[sel], event[sel])
        t = np.concatenate([[0.0], km["time"]])
        s = np.concatenate([[1.0], km["survival"]])
        ax.step(t, s, where="post", color=color, label=f"{label} (n={sel.sum()})")
        if confidence:
            lo = np.concatenate([[1.0], km["ci_low"]])
            hi = np.concatenate([[1.0], km["ci_high"]])
            ax.fill_between(t, lo, hi, step="post", color=color, alpha=0.15, lw=0)
        cens = km[km["n_censored"] > 0]
        ax.plot(cens["time"], cens["survival"], "|", color=color, ms=8)
    if len(labels) >= 2:
        test = logrank_test(time, event, groups)
        ax.text(
            0.02,
            0.04,
            f"log-rank p = {test.p_value:.3g}",
            transform=ax.transAxes,
            fontsize=9,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(time_label)
    ax.set_ylabel("Event-free probability")
    ax.legend(loc="upper right", fontsize=9)
    if title:
        ax.set_title(title)
    return fig


def time_dependent_auc_figure(
    result: SurvivalEvaluationResult, *, time_label: str = "Time", title: str = ""
) -> Figure:
    """Mean cross-validated time-dependent AUC at each time with its CI.

    Parameters
    ----------
    result : SurvivalEvaluationResult
        From :func:`radsarc.evaluation.evaluate_survival`.
    time_label : str, default="Time"
    title : str, default=""

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    rows = result.summary.loc[[f"auc_{t:g}" for t in result.times]]
    fig, ax = _new_figure(5.5, 4.0)
    mean = rows["mean"].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    ax.errorbar(
        result.times,
        mean,
        yerr=[mean - low, high - mean],
        marker="o",
        capsize=4,
        label=result.name,
    )
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(time_label)
    ax.set_ylabel("Time-dependent AUC")
    ax.legend(loc="lower right", fontsize=9)
    if title:
        ax.set_title(title)
    return fig
