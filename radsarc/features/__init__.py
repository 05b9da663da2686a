"""Stage 2: radiomic features from images and masks.

pyradiomics does the computing, behind one module of radsarc
(:mod:`radsarc.features._pyradiomics`; voxel-based texture maps have their own
engine, :mod:`radsarc.features._maps_engine`); this stage adds validated settings,
parallel and cached extraction over a cohort, and per-case error records.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.features._delta": ["delta_features"],
        "radsarc.features._extract": ["ExtractionResult", "extract_features"],
        "radsarc.features._ibsi": ["ibsi_code", "ibsi_table"],
        "radsarc.features._maps": ["MapsResult", "feature_maps"],
        "radsarc.features._robustness": [
            "ICC_KINDS",
            "PERTURBATIONS",
            "RobustnessResult",
            "icc_table",
            "intraclass_correlation",
            "perturbed_masks",
            "robustness_icc",
        ],
        "radsarc.features._settings": ["ExtractionSettings"],
        "radsarc.features._voxel": [
            "LOCAL_STATISTICS",
            "local_statistics",
            "voxel_feature_maps",
            "voxel_features",
            "voxel_map",
        ],
    },
)
