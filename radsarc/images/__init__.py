"""Stage 1: images and masks, grouped into cohorts.

Reading (any SimpleITK format or DICOM series folders), cohort manifests, and the
validation that reports every problem with its case, file and expectation.
"""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "Case": ("radsarc.images._cohort", "Case"),
    "Cohort": ("radsarc.images._cohort", "Cohort"),
    "PreprocessingConfig": ("radsarc.images._preprocess", "PreprocessingConfig"),
    "Problem": ("radsarc.images._cohort", "Problem"),
    "ValidationReport": ("radsarc.images._cohort", "ValidationReport"),
    "apply_nyul": ("radsarc.images._preprocess", "apply_nyul"),
    "body_mask": ("radsarc.images._preprocess", "body_mask"),
    "file_digest": ("radsarc.images._io", "file_digest"),
    "geometry_mismatch": ("radsarc.images._io", "geometry_mismatch"),
    "learn_nyul_landmarks": ("radsarc.images._preprocess", "learn_nyul_landmarks"),
    "n4_correct": ("radsarc.images._preprocess", "n4_correct"),
    "normalize_percentile": ("radsarc.images._preprocess", "normalize_percentile"),
    "normalize_zscore": ("radsarc.images._preprocess", "normalize_zscore"),
    "nyul_landmarks_for": ("radsarc.images._preprocess", "nyul_landmarks_for"),
    "peritumoral_ring": ("radsarc.images._preprocess", "peritumoral_ring"),
    "preprocess": ("radsarc.images._preprocess", "preprocess"),
    "read_image": ("radsarc.images._io", "read_image"),
    "resample_image": ("radsarc.images._preprocess", "resample_image"),
    "resample_mask": ("radsarc.images._preprocess", "resample_mask"),
    "resegment": ("radsarc.images._preprocess", "resegment"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "Case",
    "Cohort",
    "PreprocessingConfig",
    "Problem",
    "ValidationReport",
    "apply_nyul",
    "body_mask",
    "file_digest",
    "geometry_mismatch",
    "learn_nyul_landmarks",
    "n4_correct",
    "normalize_percentile",
    "normalize_zscore",
    "nyul_landmarks_for",
    "peritumoral_ring",
    "preprocess",
    "read_image",
    "resample_image",
    "resample_mask",
    "resegment",
]
