"""Stage 1: images and masks, grouped into cohorts.

Reading (any SimpleITK format or DICOM series folders), cohort manifests, and the
validation that reports every problem with its case, file and expectation.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.images._cohort": ["Case", "Cohort", "Problem", "ValidationReport"],
        "radsarc.images._io": ["file_digest", "geometry_mismatch", "read_image"],
        "radsarc.images._preprocess": [
            "PreprocessingConfig",
            "apply_nyul",
            "body_mask",
            "learn_nyul_landmarks",
            "n4_correct",
            "normalize_percentile",
            "normalize_zscore",
            "nyul_landmarks_for",
            "peritumoral_ring",
            "preprocess",
            "resample_image",
            "resample_mask",
            "resegment",
        ],
    },
)
