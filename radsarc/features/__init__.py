"""Stage 2: radiomic features from images and masks.

pyradiomics does the computing, behind one module of radsarc
(:mod:`radsarc.features._pyradiomics`; voxel-based texture maps have their own
engine, :mod:`radsarc.features._maps_engine`); this stage adds validated settings,
parallel and cached extraction over a cohort, and per-case error records.
"""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "ExtractionResult": ("radsarc.features._extract", "ExtractionResult"),
    "ExtractionSettings": ("radsarc.features._settings", "ExtractionSettings"),
    "ICC_KINDS": ("radsarc.features._robustness", "ICC_KINDS"),
    "LOCAL_STATISTICS": ("radsarc.features._voxel", "LOCAL_STATISTICS"),
    "MapsResult": ("radsarc.features._maps", "MapsResult"),
    "PERTURBATIONS": ("radsarc.features._robustness", "PERTURBATIONS"),
    "RobustnessResult": ("radsarc.features._robustness", "RobustnessResult"),
    "delta_features": ("radsarc.features._delta", "delta_features"),
    "extract_features": ("radsarc.features._extract", "extract_features"),
    "feature_maps": ("radsarc.features._maps", "feature_maps"),
    "ibsi_code": ("radsarc.features._ibsi", "ibsi_code"),
    "ibsi_table": ("radsarc.features._ibsi", "ibsi_table"),
    "icc_table": ("radsarc.features._robustness", "icc_table"),
    "intraclass_correlation": (
        "radsarc.features._robustness",
        "intraclass_correlation",
    ),
    "local_statistics": ("radsarc.features._voxel", "local_statistics"),
    "perturbed_masks": ("radsarc.features._robustness", "perturbed_masks"),
    "robustness_icc": ("radsarc.features._robustness", "robustness_icc"),
    "voxel_feature_maps": ("radsarc.features._voxel", "voxel_feature_maps"),
    "voxel_features": ("radsarc.features._voxel", "voxel_features"),
    "voxel_map": ("radsarc.features._voxel", "voxel_map"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
