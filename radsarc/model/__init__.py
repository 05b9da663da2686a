"""Classifiers, samplers and the leak-free pipeline builder; published presets."""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.model._auto": ["AutoEnsemble", "ensemble_selection"],
        "radsarc.model._baselines": [
            "ClinicalBaseline",
            "VolumeBaseline",
            "volume_column",
        ],
        "radsarc.model._bootstrap": ["BootstrapLogisticRegression"],
        "radsarc.model._nomogram": ["RadiomicsScore", "make_nomogram_models"],
        "radsarc.model._presets": [
            "Preset",
            "get_preset",
            "list_presets",
            "make_preset",
        ],
        "radsarc.model._registry": [
            "CLASSIFIERS",
            "SAMPLERS",
            "SELECTORS",
            "make_classifier",
            "make_pipeline",
            "make_sampler",
            "make_selector",
            "make_svm",
        ],
        "radsarc.model._smote": ["AdaptiveSMOTE"],
        "radsarc.model._survival": ["CoxnetCV", "make_cox_pipeline"],
        "radsarc.model._voxel": ["VOXEL_CLASSIFIERS", "make_voxel_classifier"],
    },
)
