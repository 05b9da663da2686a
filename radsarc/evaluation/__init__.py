"""Honest evaluation: validation schemes, metrics with CIs, cut-offs, statistics.

Everything that learns from data is fitted inside the training part of each
split; see ``docs/evaluation.md`` and ``docs/pitfalls.md``.
"""

from radsarc.evaluation._audit import (
    FitLog,
    PermutationTestResult,
    RowSpy,
    audit_leakage,
    permutation_test,
    row_hashes,
)
from radsarc.evaluation._bootstrap import bootstrap_ci
from radsarc.evaluation._calibration import (
    CalibrationResult,
    calibration,
    reliability_curve,
)
from radsarc.evaluation._corrected_ttest import (
    CorrectedTTestResult,
    corrected_resampled_ci,
    corrected_resampled_ttest,
)
from radsarc.evaluation._cv import ExternalValidation, FixedSplits, NestedCV, RepeatedCV
from radsarc.evaluation._decision_curve import decision_curve
from radsarc.evaluation._delong import DeLongResult, delong_covariance, delong_test
from radsarc.evaluation._evaluate import (
    EvaluationResult,
    data_hash,
    environment,
    evaluate,
    positive_scores,
)
from radsarc.evaluation._importance import (
    permutation_importance,
    selected_features,
    selection_frequency,
)
from radsarc.evaluation._metrics import (
    METRICS,
    THRESHOLD_FREE_METRICS,
    auc_score,
    binary_metrics,
    confusion_counts,
)
from radsarc.evaluation._roc import roc_band
from radsarc.evaluation._survival import (
    LogRankResult,
    SurvivalEvaluationResult,
    concordance_index,
    evaluate_survival,
    kaplan_meier,
    logrank_test,
)
from radsarc.evaluation._thresholds import (
    CUTOFFS,
    choose_threshold,
    specificity_at_sensitivity_threshold,
    youden_threshold,
)
from radsarc.evaluation._voxel import (
    VoxelEvaluationResult,
    compare_voxel_classifiers,
    leave_one_patient_out,
    write_label_maps,
)

__all__ = [
    "CUTOFFS",
    "CalibrationResult",
    "CorrectedTTestResult",
    "DeLongResult",
    "EvaluationResult",
    "ExternalValidation",
    "FitLog",
    "FixedSplits",
    "LogRankResult",
    "METRICS",
    "NestedCV",
    "PermutationTestResult",
    "RepeatedCV",
    "RowSpy",
    "SurvivalEvaluationResult",
    "THRESHOLD_FREE_METRICS",
    "VoxelEvaluationResult",
    "auc_score",
    "audit_leakage",
    "binary_metrics",
    "bootstrap_ci",
    "calibration",
    "choose_threshold",
    "compare_voxel_classifiers",
    "concordance_index",
    "confusion_counts",
    "corrected_resampled_ci",
    "corrected_resampled_ttest",
    "data_hash",
    "decision_curve",
    "delong_covariance",
    "delong_test",
    "environment",
    "evaluate",
    "evaluate_survival",
    "kaplan_meier",
    "leave_one_patient_out",
    "logrank_test",
    "permutation_importance",
    "permutation_test",
    "positive_scores",
    "reliability_curve",
    "roc_band",
    "row_hashes",
    "selected_features",
    "selection_frequency",
    "specificity_at_sensitivity_threshold",
    "write_label_maps",
    "youden_threshold",
]
