"""Stage 1: images and masks, grouped into cohorts.

Reading (any SimpleITK format or DICOM series folders), cohort manifests, and the
validation that reports every problem with its case, file and expectation.
"""

from radsarc.images._cohort import Case, Cohort, Problem, ValidationReport
from radsarc.images._io import file_digest, geometry_mismatch, read_image

__all__ = [
    "Case",
    "Cohort",
    "Problem",
    "ValidationReport",
    "file_digest",
    "geometry_mismatch",
    "read_image",
]
