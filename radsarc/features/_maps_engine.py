"""Voxel-based texture maps with pyradiomics' values, computed at the speed of a CPU.

pyradiomics' ``voxelBased`` extraction computes, for every voxel of the region,
the features of the kernel around it: a full ``Ng x Ng x 13`` GLCM per voxel and
dense formulas over it, and a per-row ``nanpercentile`` for first order. Here:

* **GLCM**: one compiled pass per voxel and angle (:mod:`radsarc.features._kernels`)
  counts the kernel's pairs into the few cells they occupy and computes every
  feature from those cells; the maximal correlation coefficient is the second
  singular value of :math:`D_x^{-1/2} P D_y^{-1/2}` (the eigenvalues of
  pyradiomics' :math:`Q` are its squares), on the gray levels present only.
  Angles whose :math:`Q` is (numerically) of rank one, where pyradiomics' own
  result is the square root of rounding noise (0, ~1e-8 or NaN, which changes
  the mean over angles), are recomputed for those voxels with pyradiomics' own
  dense formulas on the same matrices, so their values are pyradiomics'.
* **GLRLM, GLSZM, GLDM, NGTDM**: compiled loops follow pyradiomics' C extension
  rule by rule (runs with mask interruptions and the ``multiElement`` rule,
  zones grown in the kernel box, dependence and neighbourhood sums) and compute
  pyradiomics' formulas from each kernel's small table of the gray levels
  present; GLDM and NGTDM share one pass.
* **First order**: pyradiomics' own formulas on the same ``(voxels, kernel)``
  array; only the per-row percentiles and medians are replaced by one sort of
  the whole array (same interpolation, same values).

Everything pyradiomics does per batch of voxels (``voxelBatch``: deleting angles
that are empty for the whole batch, a failed feature leaving ``initValue`` for
the batch) is reproduced per batch.
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import radiomics
import SimpleITK as sitk
from radiomics import cMatrices, featureextractor, imageoperations
from radiomics.firstorder import RadiomicsFirstOrder
from radiomics.glcm import RadiomicsGLCM
from radiomics.gldm import RadiomicsGLDM
from radiomics.glrlm import RadiomicsGLRLM
from radiomics.glszm import RadiomicsGLSZM
from radiomics.ngtdm import RadiomicsNGTDM

from radsarc.features import _kernels
from radsarc.features._pyradiomics import _angle_weights, _check_mask, _load

__all__ = ["MAP_CLASSES", "compute_maps"]

logger = logging.getLogger(__name__)

radiomics.setVerbosity(logging.ERROR)

#: Feature classes with voxel-based maps (shape features have none).
MAP_CLASSES = ("firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm")
_CLASSES = {
    "firstorder": RadiomicsFirstOrder,
    "glcm": RadiomicsGLCM,
    "gldm": RadiomicsGLDM,
    "glrlm": RadiomicsGLRLM,
    "glszm": RadiomicsGLSZM,
    "ngtdm": RadiomicsNGTDM,
}
# Voxels per compiled call (bounds the memory of the dense matrices).
_CHUNK = 4096
# Below this, the second eigenvalue of Q is rounding noise in pyradiomics.
_RANK_ONE = 1e-8


def enabled_features(extractor) -> dict[str, list[str]]:
    """Enabled map classes and their features, in pyradiomics' order."""
    out = {}
    for cls_name, names in extractor.enabledFeatures.items():
        if cls_name not in _CLASSES:
            continue
        cls = _CLASSES[cls_name]
        if names is None or len(names) == 0:
            names = [n for n, dep in cls.getFeatureNames().items() if not dep]
        out[cls_name] = list(names)
    return out


@functools.lru_cache(maxsize=8)
def _extractor(params_json: str):
    """A configured extractor per parameter set (validating them takes ~0.3 s)."""
    return featureextractor.RadiomicsFeatureExtractor(json.loads(params_json))


