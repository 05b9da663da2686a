"""Classifiers, samplers and the leak-free pipeline builder; published presets."""

from radsarc.model._auto import AutoEnsemble, ensemble_selection
from radsarc.model._baselines import ClinicalBaseline, VolumeBaseline, volume_column
from radsarc.model._bootstrap import BootstrapLogisticRegression
from radsarc.model._nomogram import RadiomicsScore, make_nomogram_models
from radsarc.model._presets import Preset, get_preset, list_presets, make_preset
from radsarc.model._registry import (
    CLASSIFIERS,
    SAMPLERS,
    SELECTORS,
    make_classifier,
    make_pipeline,
    make_sampler,
    make_selector,
    make_svm,
)
from radsarc.model._smote import AdaptiveSMOTE
from radsarc.model._survival import CoxnetCV, make_cox_pipeline
from radsarc.model._voxel import VOXEL_CLASSIFIERS, make_voxel_classifier

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
