"""The evaluation report: one self-contained HTML file with figures and tables."""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.report._figures": [
            "auc_distribution_figure",
            "baseline_figure",
            "calibration_figure",
            "decision_curve_figure",
            "figure_png",
            "roc_figure",
        ],
        "radsarc.report._html": ["write_report"],
        "radsarc.report._nomogram": ["nomogram_figure", "nomogram_points"],
        "radsarc.report._survival": [
            "kaplan_meier_figure",
            "time_dependent_auc_figure",
        ],
        "radsarc.report._tables": ["compare_models", "results_table"],
    },
)
