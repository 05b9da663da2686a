"""The IBSI engine: IBSI-conformant image processing and features.

A second feature engine next to pyradiomics (which stays the default), following
the Image Biomarker Standardisation Initiative (IBSI-1 reference manual,
arXiv:1612.07003). Select it in the extraction settings with
``setting: {engine: ibsi}`` and its options under ``setting: {ibsi: {...}}``, or
call it directly:

>>> from radsarc.features.ibsi import IBSIConfig, compute_features, preprocess
>>> config = IBSIConfig(spacing=(2, 2, 2), round_intensities=True,
...                     resegment_range=(-1000, 400), discretisation="fbs",
...                     bin_width=25)                                # doctest: +SKIP
>>> values = compute_features(image, mask, config)                   # doctest: +SKIP
>>> values["stat_mean"], values["cm_joint_max_3D_avg"]              # doctest: +SKIP

Public functions (arrays are (z, y, x) as from ``SimpleITK.GetArrayFromImage``;
spacings given by the user are (x, y, z) as in SimpleITK):

- :func:`preprocess(image, mask, config) <preprocess>` -> :class:`Preprocessed`:
  interpolation on the IBSI-aligned grid (image trilinear / tricubic spline /
  nearest; mask linear then partial-volume threshold), rounding, re-segmentation
  (range then outliers). ``.image``, ``.morph_mask``, ``.int_mask``,
  ``.spacing`` (z, y, x), ``.diagnostics``.
- :func:`interpolate`, :func:`resegment`, :func:`discretise`: the steps alone.
- :func:`compute_features(image, mask, config) <compute_features>` -> dict of
  IBSI tag -> value; :func:`features_of(preprocessed, config) <features_of>` the
  same from a :class:`Preprocessed`.
- :class:`IBSIEngine`: the engine ``extract_features`` uses; IBSI-2 filters of
  the settings' ``filter`` section act on the processed image and add the
  intensity statistics of their response (``<filter type name>_stat_*``).
- :func:`intensity_statistics(values) <intensity_statistics>` -> ``stat_*``;
  :func:`intensity_histogram(levels)`, :func:`intensity_volume_histogram`,
  :func:`local_intensity`, :func:`morphology`, :func:`texture_features`.
- :data:`PHANTOM_CONFIGS`: the IBSI-1 digital phantom and CT phantom
  configurations A-E; :func:`ibsi_feature_code` maps a tag to its 4-character
  IBSI identifier.
"""

from radsarc.features.ibsi._codes import IBSI_CODES, ibsi_feature_code
from radsarc.features.ibsi._compute import (
    ENGINE,
    IBSIEngine,
    compute_features,
    discretised_levels,
    features_of,
)
from radsarc.features.ibsi._config import FAMILIES, PHANTOM_CONFIGS, IBSIConfig
from radsarc.features.ibsi._intensity import (
    intensity_histogram,
    intensity_statistics,
    intensity_volume_histogram,
    local_intensity,
)
from radsarc.features.ibsi._morphology import morphology
from radsarc.features.ibsi._preprocess import (
    Preprocessed,
    discretise,
    interpolate,
    preprocess,
    resegment,
)
from radsarc.features.ibsi._texture import texture_features

__all__ = [
    "ENGINE",
    "FAMILIES",
    "IBSI_CODES",
    "PHANTOM_CONFIGS",
    "IBSIConfig",
    "IBSIEngine",
    "Preprocessed",
    "compute_features",
    "discretise",
    "discretised_levels",
    "features_of",
    "ibsi_feature_code",
    "intensity_histogram",
    "intensity_statistics",
    "intensity_volume_histogram",
    "interpolate",
    "local_intensity",
    "morphology",
    "preprocess",
    "resegment",
    "texture_features",
]
