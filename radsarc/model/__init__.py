"""Classifiers, samplers and the leak-free pipeline builder; published presets."""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "AdaptiveSMOTE": ("radsarc.model._smote", "AdaptiveSMOTE"),
    "AutoEnsemble": ("radsarc.model._auto", "AutoEnsemble"),
    "BootstrapLogisticRegression": (
        "radsarc.model._bootstrap",
        "BootstrapLogisticRegression",
    ),
    "CLASSIFIERS": ("radsarc.model._registry", "CLASSIFIERS"),
    "ClinicalBaseline": ("radsarc.model._baselines", "ClinicalBaseline"),
    "CoxnetCV": ("radsarc.model._survival", "CoxnetCV"),
    "Preset": ("radsarc.model._presets", "Preset"),
    "RadiomicsScore": ("radsarc.model._nomogram", "RadiomicsScore"),
    "SAMPLERS": ("radsarc.model._registry", "SAMPLERS"),
    "SELECTORS": ("radsarc.model._registry", "SELECTORS"),
    "VOXEL_CLASSIFIERS": ("radsarc.model._voxel", "VOXEL_CLASSIFIERS"),
    "VolumeBaseline": ("radsarc.model._baselines", "VolumeBaseline"),
    "ensemble_selection": ("radsarc.model._auto", "ensemble_selection"),
    "get_preset": ("radsarc.model._presets", "get_preset"),
    "list_presets": ("radsarc.model._presets", "list_presets"),
    "make_classifier": ("radsarc.model._registry", "make_classifier"),
    "make_cox_pipeline": ("radsarc.model._survival", "make_cox_pipeline"),
    "make_nomogram_models": ("radsarc.model._nomogram", "make_nomogram_models"),
    "make_pipeline": ("radsarc.model._registry", "make_pipeline"),
    "make_preset": ("radsarc.model._presets", "make_preset"),
    "make_sampler": ("radsarc.model._registry", "make_sampler"),
    "make_selector": ("radsarc.model._registry", "make_selector"),
    "make_svm": ("radsarc.model._registry", "make_svm"),
    "make_voxel_classifier": ("radsarc.model._voxel", "make_voxel_classifier"),
    "volume_column": ("radsarc.model._baselines", "volume_column"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "AdaptiveSMOTE",
    "CLASSIFIERS",
    "SAMPLERS",
    "SELECTORS",
    "VOXEL_CLASSIFIERS",
    "AutoEnsemble",
    "BootstrapLogisticRegression",
    "ClinicalBaseline",
    "CoxnetCV",
    "Preset",
    "RadiomicsScore",
    "VolumeBaseline",
    "ensemble_selection",
    "get_preset",
    "list_presets",
    "make_classifier",
    "make_cox_pipeline",
    "make_nomogram_models",
    "make_pipeline",
    "make_preset",
    "make_sampler",
    "make_selector",
    "make_svm",
    "make_voxel_classifier",
    "volume_column",
]
