"""Saved models: fit on a training cohort's images, save safely, predict new patients.

See ``docs/saved_models.md``.
"""

from radsarc.deploy._model import (
    FORMAT_VERSION,
    TRUSTED_TYPES,
    PredictionResult,
    RadiomicsModel,
    load_model,
)

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "PredictionResult",
    "RadiomicsModel",
    "load_model",
]
