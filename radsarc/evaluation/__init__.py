"""Honest evaluation: validation schemes, metrics with CIs, cut-offs, statistics.

Everything that learns from data is fitted inside the training part of each
split; see ``docs/evaluation.md`` and ``docs/pitfalls.md``.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.evaluation._audit": [
            "FitLog",
            "PermutationTestResult",
            "RowSpy",
            "audit_leakage",
            "permutation_test",
            "row_hashes",
        ],
        "radsarc.evaluation._bootstrap": ["bootstrap_ci"],
        "radsarc.evaluation._calibration": [
            "CalibrationResult",
            "calibration",
            "reliability_curve",
        ],
        "radsarc.evaluation._corrected_ttest": [
            "CorrectedTTestResult",
            "corrected_resampled_ci",
            "corrected_resampled_ttest",
        ],
        "radsarc.evaluation._cv": [
            "ExternalValidation",
            "FixedSplits",
            "NestedCV",
            "RepeatedCV",
        ],
        "radsarc.evaluation._decision_curve": ["decision_curve"],
        "radsarc.evaluation._delong": [
            "DeLongResult",
            "delong_covariance",
            "delong_test",
        ],
        "radsarc.evaluation._evaluate": [
            "EvaluationResult",
            "data_hash",
            "environment",
            "evaluate",
        ],
        "radsarc.evaluation._importance": [
            "permutation_importance",
            "selected_features",
            "selection_frequency",
        ],
        "radsarc.evaluation._metrics": [
            "METRICS",
            "THRESHOLD_FREE_METRICS",
            "auc_score",
            "binary_metrics",
            "confusion_counts",
            "positive_scores",
        ],
        "radsarc.evaluation._roc": ["roc_band"],
        "radsarc.evaluation._survival": [
            "LogRankResult",
            "SurvivalEvaluationResult",
            "concordance_index",
            "evaluate_survival",
            "kaplan_meier",
            "logrank_test",
        ],
        "radsarc.evaluation._thresholds": [
            "CUTOFFS",
            "choose_threshold",
            "specificity_at_sensitivity_threshold",
            "youden_threshold",
        ],
        "radsarc.evaluation._voxel": [
            "VoxelEvaluationResult",
            "compare_voxel_classifiers",
            "leave_one_patient_out",
            "write_label_maps",
        ],
    },
)
