"""Saved models: fit on a training cohort's images, save safely, predict new patients.

See ``docs/saved_models.md``.
"""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "FORMAT_VERSION": ("radsarc.deploy._model", "FORMAT_VERSION"),
    "PredictionResult": ("radsarc.deploy._model", "PredictionResult"),
    "RadiomicsModel": ("radsarc.deploy._model", "RadiomicsModel"),
    "TRUSTED_TYPES": ("radsarc.deploy._model", "TRUSTED_TYPES"),
    "load_model": ("radsarc.deploy._model", "load_model"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "PredictionResult",
    "RadiomicsModel",
    "load_model",
]
