"""Stage 2: radiomic features from images and masks.

pyradiomics does the computing, behind one module of radsarc
(:mod:`radsarc.features._pyradiomics`); this stage adds validated settings,
parallel and cached extraction over a cohort, and per-case error records.
"""

from radsarc.features._extract import ExtractionResult, extract_features
from radsarc.features._ibsi import ibsi_code, ibsi_table
from radsarc.features._robustness import (
    ICC_KINDS,
    PERTURBATIONS,
    RobustnessResult,
    icc_table,
    intraclass_correlation,
    perturbed_masks,
    robustness_icc,
)
from radsarc.features._settings import ExtractionSettings

__all__ = [
    "ICC_KINDS",
    "PERTURBATIONS",
    "ExtractionResult",
    "ExtractionSettings",
    "RobustnessResult",
    "extract_features",
    "ibsi_code",
    "ibsi_table",
    "icc_table",
    "intraclass_correlation",
    "perturbed_masks",
    "robustness_icc",
]
