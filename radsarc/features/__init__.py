"""Stage 2: radiomic features from images and masks.

pyradiomics does the computing, behind one module of radsarc
(:mod:`radsarc.features._pyradiomics`; voxel-based texture maps have their own
engine, :mod:`radsarc.features._maps_engine`); this stage adds validated settings,
parallel and cached extraction over a cohort, and per-case error records.
"""

from radsarc.features._delta import delta_features
from radsarc.features._extract import ExtractionResult, extract_features
from radsarc.features._ibsi import ibsi_code, ibsi_table
from radsarc.features._maps import MapsResult, feature_maps
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
from radsarc.features._voxel import (
    LOCAL_STATISTICS,
    local_statistics,
    voxel_feature_maps,
    voxel_features,
    voxel_map,
)

__all__ = [
    "ICC_KINDS",
    "PERTURBATIONS",
    "LOCAL_STATISTICS",
    "ExtractionResult",
    "ExtractionSettings",
    "MapsResult",
    "RobustnessResult",
    "delta_features",
    "extract_features",
    "feature_maps",
    "ibsi_code",
    "ibsi_table",
    "icc_table",
    "intraclass_correlation",
    "local_statistics",
    "perturbed_masks",
    "robustness_icc",
    "voxel_feature_maps",
    "voxel_features",
    "voxel_map",
]
