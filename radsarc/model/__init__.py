"""Classifiers, samplers and the leak-free pipeline builder; published presets."""

from radsarc.model._bootstrap import BootstrapLogisticRegression
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

__all__ = [
    "CLASSIFIERS",
    "SAMPLERS",
    "SELECTORS",
    "BootstrapLogisticRegression",
    "Preset",
    "get_preset",
    "list_presets",
    "make_classifier",
    "make_pipeline",
    "make_preset",
    "make_sampler",
    "make_selector",
    "make_svm",
]