def compute_maps(
    image: sitk.Image,
    mask: sitk.Image,
    params: dict,
    kernel_radius: int | None,
    filters=(),
    threads: int = 1,
) -> tuple[dict[str, np.ndarray], sitk.Image]:
    """Voxel-based feature maps of one image and mask.

    Parameters
    ----------
    image, mask : SimpleITK.Image
    params : dict
        pyradiomics parameters (``voxelSetting`` included).
    kernel_radius : int or None
        Overrides ``voxelSetting.kernelRadius`` (pyradiomics' default: 1).
    filters : sequence of ImageFilter, default=()
        radsarc's IBSI-2 filters (settings section ``filter``), each an image
        type after pyradiomics' own, as in extraction.
    threads : int, default=1
        Threads for the compiled kernels (they release the GIL).

    Returns
    -------
    maps : Maps
        A mapping ``<imagetype>_<class>_<feature>`` to a float64 array on the
        grid of ``reference`` (z, y, x), ``initValue`` (default 0) outside the
        mask; it holds only the region's box and builds each whole-grid array
        when asked.
    reference : SimpleITK.Image
        The image the maps lie on (the input image, or its resampled version
        when the settings resample).
    """
    extractor = _extractor(json.dumps(params, sort_keys=True, default=str))
    settings = extractor.settings.copy()
    settings["voxelBased"] = True
    if kernel_radius is not None:
        settings["kernelRadius"] = int(kernel_radius)
    radius = int(settings.get("kernelRadius", 1))
    settings["kernelRadius"] = radius
    label = settings.get("label", 1)
    image, mask = _load(image, mask, None, **settings)
    bounding_box, corrected = _check_mask(image, mask, **settings)
    if corrected is not None:
        mask = corrected
    if settings.get("resegmentRange") is not None:
        mask = imageoperations.resegmentMask(image, mask, **settings)
        bounding_box, _ = imageoperations.checkMask(image, mask, **settings)
    classes = enabled_features(extractor)
    init_value = float(settings.get("initValue", 0))
    full_shape = image.GetSize()[::-1]
    lower = np.maximum(np.asarray(bounding_box[0::2]) - radius, 0)[::-1]
    maps = Maps(full_shape, tuple(int(v) for v in lower), init_value)

    def add(filtered, type_name, kwargs):
        cropped, cropped_mask = imageoperations.cropToTumorMask(
            filtered, mask, bounding_box, padDistance=radius
        )
        found = _maps_of(cropped, cropped_mask, classes, kwargs, label, threads)
        for cls_name, values in found.items():
            for feat, arr in values.items():
                maps.crops[f"{type_name}_{cls_name}_{feat}"] = arr

    for image_type, custom in extractor.enabledImagetypes.items():
        args = settings.copy()
        args.update(custom)
        generator = getattr(imageoperations, f"get{image_type}Image")(
            image, mask, **args
        )
        for filtered, type_name, kwargs in generator:
            add(filtered, type_name, kwargs)
            del filtered
    if filters:
        from radsarc.images._filters import filtered_image

        for image_filter in filters:
            add(
                filtered_image(image, mask, label, image_filter),
                image_filter.type_name,
                settings,
            )
    return maps, image


class Maps(Mapping):
    """Feature maps held on the region's box, whole-grid arrays on request."""

    def __init__(self, shape, lower, init_value):
        self.shape = tuple(shape)
        self.lower = lower
        self.init_value = init_value
        self.crops: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        crop = self.crops[name]
        full = np.full(self.shape, self.init_value)
        z0, y0, x0 = self.lower
        dz, dy, dx = crop.shape
        full[z0 : z0 + dz, y0 : y0 + dy, x0 : x0 + dx] = crop
        return full

    def __iter__(self):
        return iter(self.crops)

    def __len__(self) -> int:
        return len(self.crops)


