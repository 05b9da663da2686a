"""IBSI image processing: interpolation, rounding, re-segmentation, discretisation.

Arrays are in SimpleITK's (z, y, x) order; spacings given by the user are (x, y, z)
as in SimpleITK and are reversed once, here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk
from scipy import ndimage, sparse

from radsarc.features.ibsi._config import IBSIConfig

__all__ = [
    "Preprocessed",
    "discretise",
    "interpolate",
    "preprocess",
    "resegment",
]

#: Radius (mm) of the 1 cm^3 sphere of the local intensity features.
PEAK_RADIUS = (3.0 / (4.0 * math.pi)) ** (1.0 / 3.0) * 10.0


@dataclass
class Preprocessed:
    """The result of :func:`preprocess` (arrays in (z, y, x) order).

    Attributes
    ----------
    image : ndarray of float64
        Interpolated (and rounded) intensities; cropped around the ROI unless
        ``crop=False``.
    morph_mask : ndarray of bool
        The interpolated ROI (morphological mask).
    int_mask : ndarray of bool
        The re-segmented ROI (intensity mask).
    spacing : tuple of float
        Voxel spacing (z, y, x) in mm.
    diagnostics : dict of str to float
        IBSI-1 diagnostic values (image and ROI at each step), tagged as in the
        reference tables (``img_dim_x_init_img``, ``int_mask_vox_count_reseg_roi``).
    """

    image: np.ndarray
    morph_mask: np.ndarray
    int_mask: np.ndarray
    spacing: tuple
    diagnostics: dict = field(default_factory=dict)


def _as_array(image, spacing, what: str):
    if isinstance(image, sitk.Image):
        arr = sitk.GetArrayViewFromImage(image)  # read only, no copy
        sp = tuple(float(s) for s in image.GetSpacing())
    else:
        arr = np.asarray(image)
        if spacing is None:
            raise ValueError(
                f"The {what} is an array: pass spacing=(x, y, z) in mm as well."
            )
        sp = tuple(float(s) for s in spacing)
    if arr.ndim == 2:
        arr = arr[None]
        if len(sp) == 2:
            sp = (*sp, 1.0)
    if arr.ndim != 3:
        raise ValueError(f"The {what} must be 3-D (or 2-D); got shape {arr.shape}.")
    if len(sp) != 3:
        raise ValueError(f"spacing must have 3 values (x, y, z); got {sp}.")
    return arr, sp[::-1]


def _new_grid(shape, spacing, new_spacing):
    """Per axis (z, y, x): new size and the original-index coordinate of new 0."""
    sizes, starts, steps = [], [], []
    for n, s, t in zip(shape, spacing, new_spacing, strict=True):
        if t is None or t == s:
            sizes.append(n)
            starts.append(0.0)
            steps.append(1.0)
            continue
        m = int(math.ceil(n * s / t - 1e-9))
        sizes.append(m)
        # IBSI grid alignment: the centres of the old and new grids coincide.
        starts.append(((n - 1) * s - (m - 1) * t) / 2.0 / s)
        steps.append(t / s)
    return sizes, starts, steps


def interpolate(
    image,
    mask,
    config: IBSIConfig,
    *,
    spacing=None,
    label: int = 1,
    crop: bool = True,
    margin: float | None = None,
):
    """Interpolate image and mask on the IBSI-aligned grid.

    Parameters
    ----------
    image, mask : SimpleITK.Image or ndarray
        The image and the ROI mask (voxels equal to ``label``) on the same grid.
    config : IBSIConfig
        ``spacing``, ``interpolation``, ``mask_threshold`` and
        ``round_intensities`` are used.
    spacing : tuple of float, optional
        (x, y, z) spacing in mm when arrays are given.
    label : int, default=1
    crop : bool, default=True
        Compute only the part of the new grid within ``margin`` mm of the ROI.
    margin : float, optional
        Default: the radius of the local-intensity sphere plus two new voxels.

    Returns
    -------
    image : ndarray of float64
    mask : ndarray of bool
    spacing : tuple of float
        New spacing (z, y, x).
    full_shape : tuple of int
        Shape of the whole interpolated grid (z, y, x).
    """
    arr, sp = _as_array(image, spacing, "image")
    marr, msp = _as_array(mask, spacing, "mask")
    if marr.shape != arr.shape:
        raise ValueError(
            f"Image and mask grids differ: image {arr.shape[::-1]}, mask "
            f"{marr.shape[::-1]} (x, y, z)."
        )
    roi = marr == label
    if not roi.any():
        raise ValueError(f"The mask has no voxels with label {label}.")
    new_sp = (
        sp
        if config.spacing is None
        else tuple(
            s if t is None else t for s, t in zip(sp, config.spacing[::-1], strict=True)
        )
    )
    sizes, starts, steps = _new_grid(arr.shape, sp, new_sp)
    full_shape = tuple(sizes)
    if margin is None:
        margin = PEAK_RADIUS + 2.0 * max(new_sp)
    # Per axis, the range of new indices to compute.
    ranges = []
    if crop:
        idx = (
            np.nonzero(roi.any(axis=(1, 2)))[0],
            np.nonzero(roi.any(axis=(0, 2)))[0],
            np.nonzero(roi.any(axis=(0, 1)))[0],
        )
        for ax in range(3):
            lo_mm = (idx[ax][0]) * sp[ax] - margin
            hi_mm = (idx[ax][-1]) * sp[ax] + margin
            j0 = math.floor((lo_mm / sp[ax] - starts[ax]) / steps[ax])
            j1 = math.ceil((hi_mm / sp[ax] - starts[ax]) / steps[ax])
            ranges.append((max(0, j0), min(sizes[ax], j1 + 1)))
    else:
        ranges = [(0, n) for n in sizes]
    same = all(st == 0.0 and sc == 1.0 for st, sc in zip(starts, steps, strict=True))
    if same:
        sl = tuple(slice(a, b) for a, b in ranges)
        out = arr[sl].astype(np.float64)
        out_mask = roi[sl].copy()
    else:
        coords = [
            starts[ax] + steps[ax] * np.arange(*ranges[ax], dtype=np.float64)
            for ax in range(3)
        ]
        # Crop the source around the needed coordinates (spline support).
        pad = 8 if config.interpolation == "cubic" else 2
        src_lo = [max(0, math.floor(c.min()) - pad) for c in coords]
        src_hi = [
            min(n, math.ceil(c.max()) + pad + 1)
            for c, n in zip(coords, arr.shape, strict=True)
        ]
        src = tuple(slice(a, b) for a, b in zip(src_lo, src_hi, strict=True))
        local = [c - a for c, a in zip(coords, src_lo, strict=True)]
        order = {"nearest": 0, "linear": 1, "cubic": 3}[config.interpolation]
        out = _map_separable(arr[src].astype(np.float64), local, order, mode="nearest")
        mvals = _map_separable(roi[src].astype(np.float64), local, 1, mode="constant")
        out_mask = mvals >= config.mask_threshold - 1e-12
    if config.round_intensities:
        out = np.round(out)
    return out, out_mask, tuple(new_sp), full_shape


def _weights(c: np.ndarray, n: int, order: int, mode: str) -> sparse.csr_matrix:
    """Sparse 1-D interpolation matrix (len(c), n) of a B-spline of ``order``.

    For ``order`` 3 it applies to spline coefficients (see ``_map_separable``).
    Indices outside ``[0, n)`` are clamped (``nearest``), mirrored (spline
    coefficients) or dropped (``constant``: zero outside).
    """
    rows = np.arange(c.size)
    all_rows, all_cols, all_w = [], [], []
    if order == 0:
        taps = [(np.floor(c + 0.5).astype(np.int64), np.ones(c.size))]
    elif order == 1:
        k = np.floor(c).astype(np.int64)
        t = c - k
        taps = [(k, 1.0 - t), (k + 1, t)]
    else:
        k = np.floor(c).astype(np.int64)
        t = c - k
        taps = [
            (k - 1, (1.0 - t) ** 3 / 6.0),
            (k, (3.0 * t**3 - 6.0 * t**2 + 4.0) / 6.0),
            (k + 1, (-3.0 * t**3 + 3.0 * t**2 + 3.0 * t + 1.0) / 6.0),
            (k + 2, t**3 / 6.0),
        ]
    for idx, wt in taps:
        if mode == "constant":
            ok = (idx >= 0) & (idx < n)
            all_rows.append(rows[ok])
            all_cols.append(idx[ok])
            all_w.append(wt[ok])
            continue
        if mode == "mirror" and n > 1:
            period = 2 * (n - 1)
            idx = np.abs(idx) % period
            idx = np.where(idx >= n, period - idx, idx)
        all_rows.append(rows)
        all_cols.append(np.clip(idx, 0, n - 1))
        all_w.append(wt)
    # duplicate (row, column) entries are summed
    return sparse.csr_matrix(
        (np.concatenate(all_w), (np.concatenate(all_rows), np.concatenate(all_cols))),
        shape=(c.size, n),
    )


def _map_separable(arr, coords, order, mode):
    """Interpolate on a rectilinear grid, one axis at a time.

    A tensor-product B-spline is separable: after the (separable) spline
    prefilter, each axis is evaluated with a 1-D weight matrix.
    """
    out = arr
    if order > 1:
        out = ndimage.spline_filter(out, order=order, mode="mirror")
        mode = "mirror"
    for ax, c in enumerate(coords):
        n = out.shape[ax]
        if c.size == n and np.array_equal(c, np.arange(n, dtype=np.float64)):
            if order <= 1:
                continue
        w = _weights(c, n, order, mode)
        moved = np.moveaxis(out, ax, 0)
        rest = moved.shape[1:]
        res = w @ moved.reshape(n, -1)  # 2 (linear) or 4 (cubic) taps per row
        out = np.moveaxis(res.reshape(c.size, *rest), 0, ax)
    return np.ascontiguousarray(out)


def resegment(image: np.ndarray, mask: np.ndarray, config: IBSIConfig) -> np.ndarray:
    """The intensity mask: the ROI re-segmented by range, then by outliers."""
    out = mask.copy()
    if config.resegment_range is not None:
        lo, hi = config.resegment_range
        out &= (image >= lo) & (image <= hi)
    if config.resegment_outliers is not None and out.any():
        vals = image[out]
        mu, sd = vals.mean(), vals.std()
        k = float(config.resegment_outliers)
        out &= (image >= mu - k * sd) & (image <= mu + k * sd)
    return out


def discretise(
    values: np.ndarray,
    method: str,
    *,
    n_bins: int = 32,
    bin_width: float = 25.0,
    lower_bound: float | None = None,
    roi_values: np.ndarray | None = None,
) -> np.ndarray:
    """IBSI discretisation of intensities into grey levels 1, 2, ...

    ``fbn``: ``floor(n_bins (x - min) / (max - min)) + 1`` (the maximum in bin
    ``n_bins``), min and max over the ROI; ``fbs``: ``floor((x - lower) / width) +
    1`` with ``lower`` the re-segmentation range's lower bound (``lower_bound``),
    else the ROI minimum; ``none``: the values are grey levels already (rounded).
    """
    ref = values if roi_values is None else roi_values
    if method == "fbn":
        lo, hi = float(ref.min()), float(ref.max())
        if hi == lo:
            return np.ones(values.shape, dtype=np.int64)
        g = np.floor(n_bins * (values - lo) / (hi - lo)).astype(np.int64) + 1
        return np.clip(g, 1, n_bins)
    if method == "fbs":
        lo = float(ref.min()) if lower_bound is None else float(lower_bound)
        g = np.floor((values - lo) / bin_width).astype(np.int64) + 1
        return np.maximum(g, 1)
    g = np.round(values).astype(np.int64)
    if g.size and g.min() < 1:
        raise ValueError(
            "discretisation 'none' needs intensities that are grey levels >= 1; "
            f"the ROI minimum is {float(ref.min())}."
        )
    return g


def _lower_bound(config: IBSIConfig):
    if config.resegment_range is not None and math.isfinite(config.resegment_range[0]):
        return config.resegment_range[0]
    return None


def _roi_diagnostics(image, morph, intm, suffix: str) -> dict:
    out = {}
    shape = image.shape
    for ax, name in zip((2, 1, 0), "xyz", strict=True):
        out[f"int_mask_dim_{name}_{suffix}"] = float(shape[ax])
    extents = {}
    for mname, m in (("int_mask", intm), ("morph_mask", morph)):
        if m is morph and "int_mask" in extents and morph is intm:
            extents[mname] = extents["int_mask"]
        else:
            # project on each axis once: (y, x) plane, then its rows/columns
            plane = m.any(axis=0)
            extents[mname] = (m.any(axis=(1, 2)), plane.any(axis=1), plane.any(axis=0))
        for ax, name in zip((2, 1, 0), "xyz", strict=True):
            nz = np.flatnonzero(extents[mname][ax])
            out[f"{mname}_bb_dim_{name}_{suffix}"] = (
                float(nz[-1] - nz[0] + 1) if nz.size else 0.0
            )
    n_int = int(np.count_nonzero(intm))
    out[f"int_mask_vox_count_{suffix}"] = float(n_int)
    out[f"morph_mask_vox_count_{suffix}"] = float(
        n_int if morph is intm else np.count_nonzero(morph)
    )
    vals = image[intm]
    if vals.size:
        out[f"int_mask_mean_int_{suffix}"] = float(vals.mean(dtype=np.float64))
        out[f"int_mask_min_int_{suffix}"] = float(vals.min())
        out[f"int_mask_max_int_{suffix}"] = float(vals.max())
    return out


def _image_diagnostics(image, spacing_zyx, suffix: str) -> dict:
    out = {}
    for ax, name in zip((2, 1, 0), "xyz", strict=True):
        out[f"img_dim_{name}_{suffix}"] = float(image.shape[ax])
    for ax, name in zip((2, 1, 0), "xyz", strict=True):
        out[f"vox_dim_{name}_{suffix}"] = float(spacing_zyx[ax])
    out[f"mean_int_{suffix}"] = float(image.mean(dtype=np.float64))
    out[f"min_int_{suffix}"] = float(image.min())
    out[f"max_int_{suffix}"] = float(image.max())
    return out


def preprocess(
    image,
    mask,
    config: IBSIConfig | dict | None = None,
    *,
    spacing=None,
    label: int = 1,
    crop: bool = True,
    margin: float | None = None,
    diagnostics: bool = False,
) -> Preprocessed:
    """The IBSI processing chain up to (not including) discretisation.

    Interpolation on the IBSI-aligned grid (image: ``config.interpolation``; mask:
    linear, then ``>= config.mask_threshold``), rounding, and re-segmentation
    (range, then outliers) of the intensity mask. The morphological mask is the
    interpolated ROI.

    Parameters
    ----------
    image, mask : SimpleITK.Image or ndarray
        Image and ROI mask on one grid (arrays in (z, y, x) order with
        ``spacing=(x, y, z)``).
    config : IBSIConfig or dict, optional
    spacing : tuple of float, optional
    label : int, default=1
    crop : bool, default=True
        Keep (and interpolate) only the ROI's surroundings; ``False`` interpolates
        the whole image (needed for the whole-image diagnostics).
    margin : float, optional
        The surroundings kept with ``crop``, in mm (default: the local-intensity
        sphere's radius plus two voxels).
    diagnostics : bool, default=False
        Fill :attr:`Preprocessed.diagnostics`.

    Returns
    -------
    Preprocessed
    """
    config = IBSIConfig.from_dict(config)
    diag: dict = {}
    if diagnostics:
        arr, sp = _as_array(image, spacing, "image")
        marr, _ = _as_array(mask, spacing, "mask")
        roi = marr == label
        diag.update(_image_diagnostics(arr, sp, "init_img"))
        diag.update(_roi_diagnostics(arr, roi, roi, "init_roi"))
    img, morph, new_sp, full_shape = interpolate(
        image, mask, config, spacing=spacing, label=label, crop=crop, margin=margin
    )
    if not morph.any():
        raise ValueError(
            "The ROI is empty after interpolation (partial-volume threshold "
            f"{config.mask_threshold})."
        )
    intm = resegment(img, morph, config)
    if not intm.any():
        raise ValueError(
            "The ROI is empty after re-segmentation (range "
            f"{config.resegment_range}, outliers {config.resegment_outliers})."
        )
    if diagnostics:
        if not crop:
            diag.update(_image_diagnostics(img, new_sp, "interp_img"))
        for suffix, int_roi in (("interp_roi", morph), ("reseg_roi", intm)):
            d = _roi_diagnostics(img, morph, int_roi, suffix)
            for ax, name in zip((2, 1, 0), "xyz", strict=True):
                d[f"int_mask_dim_{name}_{suffix}"] = float(full_shape[ax])
            diag.update(d)
    return Preprocessed(img, morph, intm, tuple(new_sp), diag)
