"""The evaluation report: one self-contained HTML file with figures and tables."""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "auc_distribution_figure": ("radsarc.report._figures", "auc_distribution_figure"),
    "baseline_figure": ("radsarc.report._figures", "baseline_figure"),
    "calibration_figure": ("radsarc.report._figures", "calibration_figure"),
    "compare_models": ("radsarc.report._tables", "compare_models"),
    "decision_curve_figure": ("radsarc.report._figures", "decision_curve_figure"),
    "figure_png": ("radsarc.report._figures", "figure_png"),
    "kaplan_meier_figure": ("radsarc.report._survival", "kaplan_meier_figure"),
    "nomogram_figure": ("radsarc.report._nomogram", "nomogram_figure"),
    "nomogram_points": ("radsarc.report._nomogram", "nomogram_points"),
    "results_table": ("radsarc.report._tables", "results_table"),
    "roc_figure": ("radsarc.report._figures", "roc_figure"),
    "time_dependent_auc_figure": (
        "radsarc.report._survival",
        "time_dependent_auc_figure",
    ),
    "write_report": ("radsarc.report._html", "write_report"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
