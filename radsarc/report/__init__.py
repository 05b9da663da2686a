"""The evaluation report: one self-contained HTML file with figures and tables."""

from radsarc.report._figures import (
    auc_distribution_figure,
    baseline_figure,
    calibration_figure,
    decision_curve_figure,
    figure_png,
    roc_figure,
)
from radsarc.report._html import write_report
from radsarc.report._nomogram import nomogram_figure, nomogram_points
from radsarc.report._survival import kaplan_meier_figure, time_dependent_auc_figure
from radsarc.report._tables import compare_models, results_table

__all__ = [
    "auc_distribution_figure",
    "baseline_figure",
    "calibration_figure",
    "compare_models",
    "decision_curve_figure",
    "figure_png",
    "kaplan_meier_figure",
    "nomogram_figure",
    "nomogram_points",
    "results_table",
    "roc_figure",
    "time_dependent_auc_figure",
    "write_report",
]
