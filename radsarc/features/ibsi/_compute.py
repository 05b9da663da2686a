"""The IBSI engine: one call from image and mask to tagged feature values."""

from __future__ import annotations

import math

import numpy as np

from radsarc.features.ibsi._config import IBSIConfig
from radsarc.features.ibsi._intensity import (
    intensity_histogram,
    intensity_statistics,
    intensity_volume_histogram,
    local_intensity,
)
from radsarc.features.ibsi._preprocess import Preprocessed, discretise, preprocess

__all__ = [
    "ENGINE",
    "IBSIEngine",
    "compute_features",
    "discretised_levels",
    "features_of",
]

#: Name and version of the IBSI engine (part of the extraction cache key: bump it
#: when a value it computes from the same image and settings changes).
ENGINE = "radsarc IBSI engine 1"


def discretised_levels(pre: Preprocessed, config: IBSIConfig) -> np.ndarray:
    """Grey levels (int, 0 outside the intensity mask) of a preprocessed ROI."""
    vals = pre.image[pre.int_mask]
    lower = None
    if config.resegment_range is not None and math.isfinite(config.resegment_range[0]):
        lower = config.resegment_range[0]
    g = discretise(
        vals,
        config.discretisation,
        n_bins=config.n_bins,
        bin_width=config.bin_width,
        lower_bound=lower,
    )
    out = np.zeros(pre.image.shape, dtype=np.int64)
    out[pre.int_mask] = g
    return out


def compute_features(
    image,
    mask,
    config: IBSIConfig | dict | None = None,
    *,
    spacing=None,
    label: int = 1,
    crop: bool = True,
    diagnostics: bool = False,
) -> dict[str, float]:
    """IBSI features of one image and ROI, keyed by the IBSI-1 reference tags.

    Parameters
    ----------
    image, mask : SimpleITK.Image or ndarray
        Image and ROI mask on one grid. Arrays are (z, y, x) and need
        ``spacing=(x, y, z)``.
    config : IBSIConfig or dict, optional
        Processing and feature settings; default ``IBSIConfig()``.
    spacing : tuple of float, optional
    label : int, default=1
    crop : bool, default=True
        Work on the ROI's surroundings only (see :func:`preprocess`).
    diagnostics : bool, default=False
        Also return the IBSI diagnostic values (``img_dim_x_init_img``, ...).

    Returns
    -------
    dict of str to float
        Tags as in the IBSI-1 reference tables, e.g. ``morph_volume``,
        ``stat_mean``, ``cm_joint_max_3D_avg``, ``szm_sze_2_5D``.
    """
    config = IBSIConfig.from_dict(config)
    pre = preprocess(
        image,
        mask,
        config,
        spacing=spacing,
        label=label,
        crop=crop,
        diagnostics=diagnostics,
    )
    out: dict[str, float] = dict(pre.diagnostics) if diagnostics else {}
    out.update(features_of(pre, config))
    return out


def features_of(pre: Preprocessed, config: IBSIConfig) -> dict[str, float]:
    """The IBSI features of a :func:`preprocess` result (no diagnostics)."""
    from radsarc.features.ibsi._morphology import morphology
    from radsarc.features.ibsi._texture import texture_features

    out: dict[str, float] = {}
    fam = set(config.families)
    vals = pre.image[pre.int_mask]
    if "morph" in fam:
        out.update(morphology(pre.image, pre.morph_mask, pre.int_mask, pre.spacing))
    if "loc" in fam:
        out.update(local_intensity(pre.image, pre.int_mask, pre.spacing))
    if "stat" in fam:
        out.update(intensity_statistics(vals))
    levels = None
    if fam & {"ih", "cm", "rlm", "szm", "dzm", "ngt", "ngl"}:
        levels = discretised_levels(pre, config)
    if "ih" in fam:
        out.update(intensity_histogram(levels[pre.int_mask]))
    if "ivh" in fam:
        own = config.ivh_discretisation is not None
        out.update(
            intensity_volume_histogram(
                vals,
                config.ivh_method,
                n_bins=config.ivh_n_bins if own else config.n_bins,
                bin_width=config.ivh_bin_width if own else config.bin_width,
                resegment_range=config.resegment_range,
            )
        )
    textures = [f for f in ("cm", "rlm", "szm", "dzm", "ngt", "ngl") if f in fam]
    if textures:
        out.update(
            texture_features(
                levels,
                pre.int_mask,
                pre.morph_mask,
                textures,
                config.aggregation,
                ngldm_alpha=config.ngldm_alpha,
            )
        )
    return out


