"""Saved models: fit on a training cohort's images, save safely, predict new patients.

See ``docs/saved_models.md``.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.deploy._model": [
            "FORMAT_VERSION",
            "PredictionResult",
            "RadiomicsModel",
            "TRUSTED_TYPES",
            "load_model",
        ],
    },
)
