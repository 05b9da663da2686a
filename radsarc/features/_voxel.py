"""Voxel-wise feature maps from multiparametric MRI, for tissue classification.

Each voxel inside the tumour mask is described by the intensity of every
sequence and by local statistics over a small window around it (mean, standard
deviation, entropy), computed for the whole volume at once with
:func:`scipy.ndimage.uniform_filter`. See ``docs/voxel.md``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

from radsarc.images import Cohort, read_image
from radsarc.images._cohort import case_mask

__all__ = [
    "LOCAL_STATISTICS",
    "local_statistics",
    "voxel_feature_maps",
    "voxel_features",
    "voxel_map",
]

logger = logging.getLogger(__name__)

#: The local statistics :func:`local_statistics` can compute.
LOCAL_STATISTICS = ("mean", "std", "entropy")


def _check_window(window, ndim: int) -> tuple[int, ...]:
    if isinstance(window, Integral) and not isinstance(window, bool):
        window = (int(window),) * ndim
    window = tuple(window)
    if len(window) != ndim or any(
        not isinstance(w, Integral) or isinstance(w, bool) or w < 1 or w % 2 == 0
        for w in window
    ):
        raise ValueError(
            f"window must be an odd positive int or a tuple of {ndim} odd positive "
            f"ints (z, y, x); got {window!r}."
        )
    return tuple(int(w) for w in window)


def _bin_indices(image: np.ndarray, bins: int, mask: np.ndarray | None) -> np.ndarray:
    """Fixed bin number discretisation (0 .. bins-1) over the mask's range."""
    ref = image[mask] if mask is not None else image.ravel()
    low, high = float(ref.min()), float(ref.max())
    if high <= low:
        return np.zeros(image.shape, dtype=np.intp)
    idx = np.floor((image - low) / (high - low) * bins).astype(np.intp)
    return np.clip(idx, 0, bins - 1)


