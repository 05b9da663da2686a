"""The feature engine: the only module of radsarc that imports pyradiomics.

Everything pyradiomics-specific (its logger, its extractor class, the split of its
output into features and diagnostics) stays here, so that the engine can change
without touching the rest of radsarc.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

import numpy as np
import radiomics
import SimpleITK as sitk
from radiomics import featureextractor

__all__ = ["ENGINE", "Engine", "feature_classes", "image_types"]

#: Engine name and version; part of every cache key.
ENGINE = f"pyradiomics {radiomics.__version__}"

# pyradiomics attaches a stderr handler to its logger at import and logs a warning
# per case for routine events; radsarc records failures itself, so only errors get
# through that handler (pyradiomics' own public switch for this).
radiomics.setVerbosity(logging.ERROR)


@functools.cache
def feature_classes() -> dict[str, list[str]]:
    """Feature classes and the names of their features (deprecated included)."""
    return {
        name: sorted(cls.getFeatureNames())
        for name, cls in radiomics.getFeatureClasses().items()
    }


@functools.cache
def image_types() -> list[str]:
    """Image types (filters) pyradiomics can apply, e.g. Original, LoG, Wavelet."""
    return sorted(radiomics.getImageTypes())


def _plain(value):
    """pyradiomics output value -> JSON-friendly Python value."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class Engine:
    """A configured pyradiomics extractor.

    Parameters
    ----------
    params : dict
        A pyradiomics parameter dict (see
        :meth:`radsarc.features.ExtractionSettings.to_dict`).
    """

    def __init__(self, params: dict) -> None:
        self._extractor = featureextractor.RadiomicsFeatureExtractor(params)

    def extract(
        self, image: sitk.Image, mask: sitk.Image, label: int
    ) -> tuple[dict[str, float], dict[str, object]]:
        """Compute features of one image and mask.

        Returns
        -------
        features : dict of str to float
            pyradiomics feature names (``original_glcm_Contrast``) to values.
        diagnostics : dict of str to object
            The ``diagnostics_*`` entries (versions, settings, image and mask
            statistics), values made JSON-friendly.
        """
        result = self._extractor.execute(image, mask, label=label)
        features, diagnostics = {}, {}
        for name, value in result.items():
            if name.startswith("diagnostics_"):
                diagnostics[name] = _plain(value)
            else:
                features[name] = float(value)
        return features, diagnostics
