"""Stage 1: images and masks, grouped into cohorts.

Reading (any SimpleITK format or DICOM series folders), cohort manifests, and the
validation that reports every problem with its case, file and expectation.
"""

from radsarc.images._cohort import Case, Cohort, Problem, ValidationReport
from radsarc.images._io import file_digest, geometry_mismatch, read_image
from radsarc.images._preprocess import (
    PreprocessingConfig,
    apply_nyul,
    body_mask,
    learn_nyul_landmarks,
    n4_correct,
    normalize_percentile,
    normalize_zscore,
    nyul_landmarks_for,
    peritumoral_ring,
    preprocess,
    resample_image,
    resample_mask,
    resegment,
)

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