def local_statistics(
    image,
    *,
    window: int | Sequence[int] = (1, 5, 5),
    statistics: Sequence[str] = LOCAL_STATISTICS,
    bins: int = 16,
    mask=None,
) -> dict[str, np.ndarray]:
    """Mean, standard deviation and entropy of the window around every voxel.

    Parameters
    ----------
    image : array-like of shape (z, y, x)
        One sequence (any number of dimensions is accepted).
    window : int or tuple of int, default=(1, 5, 5)
        Odd window size per axis (z, y, x). The default stays in-plane, which
        suits thick-slice MRI.
    statistics : sequence of str, default=("mean", "std", "entropy")
        Any of :data:`LOCAL_STATISTICS`.
    bins : int, default=16
        Number of grey levels for the entropy (fixed bin number over the range
        of the voxels in ``mask``, or of the whole image without a mask; values
        outside that range go to the first or last bin).
    mask : array-like of bool, default=None
        Only sets the grey-level range of the entropy; the windows themselves
        use every voxel, inside the mask or not.

    Returns
    -------
    maps : dict of str to ndarray
        One float map of the image's shape per statistic.

    Notes
    -----
    Edges are handled by repeating the border voxel (``mode="nearest"`` of
    :func:`scipy.ndimage.uniform_filter`, ``np.pad(mode="edge")``). The standard
    deviation is the population one (divisor = window size). The entropy is
    ``-sum_k p_k log2 p_k`` over the grey-level fractions ``p_k`` in the window.
    Cost: one uniform filter per statistic and one per grey level, O(n_voxels)
    each whatever the window size.

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.features import local_statistics
    >>> maps = local_statistics(np.arange(9.0).reshape(1, 3, 3), window=(1, 3, 3))
    >>> float(maps["mean"][0, 1, 1]), float(maps["std"][0, 1, 1]) ** 2
    (4.0, 6.666666666666666)
    """
    image = np.asarray(image, dtype=np.float64)
    size = _check_window(window, image.ndim)
    unknown = sorted(set(statistics) - set(LOCAL_STATISTICS))
    if unknown or not statistics:
        raise ValueError(
            f"statistics must be a non-empty subset of {list(LOCAL_STATISTICS)}; "
            f"got {list(statistics)!r}."
        )
    if isinstance(bins, bool) or not isinstance(bins, Integral) or bins < 2:
        raise ValueError(f"bins must be an int >= 2; got {bins!r}.")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != image.shape or not mask.any():
            raise ValueError(
                f"mask must have the image's shape {image.shape} and at least one "
                f"voxel; got shape {mask.shape} with {int(mask.sum())} voxels."
            )
    out: dict[str, np.ndarray] = {}
    if "mean" in statistics or "std" in statistics:
        # Centre first: E[x^2] - E[x]^2 loses digits on large offsets.
        offset = float(image.mean())
        centred = image - offset
        mean_c = ndimage.uniform_filter(centred, size=size, mode="nearest")
        if "mean" in statistics:
            out["mean"] = mean_c + offset
        if "std" in statistics:
            sq = ndimage.uniform_filter(centred**2, size=size, mode="nearest")
            out["std"] = np.sqrt(np.maximum(sq - mean_c**2, 0.0))
    if "entropy" in statistics:
        idx = _bin_indices(image, int(bins), mask)
        entropy = np.zeros(image.shape)
        for k in np.unique(idx):
            p = ndimage.uniform_filter(
                (idx == k).astype(np.float64), size=size, mode="nearest"
            )
            p = np.clip(p, 0.0, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy -= np.where(p > 1e-12, p * np.log2(p), 0.0)
        out["entropy"] = np.maximum(entropy, 0.0)
    return {name: out[name] for name in statistics}


def voxel_feature_maps(
    images: Mapping[str, np.ndarray],
    *,
    mask=None,
    window: int | Sequence[int] = (1, 5, 5),
    statistics: Sequence[str] = LOCAL_STATISTICS,
    bins: int = 16,
    zscore: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Feature maps of several co-registered sequences.

    Parameters
    ----------
    images : mapping of str to ndarray
        Sequence name to array (z, y, x); all of the same shape.
    mask : array-like of bool, default=None
        Tumour mask; sets the z-score statistics and the entropy's grey-level
        range (see :func:`local_statistics`).
    window, statistics, bins
        As in :func:`local_statistics`.
    zscore : sequence of str, default=()
        Sequences to standardise first by the mean and standard deviation of
        their voxels in ``mask`` (for weighted images whose scale differs
        between scanners; quantitative maps such as ADC are usually left as
        they are).

    Returns
    -------
    maps : dict of str to ndarray
        ``<SEQ>_intensity`` and ``<SEQ>_<statistic>`` for every sequence.
    """
    if not images:
        raise ValueError("images must hold at least one sequence.")
    unknown = sorted(set(zscore) - set(images))
    if unknown:
        raise ValueError(
            f"zscore names sequence(s) {unknown} that are not in images "
            f"{sorted(images)}."
        )
    shapes = {name: np.shape(arr) for name, arr in images.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"All images must have the same shape; got {shapes}.")
    if zscore and mask is None:
        raise ValueError("zscore needs a mask to compute the statistics on.")
    maps: dict[str, np.ndarray] = {}
    for name, arr in images.items():
        arr = np.asarray(arr, dtype=np.float64)
        if name in zscore:
            inside = arr[np.asarray(mask, dtype=bool)]
            sd = inside.std()
            arr = (arr - inside.mean()) / (sd if sd > 0 else 1.0)
        maps[f"{name}_intensity"] = arr
        for stat, value in local_statistics(
            arr, window=window, statistics=statistics, bins=bins, mask=mask
        ).items():
            maps[f"{name}_{stat}"] = value
    return maps


def _label_paths(cohort: Cohort, labels) -> dict[str, Path] | None:
    if labels is None:
        return None
    if isinstance(labels, str):
        root = Path(cohort.source).parent if cohort.source else Path(".")
        paths = {}
        for case in cohort:
            if labels not in case.covariates:
                raise ValueError(
                    f"Case {case.case_id!r} has no covariate {labels!r} (the "
                    "manifest column holding its label-map file)."
                )
            path = Path(str(case.covariates[labels]))
            paths[case.case_id] = path if path.is_absolute() else root / path
        return paths
    if isinstance(labels, Mapping):
        missing = [c for c in cohort.case_ids if c not in labels]
        if missing:
            raise ValueError(f"labels has no label map for case(s) {missing[:5]}.")
        return {c: Path(labels[c]) for c in cohort.case_ids}
    raise TypeError(
        "labels must be None, a manifest column name or a mapping case_id -> "
        f"path; got {type(labels).__name__}."
    )


def voxel_features(
    cohort: Cohort,
    *,
    labels: None | str | Mapping[str, str | os.PathLike] = None,
    window: int | Sequence[int] = (1, 5, 5),
    statistics: Sequence[str] = LOCAL_STATISTICS,
    bins: int = 16,
    zscore: Sequence[str] = (),
    mask_label: int = 1,
    texture_maps: None | str | os.PathLike = None,
) -> pd.DataFrame:
    """One row per voxel inside each case's mask, with its feature values.

    Parameters
    ----------
    cohort : Cohort
        Co-registered sequences per case and a tumour mask (the mask of the
        first sequence is used).
    labels : None, str or mapping, default=None
        Voxel labels (e.g. tissue classes) to add as a column ``"label"``: the
        name of a manifest column holding each case's label-map file (relative
        paths are relative to the manifest), or a mapping case id -> file.
        Voxels with label 0 inside the mask are kept, with label 0 (unlabelled).
    window, statistics, bins, zscore
        As in :func:`voxel_feature_maps`.
    mask_label : int, default=1
        Value of the tumour in the mask files.
    texture_maps : path-like, default=None
        A folder written by :func:`radsarc.features.feature_maps` (or ``radsarc
        maps``) for this cohort: every map ``<texture_maps>/<case_id>/<column>
        .nii.gz`` is added as column ``<column>`` (e.g.
        ``original_glcm_Contrast``), the voxel's pyradiomics voxel-based texture
        feature. Maps must lie on the mask's grid.

    Returns
    -------
    table : DataFrame
        Indexed by (``case_id``, ``z``, ``y``, ``x``); columns
        ``<SEQ>_intensity``, ``<SEQ>_<statistic>``, the texture maps' columns
        and, with ``labels``, ``label``.

    Raises
    ------
    ValueError
        When a mask has no voxel with ``mask_label``, or an image, mask or label
        map does not share the first sequence's grid (naming case and file).
    """
    label_paths = _label_paths(cohort, labels)
    frames = []
    for case in cohort:
        seqs = list(case.images)
        mask_path = case.masks[seqs[0]]
        mask = (
            sitk.GetArrayFromImage(case_mask(case, seqs[0], label=mask_label))
            == mask_label
        )
        if not mask.any():
            raise ValueError(
                f"Mask {mask_path} (case {case.case_id!r}) has no voxels with label "
                f"{mask_label}."
            )
        arrays = {}
        for seq in seqs:
            arr = sitk.GetArrayFromImage(read_image(case.images[seq])).astype(float)
            if arr.shape != mask.shape:
                raise ValueError(
                    f"Image {case.images[seq]} (case {case.case_id!r}) has shape "
                    f"{arr.shape}, the mask {mask_path} {mask.shape}; voxel "
                    "features need co-registered images on one grid."
                )
            arrays[seq or "image"] = arr
        maps = voxel_feature_maps(
            arrays,
            mask=mask,
            window=window,
            statistics=statistics,
            bins=bins,
            zscore=zscore,
        )
        zyx = np.nonzero(mask)
        frame = pd.DataFrame({name: m[zyx] for name, m in maps.items()})
        if texture_maps is not None:
            for name, values in _texture_columns(
                texture_maps, case.case_id, mask.shape, zyx
            ).items():
                frame[name] = values
        if label_paths is not None:
            path = label_paths[case.case_id]
            lab = sitk.GetArrayFromImage(read_image(path, what="label map"))
            if lab.shape != mask.shape:
                raise ValueError(
                    f"Label map {path} (case {case.case_id!r}) has shape "
                    f"{lab.shape}; expected the mask's {mask.shape}."
                )
            frame["label"] = lab[zyx].astype(int)
        frame.index = pd.MultiIndex.from_arrays(
            [np.repeat(case.case_id, zyx[0].size), *zyx],
            names=["case_id", "z", "y", "x"],
        )
        frames.append(frame)
        logger.debug("case %s: %d voxels", case.case_id, zyx[0].size)
    return pd.concat(frames)


def _texture_columns(folder, case_id: str, shape, zyx) -> dict[str, np.ndarray]:
    """The texture maps of one case sampled at the mask's voxels, by column."""
    from radsarc.features._maps import map_dir

    case_dir = map_dir(folder, case_id)
    paths = sorted(case_dir.glob("*.nii.gz"))
    if not paths:
        raise ValueError(
            f"No texture maps for case {case_id!r} in {case_dir}; expected the "
            "<column>.nii.gz files that radsarc.features.feature_maps (radsarc "
            "maps) writes for this cohort."
        )
    out = {}
    for path in paths:
        arr = sitk.GetArrayFromImage(read_image(path))
        if arr.shape != shape:
            raise ValueError(
                f"Texture map {path} (case {case_id!r}) has shape {arr.shape}; "
                f"expected the mask's {shape}."
            )
        out[path.name[: -len(".nii.gz")]] = arr[zyx].astype(np.float64)
    return out


def voxel_map(values: pd.Series, reference: sitk.Image, *, fill=0) -> sitk.Image:
    """Put per-voxel values back on an image grid, e.g. predicted tissue labels.

    Parameters
    ----------
    values : Series
        Indexed by (``z``, ``y``, ``x``) or (``case_id``, ``z``, ``y``, ``x``) of
        one case, as returned by :func:`voxel_features`.
    reference : SimpleITK.Image
        Image whose grid (size, spacing, origin, direction) the map takes.
    fill : scalar, default=0
        Value of the voxels not in ``values``.

    Returns
    -------
    image : SimpleITK.Image
        Integer values give a ``uint8`` (if they fit) or ``int32`` image,
        others ``float32``.
    """
    names = list(values.index.names)
    if names[-3:] != ["z", "y", "x"]:
        raise ValueError(
            f"values must be indexed by (..., 'z', 'y', 'x'); got index names {names}."
        )
    if "case_id" in names and values.index.get_level_values("case_id").nunique() > 1:
        raise ValueError("values must hold the voxels of one case only.")
    shape = reference.GetSize()[::-1]
    data = np.asarray(values.to_numpy())
    if np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.bool_):
        small = data.size == 0 or (data.min() >= 0 and data.max() < 256)
        dtype = np.uint8 if small else np.int32
    else:
        dtype = np.float32
    array = np.full(shape, fill, dtype=dtype)
    z, y, x = (values.index.get_level_values(n).to_numpy() for n in ("z", "y", "x"))
    array[z, y, x] = data
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    return image