class _Case:
    """The discretised kernel inputs of one (filtered, cropped) image."""

    def __init__(self, image: sitk.Image, mask: sitk.Image, settings: dict, label):
        self.settings = settings
        self.image = image
        self.radius = int(settings.get("kernelRadius", 1))
        self.masked = bool(settings.get("maskedKernel", True))
        self.init_value = float(settings.get("initValue", 0))
        batch = int(settings.get("voxelBatch", -1))
        self.array = sitk.GetArrayFromImage(image)
        roi = sitk.GetArrayFromImage(mask) == label
        self.roi = roi
        self.coords = np.array(np.where(roi))  # (3, n), pyradiomics' order
        self.n = self.coords.shape[1]
        self.batch = self.n if batch < 0 else batch
        self.bin_mask = roi if self.masked else np.ones(roi.shape, dtype=bool)
        binned, _ = imageoperations.binImage(self.array, self.bin_mask, **settings)
        self.binned = binned
        self.levels = np.unique(binned[self.bin_mask])
        self.ng = int(np.max(self.levels))
        self.level_index = np.full(self.ng + 1, -1, dtype=np.int64)
        self.level_index[self.levels] = np.arange(len(self.levels))
        self.img32 = np.ascontiguousarray(binned, dtype=np.int32)
        self.msk8 = np.ascontiguousarray(self.bin_mask, dtype=np.uint8)
        self.force2d = bool(settings.get("force2D", False))
        self.f2d = int(settings.get("force2Ddimension", 0)) if self.force2d else -1
        self.size = np.array(self.array.shape)
        self.zyx = np.ascontiguousarray(self.coords.T, dtype=np.int64)
        self.memo: dict = {}
        self.threads = 1

    def angles(self, distances=None, bidirectional=False):
        distances = np.array(
            self.settings.get("distances", [1]) if distances is None else distances
        )
        return np.ascontiguousarray(
            cMatrices.generate_angles(
                self.size,
                distances,
                bidirectional,
                self.force2d,
                self.settings.get("force2Ddimension", 0),
            ),
            dtype=np.int64,
        )

    def batches(self):
        """(start, stop) of pyradiomics' batches."""
        for start in range(0, self.n, self.batch):
            yield start, min(start + self.batch, self.n)

    def chunks(self, start, stop):
        size = _CHUNK
        if self.threads > 1:  # at least one chunk per thread
            size = max(1, min(_CHUNK, -(-(stop - start) // self.threads)))
        for s in range(start, stop, size):
            yield s, min(s + size, stop)

    def run(self, kernel, start, stop, *args) -> list:
        """``kernel`` on the voxels ``start:stop``, chunk by chunk, in order.

        The compiled kernels release the GIL: with ``threads`` > 1 the chunks
        run on that many threads.
        """
        chunks = list(self.chunks(start, stop))

        def one(chunk):
            s, e = chunk
            return kernel(
                self.img32, self.msk8, self.zyx[s:e], self.radius, self.f2d, *args
            )

        if self.threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                return list(pool.map(one, chunks))
        return [one(c) for c in chunks]

    def empty_map(self):
        return np.full(self.array.shape, self.init_value)


def _maps_of(
    image, mask, classes, settings, label, threads=1
) -> dict[str, dict[str, np.ndarray]]:
    case = _Case(image, mask, settings, label)
    case.threads = threads
    out = {}
    for cls_name, names in classes.items():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            values = _FUNCS[cls_name](case, names)
        maps = {}
        for name in names:
            full = case.empty_map()
            if name in values:
                full[tuple(case.coords)] = values[name]
            maps[name] = full
        out[cls_name] = maps
    return out


def _assign(values, name, sl, result, ok=True):
    if not ok:
        return
    arr = values.setdefault(name, None)
    if arr is None:
        return
    arr[sl] = result


# ---------------------------------------------------------------------------
# First order
# ---------------------------------------------------------------------------
def _nanpercentile_rows(sorted_rows, counts, q):
    """``numpy.nanpercentile(row, q)`` for rows sorted with NaN last."""
    quantile = np.true_divide(q, 100)
    virtual = (counts - 1) * quantile
    previous = np.floor(virtual)
    gamma = virtual - previous
    prev_idx = previous.astype(np.int64)
    next_idx = np.minimum(prev_idx + 1, counts - 1)
    rows = np.arange(sorted_rows.shape[0])
    a = sorted_rows[rows, prev_idx]
    b = sorted_rows[rows, next_idx]
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (b - diff * (1 - gamma))[upper]
    return out


class _FirstOrder(RadiomicsFirstOrder):
    """pyradiomics' first-order formulas with whole-array percentiles."""

    def _percentile(self, q):
        return _nanpercentile_rows(self._sorted, self._counts, q)

    def get10PercentileFeatureValue(self):  # noqa: N802 - pyradiomics' name
        return self._percentile(10)

    def get90PercentileFeatureValue(self):  # noqa: N802
        return self._percentile(90)

    def getInterquartileRangeFeatureValue(self):  # noqa: N802
        return self._percentile(75) - self._percentile(25)

    def getMedianFeatureValue(self):  # noqa: N802
        n = self._counts
        rows = np.arange(n.shape[0])
        lo = self._sorted[rows, (n - 1) // 2]
        hi = self._sorted[rows, n // 2]
        return np.where(n % 2 == 1, lo, (lo + hi) / 2.0)


def _firstorder(case: _Case, names):
    settings = case.settings
    r = case.radius
    if case.masked:
        size = case.coords.max(1) - case.coords.min(1) + 1
    else:
        size = np.array(case.array.shape)
    box = np.minimum(size, r * 2 + 1)
    offsets = cMatrices.generate_angles(
        box,
        np.array(range(1, r + 1)),
        True,
        case.force2d,
        settings.get("force2Ddimension", 0),
    )
    offsets = np.append(offsets, [[0, 0, 0]], axis=0).T  # (3, Nk)
    image = case.array.astype("float")
    image[~case.bin_mask] = np.nan
    image = np.pad(image, r, mode="constant", constant_values=np.nan)
    binned = np.pad(case.binned, r, mode="constant", constant_values=0)
    obj = _FirstOrder.__new__(_FirstOrder)
    obj.logger = logging.getLogger("radiomics.firstorder")
    obj.settings = settings
    obj.voxelArrayShift = settings.get("voxelArrayShift", 0)
    obj.pixelSpacing = case.image.GetSpacing()
    values = {n: np.empty(case.n) for n in names}
    for start, stop in case.batches():
        for s, e in case.chunks(start, stop):
            coords = case.coords[:, s:e] + r
            kernel = tuple(offsets[:, None, :] + coords[:, :, None])
            target = image[kernel]
            disc = binned[kernel]
            p_i = np.empty((e - s, len(case.levels)))
            for k, gl in enumerate(case.levels):
                p_i[:, k] = np.nansum(disc == gl, 1)
            sums = np.sum(p_i, 1, keepdims=True).astype("float")
            sums[sums == 0] = 1
            p_i = p_i.astype("float") / sums
            obj.targetVoxelArray = target
            obj.coefficients = {"p_i": p_i}
            obj._sorted = np.sort(target, axis=1)
            obj._counts = np.sum(~np.isnan(target), 1)
            for name in names:
                values[name][s:e] = getattr(obj, f"get{name}FeatureValue")()
    return values


# ---------------------------------------------------------------------------
# GLCM
# ---------------------------------------------------------------------------
_GLCM_INDEX = {name: k for k, name in enumerate(_kernels.GLCM_RAW)}


def _glcm_weights(case: _Case, angles):
    norm = case.settings.get("weightingNorm", None)
    if norm is None:
        return np.empty(0)
    spacing = case.image.GetSpacing()[::-1]
    return _angle_weights(norm, angles, spacing, "glcm")


def _glcm(case: _Case, names):
    angles = case.angles()
    weights = _glcm_weights(case, angles)
    symmetric = bool(case.settings.get("symmetricalGLCM", True))
    values = {n: np.empty(case.n) for n in names}
    failed = {n: np.zeros(case.n, dtype=bool) for n in names}
    for start, stop in case.batches():
        raw = np.concatenate(
            case.run(
                _kernels.glcm_features, start, stop, angles, weights, symmetric, case.ng
            )
        )
        sums = raw[:, _GLCM_INDEX["_sum"], :]
        keep = np.ones(raw.shape[2], dtype=bool)
        if raw.shape[2] > 1:
            keep = (sums > 0).any(0)  # pyradiomics deletes angles empty in the batch
        raw = raw[:, :, keep]
        sums = sums[:, keep]
        any_empty = bool((sums == 0).any())
        sl = slice(start, stop)
        # numpy.nanmean over angles for every feature at once.
        valid = ~np.isnan(raw)
        means = np.where(valid, raw, 0.0).sum(2) / valid.sum(2)
        for name in names:
            if name not in _GLCM_INDEX:
                continue  # deprecated: pyradiomics raises, initValue stays
            k = _GLCM_INDEX[name]
            if name == "JointAverage":
                values[name][sl] = raw[:, k, :].mean(1)  # mean, not nan-mean
            else:
                values[name][sl] = means[:, k]
        # Where pyradiomics' value is rounding noise (Q of rank one: MCC and
        # Imc2; one gray level on one side of an asymmetric GLCM: Correlation),
        # pyradiomics' own formulas run on the same matrices for those voxels.
        rank_one = (raw[:, _GLCM_INDEX["_lambda2"], :] < _RANK_ONE).any(1)
        one_level = (raw[:, _GLCM_INDEX["_one_level"], :] > 0).any(1)
        exact = []
        if "MCC" in names:
            if any_empty:  # eigvals of NaN: pyradiomics fails, even when flat
                failed["MCC"][sl] = True
            elif len(case.levels) < 2:
                values["MCC"][sl] = 1.0  # pyradiomics' value for a flat region
            else:
                exact.append(("MCC", rank_one))
        if "Imc2" in names:
            exact.append(("Imc2", rank_one | one_level))
        if "Correlation" in names:
            exact.append(("Correlation", one_level))
        todo = {name: np.flatnonzero(where) for name, where in exact}
        voxels = np.unique(np.concatenate(list(todo.values()) or [[]]))
        if voxels.size:
            found = _glcm_exact(
                case,
                angles,
                weights,
                symmetric,
                keep,
                start + voxels.astype(np.int64),
                [n for n, v in todo.items() if v.size],
            )
            position = {v: k for k, v in enumerate(voxels)}
            for name, where in todo.items():
                if where.size:
                    rows = [position[v] for v in where]
                    values[name][start + where] = found[name][rows]
    for name in names:
        values[name][failed[name]] = case.init_value
    return {n: v for n, v in values.items() if n in _GLCM_INDEX}


def _glcm_exact(case, angles, weights, symmetric, keep, voxels, names):
    """pyradiomics' own GLCM formulas ``names`` for ``voxels``, same matrices."""
    nlev = len(case.levels)
    idx = voxels if voxels.size > 1 else np.repeat(voxels, 2)  # same array layout
    counts = _kernels.glcm_counts(
        case.img32,
        case.msk8,
        case.zyx[idx],
        case.radius,
        case.f2d,
        angles,
        case.level_index,
        nlev,
    )
    if symmetric:
        counts += np.transpose(counts, (0, 2, 1, 3)).copy()
    if weights.size:
        counts = np.sum(counts * weights[None, None, None, :], 3, keepdims=True)
    else:
        counts = counts[:, :, :, keep]
    sums = np.sum(counts, (1, 2))
    sums[sums == 0] = np.nan
    counts /= sums[:, None, None, :]
    obj = RadiomicsGLCM.__new__(RadiomicsGLCM)
    obj.logger = logging.getLogger("radiomics.glcm")
    obj.P_glcm = counts
    obj.coefficients = {"Ng": case.ng, "grayLevels": case.levels}
    RadiomicsGLCM._calculateCoefficients(obj)
    out = {}
    for name in names:
        try:
            value = getattr(obj, f"get{name}FeatureValue")()
        except np.linalg.LinAlgError:
            value = np.nan
        out[name] = np.broadcast_to(value, (len(idx),))[: voxels.size]
    return out


# ---------------------------------------------------------------------------
# GLRLM, GLSZM, GLDM, NGTDM: compiled matrices, pyradiomics' formulas
# ---------------------------------------------------------------------------
def _glrlm(case: _Case, names):
    angles = case.angles(distances=[1])
    norm = case.settings.get("weightingNorm", None)
    weights = np.empty(0)
    if norm is not None:
        spacing = case.image.GetSpacing()[::-1]
        weights = _angle_weights(norm, angles, spacing, "glrlm")
    values = {}
    raw = np.concatenate(
        case.run(_kernels.glrlm_features, 0, case.n, angles, weights, case.ng)
    )
    # Every GLRLM feature is a nan-mean over angles: empty angles (NaN) drop
    # out whether pyradiomics deletes them for the batch or not.
    for name in names:
        if name in _GLRLM_INDEX:
            values[name] = np.nanmean(raw[:, _GLRLM_INDEX[name], :], 1)
    return values


_GLRLM_INDEX = {name: k for k, name in enumerate(_kernels.GLRLM_RAW)}


_GLSZM_NAMES = (
    "SmallAreaEmphasis",
    "LargeAreaEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "SizeZoneNonUniformity",
    "SizeZoneNonUniformityNormalized",
    "ZonePercentage",
    "GrayLevelVariance",
    "ZoneVariance",
    "ZoneEntropy",
    "LowGrayLevelZoneEmphasis",
    "HighGrayLevelZoneEmphasis",
    "SmallAreaLowGrayLevelEmphasis",
    "SmallAreaHighGrayLevelEmphasis",
    "LargeAreaLowGrayLevelEmphasis",
    "LargeAreaHighGrayLevelEmphasis",
)
# GLDM in the same layout; None: no GLDM counterpart (pyradiomics' deprecated
# GrayLevelNonUniformityNormalized and DependencePercentage raise, leaving
# initValue, as here).
_GLDM_NAMES = (
    "SmallDependenceEmphasis",
    "LargeDependenceEmphasis",
    "GrayLevelNonUniformity",
    None,
    "DependenceNonUniformity",
    "DependenceNonUniformityNormalized",
    None,
    "GrayLevelVariance",
    "DependenceVariance",
    "DependenceEntropy",
    "LowGrayLevelEmphasis",
    "HighGrayLevelEmphasis",
    "SmallDependenceLowGrayLevelEmphasis",
    "SmallDependenceHighGrayLevelEmphasis",
    "LargeDependenceLowGrayLevelEmphasis",
    "LargeDependenceHighGrayLevelEmphasis",
)


def _by_name(raw, layout, names):
    index = {name: k for k, name in enumerate(layout) if name is not None}
    return {name: raw[:, index[name]] for name in names if name in index}


def _glszm(case: _Case, names):
    angles = case.angles(distances=[1])
    raw = np.concatenate(case.run(_kernels.glszm_features, 0, case.n, angles, case.ng))
    return _by_name(raw, _GLSZM_NAMES, names)


def _neighbours(case):
    """GLDM and NGTDM features, computed in one pass for both classes."""
    if "neighbours" not in case.memo:
        parts = case.run(
            _kernels.neighbour_features,
            0,
            case.n,
            case.angles(),
            case.ng,
            int(case.settings.get("gldm_a", 0)),
        )
        case.memo["neighbours"] = (
            np.concatenate([g for g, _ in parts]),
            np.concatenate([n for _, n in parts]),
        )
    return case.memo["neighbours"]


def _gldm(case: _Case, names):
    return _by_name(_neighbours(case)[0], _GLDM_NAMES, names)


def _ngtdm(case: _Case, names):
    return _by_name(_neighbours(case)[1], _kernels.NGTDM_RAW, names)


_FUNCS = {
    "firstorder": _firstorder,
    "glcm": _glcm,
    "gldm": _gldm,
    "glrlm": _glrlm,
    "glszm": _glszm,
    "ngtdm": _ngtdm,
}