def _filter_margin(filters, image, config: IBSIConfig):
    """``(crop, margin in mm)`` that keeps the filters' reach around the ROI.

    A filter whose response depends on the whole image (Fourier-domain
    Simoncelli, Riesz) needs the whole processed image: ``crop`` False.
    """
    from radsarc.features.ibsi._preprocess import PEAK_RADIUS

    spacing = [float(v) for v in image.GetSpacing()][::-1]  # z, y, x
    if config.spacing is not None:
        spacing = [
            s if t is None else t
            for s, t in zip(spacing, config.spacing[::-1], strict=True)
        ]
    margin = PEAK_RADIUS
    for image_filter in filters:
        reach = image_filter.reach(tuple(spacing))
        if reach is None:
            return False, None
        margin = max(margin, max(r * s for r, s in zip(reach, spacing, strict=True)))
    return True, margin + 2.0 * max(spacing)


class IBSIEngine:
    """The IBSI engine behind ``extract_features`` (``setting: {engine: ibsi}``).

    Parameters
    ----------
    config : IBSIConfig
    filters : sequence of ImageFilter, default=()
        IBSI-2 filters (the settings' ``filter`` section). Each filters the
        processed (interpolated, rounded) image; the IBSI intensity statistics
        of its response in the intensity mask are the filter's features
        (``<filter type name>_stat_mean``, ...), as in IBSI-2 phase 2.
    """

    def __init__(self, config: IBSIConfig, filters=()) -> None:
        self.config = IBSIConfig.from_dict(config)
        self.filters = tuple(filters)

    def n_units(self, ndim: int = 3) -> int:
        """Units of work of one case: computed together, so one."""
        return 1

    def extract(self, image, mask, label: int):
        """Features of one image and mask, named ``original_<IBSI tag>``.

        Returns
        -------
        features : dict of str to float
        diagnostics : dict of str to object
            ``diagnostics_ibsi_<tag>`` (the ROI before and after interpolation
            and re-segmentation) and the engine's settings.
        """
        config = self.config
        crop, margin = True, None
        if self.filters:
            # keep every voxel that a filter response inside the ROI depends on
            crop, margin = _filter_margin(self.filters, image, config)
        pre = preprocess(
            image,
            mask,
            config,
            label=label,
            crop=crop,
            margin=margin,
            diagnostics=True,
        )
        values = features_of(pre, config)
        features, diagnostics = {}, {}
        for tag, value in pre.diagnostics.items():
            diagnostics[f"diagnostics_ibsi_{tag}"] = value
        for tag, value in values.items():
            features[f"original_{tag}"] = float(value)
        for image_filter in self.filters:
            response = image_filter.apply(pre.image, pre.spacing, pre.int_mask)
            stats = intensity_statistics(response[pre.int_mask])
            for tag, value in stats.items():
                features[f"{image_filter.type_name}_{tag}"] = float(value)
        diagnostics["diagnostics_ibsi_settings"] = repr(config.to_dict())
        return features, diagnostics

    def work_items(self, ndim: int = 3) -> list[tuple[int, str, str]]:
        """Units of work of one case: computed together, so one item."""
        return [(0, "", "all")]

    def extract_items(self, image, mask, label: int, items):
        """:meth:`extract` if ``items`` holds the one work item, else nothing."""
        if not list(items):
            return [], {}
        features, diagnostics = self.extract(image, mask, label)
        return [((0,), features)], diagnostics

    def extract_part(self, image, mask, label: int, part: int, n_parts: int):
        """:meth:`extract` as the one share of a case (``part`` 0 of 1)."""
        if not 0 <= part < n_parts:
            raise ValueError(f"part must be in [0, {n_parts}); got {part}.")
        if part > 0:
            return [], {}
        features, diagnostics = self.extract(image, mask, label)
        return [(0, features)], diagnostics
