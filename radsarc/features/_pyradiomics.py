"""The feature engine: the only module of radsarc that imports pyradiomics.

Everything pyradiomics-specific (its logger, its extractor class, the split of its
output into features and diagnostics) stays here, so that the engine can change
without touching the rest of radsarc.

:class:`Engine` runs pyradiomics' own feature classes, in the order and with the
pre-processing of ``RadiomicsFeatureExtractor.execute``, and removes the work that
``execute`` repeats or does in quadratic time. Every feature value equals
pyradiomics' (tests/features/test_speed_equivalence.py checks every feature of
every image type against plain pyradiomics):

* **Shape diameters** come from the pairs of pyradiomics' mesh vertices that
  can be the longest instead of its all-pairs loop, and the mesh area and volume from a
  configuration count (:mod:`radsarc.features._mesh`; small masks still use
  pyradiomics' C function, which is then as fast).
* **Gray-level discretisation** is done once per image type and shared by the
  six feature classes that each redo it in pyradiomics, with pyradiomics' own
  ``getBinEdges`` (given only the minimum and maximum it reads, which it would
  otherwise find with Python's ``min``/``max`` over every voxel).
* **Texture matrices** (GLCM, GLRLM, GLSZM, GLDM, NGTDM) from radsarc's own
  kernels (:mod:`radsarc.features._matrices`; bit-identical arrays, about 5x
  faster than pyradiomics' C code on large regions): plain C compiled on first
  use, for every region of :data:`C_KERNELS_MIN_VOXELS` voxels or more; without
  a C compiler numba's, once the work pays for numba's start-up
  (:data:`NUMBA_MIN_WORK`); GLDM and NGTDM from one pass.
* **GLCM MCC**: the matrix ``Q`` is one matrix product per angle instead of a
  Python loop over gray levels.
* **Mask and bounding box** from numpy when image and mask share their grid
  (else pyradiomics' ``checkMask``), label list by ``bincount``, image hashes by
  :mod:`hashlib` (the same SHA1 as ``SimpleITK.Hash``).
* **Wavelet** decompositions are computed on the bounding box plus a margin
  longer than the filters reach (so every voxel that reaches a feature has the
  same inputs and operations, hence the same value), one image at a time,
  instead of all eight at once on the whole volume.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import logging
import sys
from collections.abc import Mapping

import numpy as np
import pywt
import radiomics
import SimpleITK as sitk
from radiomics import (
    cMatrices,
    cShape,
    deprecated,
    featureextractor,
    generalinfo,
    getFeatureClasses,
    imageoperations,
)
from radiomics.firstorder import RadiomicsFirstOrder
from radiomics.glcm import RadiomicsGLCM
from radiomics.gldm import RadiomicsGLDM
from radiomics.glrlm import RadiomicsGLRLM
from radiomics.glszm import RadiomicsGLSZM
from radiomics.ngtdm import RadiomicsNGTDM
from radiomics.shape import RadiomicsShape

from radsarc.features import _mesh
from radsarc.images._filters import filtered_image
from radsarc.images._masks import mask_values

__all__ = [
    "COMPILED_MIN_WORK",
    "C_KERNELS_MIN_VOXELS",
    "ENGINE",
    "NUMBA_MIN_WORK",
    "Engine",
    "compiled_route",
    "cube_tables",
    "feature_classes",
    "image_types",
    "load_compiled_matrices",
    "merge_parts",
]

logger = logging.getLogger(__name__)

#: Engine name and version; part of every cache key.
ENGINE = f"pyradiomics {radiomics.__version__}"

# pyradiomics attaches a stderr handler to its logger at import and logs a warning
# per case for routine events; radsarc records failures itself, so only errors get
# through that handler (pyradiomics' own public switch for this).
radiomics.setVerbosity(logging.ERROR)

# Below this many mesh vertices pyradiomics' own all-pairs C loop is at least as
# fast as radsarc's mesh route (about 5e5 pair comparisons, ~1 ms).
_SMALL_MESH = 1000


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


# ---------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def cube_tables(spacing: tuple[float, float, float]):
    """Per-configuration mesh area and volume, measured with pyradiomics' C code.

    For each of the 256 cube configurations, ``cShape.calculate_coefficients`` is
    run on that single cube at the origin (its area and signed volume) and on
    the cube moved by one voxel along z, y and x (the volume increments; the
    extra cube this adds is measured on its own and subtracted).

    Parameters
    ----------
    spacing : tuple of 3 float
        Voxel spacing in (z, y, x) order.

    Returns
    -------
    area, volume, step : ndarray
        Shapes (256,), (256,) and (256, 3); see
        :func:`radsarc.features._mesh.surface_volume`.
    """
    sp = np.asarray(spacing, dtype=np.float64)
    cubes = np.zeros((256, 2, 2, 2), dtype=bool)
    for bit, (dz, dy, dx) in enumerate(_mesh.GRID_ANGLES):
        cubes[:, dz, dy, dx] = (np.arange(256) >> bit) & 1
    area = np.zeros(256)
    volume = np.zeros(256)
    step = np.zeros((256, 3))
    for conf in range(1, 255):
        area[conf], volume[conf], _ = cShape.calculate_coefficients(cubes[conf], sp)
    for conf in range(1, 255):
        for axis in range(3):
            shape = [2, 2, 2]
            shape[axis] = 3
            moved = np.zeros(shape, dtype=bool)
            upper = [slice(None)] * 3
            upper[axis] = slice(1, 3)
            moved[tuple(upper)] = cubes[conf]
            lower = [slice(None)] * 3
            lower[axis] = slice(0, 2)
            _, both, _ = cShape.calculate_coefficients(moved, sp)
            _, first, _ = cShape.calculate_coefficients(
                np.ascontiguousarray(moved[tuple(lower)]), sp
            )
            step[conf, axis] = both - first - volume[conf]
    for table in (area, volume, step):
        table.setflags(write=False)
    return area, volume, step


def shape_coefficients(mask: np.ndarray, spacing) -> tuple[float, float, tuple]:
    """Surface area, volume and diameters, as ``cShape.calculate_coefficients``.

    Parameters
    ----------
    mask : ndarray of bool, shape (Z, Y, X)
        The mask padded with one voxel of background (as pyradiomics pads it).
    spacing : array-like of 3 float
        Spacing in (z, y, x) order.
    """
    spacing = np.asarray(spacing, dtype=np.float64)
    grid = _mesh.mesh_grid(mask)
    if len(grid) <= _SMALL_MESH:
        return cShape.calculate_coefficients(mask, spacing)
    area, volume = _mesh.surface_volume(
        mask, *cube_tables(tuple(float(s) for s in spacing))
    )
    vertices = _mesh.grid_coordinates(grid, spacing)
    return area, volume, _mesh.maximum_diameters(vertices, grid)


class _Shape(RadiomicsShape):
    """pyradiomics' shape class with :func:`shape_coefficients` for its C call."""

    def __init__(self, inputImage, inputMask, **kwargs):  # noqa: N803
        super().__init__(inputImage, inputMask, **kwargs)
        self.logger = _pyradiomics_logger(type(self))

    def _initSegmentBasedCalculation(self):  # noqa: N802 - pyradiomics' name
        # The same steps as RadiomicsShape._initSegmentBasedCalculation (3.1.4).
        self.pixelSpacing = np.array(self.inputImage.GetSpacing()[::-1])
        self.inputMask = sitk.ConstantPad(self.inputMask, [1, 1, 1], [1, 1, 1])
        self.maskArray = sitk.GetArrayFromImage(self.inputMask) == self.label
        # np.where(self.maskArray != 0), ~5x faster (np.nonzero of a 3-D array
        # is slow): the same index arrays.
        self.labelledVoxelCoordinates = np.unravel_index(
            np.flatnonzero(self.maskArray), self.maskArray.shape
        )
        self.SurfaceArea, self.Volume, self.diameters = shape_coefficients(
            self.maskArray, self.pixelSpacing
        )
        n_voxels = len(self.labelledVoxelCoordinates[0])
        coordinates = np.array(self.labelledVoxelCoordinates, dtype="int").transpose(
            (1, 0)
        )
        physical = coordinates * self.pixelSpacing[None, :]
        physical -= np.mean(physical, axis=0)
        physical /= np.sqrt(n_voxels)
        covariance = np.dot(physical.T.copy(), physical)
        self.eigenValues = np.linalg.eigvals(covariance)
        machine_errors = np.bitwise_and(self.eigenValues < 0, self.eigenValues > -1e-10)
        if np.sum(machine_errors) > 0:
            self.eigenValues[machine_errors] = 0
        self.eigenValues.sort()


# ---------------------------------------------------------------------------
# Shared discretisation
# ---------------------------------------------------------------------------
def _bin_image(matrix: np.ndarray, mask: np.ndarray, settings: dict):
    """``imageoperations.binImage(matrix, mask, **settings)``, minimum work.

    ``getBinEdges`` uses only the minimum and maximum of the values (fixed bin
    width: ``min``/``max``; fixed bin count: ``numpy.histogram``, whose edges are
    a ``linspace`` between them), so it is given those two values (same dtype)
    instead of every voxel. With NaN among the values (where Python's ``min``
    depends on the order) every voxel is passed, as pyradiomics does.
    """
    values = matrix[mask]
    if values.size and not np.isnan(values.min()):
        extremes = np.array([values.min(), values.max()], dtype=values.dtype)
        edges = imageoperations.getBinEdges(extremes, **settings)
    else:
        edges = imageoperations.getBinEdges(values, **settings)
    out = np.zeros(matrix.shape, dtype="int")
    out[mask] = _digitize(values, np.asarray(edges))
    return out


def _digitize(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``numpy.digitize(values, edges)`` for increasing ``edges``, ~3x faster.

    The bin of each value is estimated from equal-width bins, then checked
    against the edges themselves (``edges[k-1] <= v < edges[k]``, which holds
    for exactly one ``k``: the number of edges <= v); values whose estimate
    fails the check (rounding at an edge, unequal bins, NaN) go to
    ``numpy.digitize``. The result is ``numpy.digitize``'s. Integer values (up
    to 32 bits: an MRI's int16) are checked as float64, the type in which
    ``numpy.digitize`` compares them with float edges.
    """
    n = len(edges)
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    exact = values.dtype.kind == "f" or (
        values.dtype.kind in "iu" and values.dtype.itemsize <= 4
    )
    if n < 2 or values.size < 4096 or not exact:
        return np.digitize(values, edges)
    lo = float(edges[0])
    step = (float(edges[-1]) - lo) / (n - 1)
    if not (np.isfinite(step) and step > 0 and np.all(np.diff(edges) >= 0)):
        return np.digitize(values, edges)
    # (the estimate needs no particular rounding: the check below decides; the
    # operations work in place, as a fresh or forked process pays for every
    # new page of its temporaries)
    guess = values - lo
    guess /= step
    np.floor(guess, out=guess)
    np.fmax(guess, -1, out=guess)  # NaN -> -1 (then fails the check)
    np.fmin(guess, n - 1, out=guess)
    k = guess.astype(np.intp)
    del guess
    k += 1
    bounds = np.concatenate([[-np.inf], edges.astype(np.float64), [np.inf]])
    # integers are compared with the float64 bounds as float64 (exact up to 32
    # bits), as numpy.digitize compares them
    edge = bounds.take(k)
    ok = edge <= values
    bounds[1:].take(k, out=edge)  # bounds[k + 1]
    ok &= values < edge
    if not ok.all():
        bad = ~ok
        k[bad] = np.digitize(values[bad], edges)
    return k


def _pyradiomics_logger(cls) -> logging.Logger:
    """The logger of the pyradiomics class ``cls`` derives from.

    pyradiomics' classes log to ``logging.getLogger(self.__module__)``; for
    radsarc's subclasses that would be this module's logger, outside the
    ``radiomics`` hierarchy that :func:`radiomics.setVerbosity` quiets, and
    routine notes ("GLCM is symmetrical, ...") would reach the user.
    """
    for base in cls.__mro__:
        if base.__module__.startswith("radiomics."):
            return logging.getLogger(base.__module__)
    return logger


class _Binning:
    """Mixin: the discretised image is computed once per image and shared.

    ``shared`` is a dict owned by one (image, mask, settings) combination; the
    first class computes the discretisation, the others copy it.
    """

    def __init__(self, inputImage, inputMask, shared=None, **kwargs):  # noqa: N803
        self._shared = {} if shared is None else shared
        super().__init__(inputImage, inputMask, **kwargs)
        self.logger = _pyradiomics_logger(type(self))

    def _calculateFeatures(self, voxelCoordinates=None):  # noqa: N802, N803
        # radsarc's versions of pyradiomics' formulas overflow or divide 0 by 0
        # where pyradiomics' do (intensities of 1e300: Energy inf, Skewness
        # nan) and give the same inf / nan, but numpy's RuntimeWarning would
        # come from radsarc's module: noise for the user, and under an
        # "error::RuntimeWarning" filter an exception that pyradiomics' loop
        # turns into NaN (an infinite Energy reported as NaN). The values are
        # the same without the warnings; infinite features are refused by
        # extract with a message.
        # (pyradiomics' _calculateFeatures is a generator: the state holds
        # until its last feature.)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            yield from super()._calculateFeatures(voxelCoordinates)

    def _initSegmentBasedCalculation(self):  # noqa: N802 - pyradiomics' name
        # base.RadiomicsFeaturesBase's (3.1.4), once per image: every class of
        # one image has the same mask and label, and only reads the array.
        key = ("mask", self.label)
        if key not in self._shared:
            shared_mask = sitk.GetArrayFromImage(self.inputMask) == self.label
            shared_mask.setflags(write=False)
            self._shared[key] = shared_mask
        self.maskArray = self._shared[key]

    def _applyBinning(self, matrix):  # noqa: N802 - pyradiomics' name
        if "matrix" not in self._shared:
            binned = _bin_image(matrix, self.maskArray, self.settings)
            inside = binned[self.maskArray]
            if inside.size and inside.min() >= 0 and inside.max() < 1 << 22:
                # np.unique(inside) from the histogram (the levels are >= 1)
                counts = np.bincount(inside, minlength=1)
                levels = np.flatnonzero(counts).astype(inside.dtype)
                self._shared["counts"] = counts[levels]
            else:
                levels = np.unique(inside)
            self._shared.update(matrix=binned, levels=levels, ng=int(np.max(levels)))
        self.coefficients["grayLevels"] = self._shared["levels"].copy()
        self.coefficients["Ng"] = self._shared["ng"]
        # Read-only: pyradiomics' classes only read it (writing would raise).
        view = self._shared["matrix"].view()
        view.setflags(write=False)
        return view

    def _angles_weighted(self, p, angles, kind: str, unknown: str):
        """pyradiomics' last steps of a GLCM / GLRLM (3.1.4): the angles weighted
        and summed (``weightingNorm``), then the empty angles deleted.

        Returns ``(p, sums)``: the matrix and its per-angle sums, NaN where 0.
        """
        if self.weightingNorm is not None:
            known = ("infinity", "euclidean", "manhattan", "no_weighting")
            if self.weightingNorm not in known:
                self.logger.warning(unknown, self.weightingNorm)
            weights = _angle_weights(
                self.weightingNorm, angles, self.inputImage.GetSpacing()[::-1], kind
            )
            p = np.sum(p * weights[None, None, None, :], 3, keepdims=True)
        sums = np.sum(p, (1, 2))
        if p.shape[3] > 1:
            empty_angles = np.where(np.sum(sums, 0) == 0)
            if len(empty_angles[0]) > 0:
                p = np.delete(p, empty_angles, 3)
                sums = np.delete(sums, empty_angles, 1)
        sums[sums == 0] = np.nan
        return p, sums

    def _region(self):
        """The shared :class:`radsarc.features._matrices.Region`, or None.

        None (pyradiomics' C matrices) unless the engine chose the compiled
        matrices for this image (``shared["compiled"]``) and the extraction is
        segment-based.
        """
        if self.voxelBased or not self._shared.get("compiled", False):
            return None
        if "region" not in self._shared:
            from radsarc.features import _matrices

            self._shared["region"] = _matrices.Region(self.imageArray, self.maskArray)
        return self._shared["region"]

    def _angles(self, distances, bidirectional):
        """pyradiomics' angles for this image (as its C matrix functions make them)."""
        return cMatrices.generate_angles(
            np.array(self.imageArray.shape),
            np.array(distances),
            bool(bidirectional),
            bool(self.settings.get("force2D", False)),
            int(self.settings.get("force2Ddimension", 0)),
        )

    def _neighbours(self, alpha):
        """GLDM and NGTDM matrices of one compiled pass, shared by both classes."""
        from radsarc.features import _matrices

        distances = tuple(self.settings.get("distances", [1]))
        key = ("neighbours", distances, alpha)
        if key not in self._shared:
            self._shared[key] = _matrices.gldm_ngtdm(
                self._region(),
                self.coefficients["Ng"],
                self._angles(distances, True),
                alpha,
            )
        return self._shared[key]


def _empty_levels(coefficients) -> np.ndarray:
    """Gray levels 1..Ng absent from the region (pyradiomics' ``emptyGrayLevels``)."""
    ng = coefficients["Ng"]
    return np.array(
        list(set(range(1, ng + 1)) - set(coefficients["grayLevels"])), dtype=int
    )


def _angle_weights(norm, angles, spacing, kind):
    """pyradiomics' angle weights (GLCM: ``kind='glcm'``, GLRLM: ``'glrlm'``)."""
    weights = np.empty(len(angles))
    for k, a in enumerate(angles):
        if kind == "glcm":
            if norm == "infinity":
                weights[k] = np.exp(-(max(np.abs(a) * spacing) ** 2))
            elif norm == "euclidean":
                weights[k] = np.exp(-np.sum((np.abs(a) * spacing) ** 2))
            elif norm == "manhattan":
                weights[k] = np.exp(-(np.sum(np.abs(a) * spacing) ** 2))
            else:
                weights[k] = 1
        elif norm == "infinity":
            weights[k] = max(np.abs(a) * spacing)
        elif norm == "euclidean":
            weights[k] = np.sqrt(np.sum((np.abs(a) * spacing) ** 2))
        elif norm == "manhattan":
            weights[k] = np.sum(np.abs(a) * spacing)
        else:
            weights[k] = 1
    return weights


def _plain_sorted_rows(values: np.ndarray) -> bool:
    """Sorted float64 rows without NaN (sorted last): numpy's order statistics
    of them are computed directly (:func:`_sorted_percentiles`,
    :func:`_sorted_median`)."""
    return (
        values.ndim == 2
        and values.dtype == np.float64
        and values.shape[1] > 0
        and not np.isnan(values[:, -1]).any()
    )


def _sorted_percentiles(values: np.ndarray, qs) -> np.ndarray:
    """``numpy.percentile(values, qs, axis=1)`` of rows that are already sorted.

    numpy's linear method step by step (numpy 2: ``_quantile``, ``_get_indexes``,
    ``_lerp``), on the sorted rows instead of a partitioned copy: the same
    values to the bit (tests/features/test_speed_equivalence.py). numpy's own
    path also calls ``numpy.unique``, which imports ``numpy.ma`` (10-25 ms) in
    a fresh process. Rows with NaN (sorted last) or non-float rows go to numpy.
    """
    values = np.asarray(values)
    if not _plain_sorted_rows(values):
        return np.percentile(values, qs, axis=1)
    n = values.shape[1]
    q = np.true_divide(np.asanyarray(qs), 100)
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    gamma = np.asanyarray(virtual - previous, dtype=virtual.dtype)[:, None]
    a = values[:, previous.astype(np.intp)].T
    b = values[:, following.astype(np.intp)].T
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _sorted_median(values: np.ndarray) -> np.ndarray:
    """``numpy.median(values, 1)`` of rows that are already sorted.

    numpy's ``_median``: the middle value, or the mean of the two middle
    values (their sum halved, as ``numpy.mean`` of two values computes it),
    without the partition and without ``numpy.ma`` (which numpy's NaN check
    imports); rows with NaN (sorted last) or non-float rows go to numpy.
    """
    values = np.asarray(values)
    if not _plain_sorted_rows(values):
        return np.median(values, 1)
    n = values.shape[1]
    half = n // 2
    if n % 2:
        return values[:, half].copy()
    return np.true_divide(np.add(values[:, half - 1], values[:, half]), 2)


class _FirstOrder(_Binning, RadiomicsFirstOrder):
    """``RadiomicsFirstOrder`` (3.1.4) computing shared quantities once.

    pyradiomics recomputes the mean in each of its four ``_moment`` calls, the
    second moment twice, the 10th and 90th percentiles twice and each
    percentile with a ``nan`` function (a copy and a NaN scan per call). With
    no NaN among the region's values (the usual case) the same numpy
    reductions run once each on the same arrays (``numpy.mean`` and
    ``numpy.nanmean`` add the same values in the same order; the percentiles
    come from one ``numpy.percentile`` call, each quantile interpolated as in
    its own call), so the values are identical. With NaN values every feature
    is pyradiomics' own. The histogram counts come from a ``bincount`` of the
    shared discretised image instead of ``numpy.unique``.
    """

    def _initCalculation(self, voxelCoordinates=None):  # noqa: N802, N803
        if voxelCoordinates is not None or "levels" not in self._shared:
            super()._initCalculation(voxelCoordinates)
            self._plain = False
            return
        values = self.imageArray[self.maskArray].astype("float").reshape((1, -1))
        self.targetVoxelArray = values
        if "counts" in self._shared:
            counts = self._shared["counts"].reshape((1, -1))
        else:
            binned = self.discretizedImageArray[self.maskArray]
            counts = np.bincount(binned)[self._shared["levels"]].reshape((1, -1))
        total = np.sum(counts, 1, keepdims=True).astype("float")
        total[total == 0] = 1
        self.coefficients["p_i"] = counts.astype("float") / total
        self._plain = values.size > 0 and not np.isnan(values).any()
        self._cache = {}

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _deviation(self):
        a = self.targetVoxelArray
        return self._cached("dev", lambda: a - np.mean(a, 1, keepdims=True))

    def _central(self, moment):
        """Central moment 2, 3 or 4 (``_moment``), the powers as products.

        ``numpy.power(d, 2)`` is ``d * d``; ``d ** 3`` and ``d ** 4`` come from
        ``d * d`` times ``d`` and times itself (libm's ``pow``, which numpy uses
        for them, is ~40x slower): each term may differ from ``pow``'s by one
        unit in the last place, which moves the moments by ~1e-16 relative.
        """

        def compute():
            square = self._cached("square", lambda: np.power(self._deviation(), 2))
            if moment == 2:
                return np.mean(square, 1)
            other = self._deviation() if moment == 3 else square
            return np.mean(square * other, 1)

        return self._cached(("moment", moment), compute)

    def _sorted(self):
        # Percentiles and the median are order statistics (and interpolations
        # between them): the same values from a sorted copy, where numpy's
        # selection is cheap (one sort instead of five partitions).
        return self._cached("sorted", lambda: np.sort(self.targetVoxelArray, 1))

    def _percentile(self, q):
        def compute():
            qs = (10, 25, 75, 90)
            found = _sorted_percentiles(self._sorted(), qs)
            return dict(zip(qs, found, strict=True))

        return self._cached("percentiles", compute)[q]

    def getEnergyFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getEnergyFeatureValue()
        return self._cached(
            "energy",
            lambda: np.sum((self.targetVoxelArray + self.voxelArrayShift) ** 2, 1),
        )

    def getMinimumFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getMinimumFeatureValue()
        return np.min(self.targetVoxelArray, 1)

    def getMaximumFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getMaximumFeatureValue()
        return np.max(self.targetVoxelArray, 1)

    def get10PercentileFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().get10PercentileFeatureValue()
        return self._percentile(10)

    def get90PercentileFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().get90PercentileFeatureValue()
        return self._percentile(90)

    def getMeanFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getMeanFeatureValue()
        return np.mean(self.targetVoxelArray, 1)

    def getMedianFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getMedianFeatureValue()
        return _sorted_median(self._sorted())

    def getInterquartileRangeFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getInterquartileRangeFeatureValue()
        return self._percentile(75) - self._percentile(25)

    def getRangeFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getRangeFeatureValue()
        return np.max(self.targetVoxelArray, 1) - np.min(self.targetVoxelArray, 1)

    def getMeanAbsoluteDeviationFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getMeanAbsoluteDeviationFeatureValue()
        return np.mean(np.absolute(self._deviation()), 1)

    def getRobustMeanAbsoluteDeviationFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getRobustMeanAbsoluteDeviationFeatureValue()
        # pyradiomics sets the values outside [P10, P90] to NaN and takes
        # nanmeans: sums over the whole array with zeros in their place.
        a = self.targetVoxelArray
        outside = ((a - self._percentile(10)[:, None]) < 0) | (
            (a - self._percentile(90)[:, None]) > 0
        )
        inside = np.where(outside, 0.0, a)
        count = np.sum(~outside, 1)
        mean = np.sum(inside, 1, keepdims=True) / count[:, None]
        spread = np.where(outside, 0.0, np.absolute(a - mean))
        return np.sum(spread, 1) / count

    def getRootMeanSquaredFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getRootMeanSquaredFeatureValue()
        n_voxels = self.targetVoxelArray.shape[1]
        return np.sqrt(self.getEnergyFeatureValue() / n_voxels)

    @deprecated  # as pyradiomics' (computed only when enabled by name)
    def getStandardDeviationFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getStandardDeviationFeatureValue()
        return np.std(self.targetVoxelArray, axis=1)

    def _standardised(self, moment: int, power: float):
        # pyradiomics' steps as they are: m2's zeros become 1 before the
        # moment's are looked for (so none is found).
        m2 = self._central(2).copy()
        mk = self._central(moment).copy()
        m2[m2 == 0] = 1
        mk[m2 == 0] = 0
        return mk / m2**power

    def getSkewnessFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getSkewnessFeatureValue()
        return self._standardised(3, 1.5)

    def getKurtosisFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getKurtosisFeatureValue()
        return self._standardised(4, 2.0)

    def getVarianceFeatureValue(self):  # noqa: N802
        if not self._plain:
            return super().getVarianceFeatureValue()
        return np.std(self.targetVoxelArray, 1) ** 2


class _GLCM(_Binning, RadiomicsGLCM):
    def _calculateMatrix(self, voxelCoordinates=None):  # noqa: N802, N803
        """``RadiomicsGLCM._calculateMatrix`` (3.1.4) with the compiled GLCM."""
        region = self._region()
        if region is None:
            return super()._calculateMatrix(voxelCoordinates)
        angles = self._angles(self.settings.get("distances", [1]), False)
        p_glcm = _matrices_module().glcm(region, self.coefficients["Ng"], angles)
        empty = _empty_levels(self.coefficients)
        p_glcm = np.delete(p_glcm, empty - 1, 1)
        p_glcm = np.delete(p_glcm, empty - 1, 2)
        if self.symmetricalGLCM:
            p_glcm += np.transpose(p_glcm, (0, 2, 1, 3)).copy()
        p_glcm, sum_p = self._angles_weighted(
            p_glcm, angles, "glcm", 'weigthing norm "%s" is unknown, W is set to 1'
        )
        p_glcm /= sum_p[:, None, None, :]
        return p_glcm

    def _calculateCoefficients(self):  # noqa: N802 - pyradiomics' name
        """``RadiomicsGLCM._calculateCoefficients`` with vectorised sum/difference.

        :math:`p_{x+y}(k)` and :math:`p_{x-y}(k)` are sums of the GLCM over
        ``i + j == k`` and ``|i - j| == k``; they are taken with one
        ``bincount`` per (image, angle) instead of one boolean mask per ``k``
        (same sums, another addition order).
        """
        ng = self.coefficients["Ng"]
        eps = np.spacing(1)
        levels = self.coefficients["grayLevels"].astype("float")
        i, j = np.meshgrid(levels, levels, indexing="ij", sparse=True)
        k_sum = np.arange(2, (ng * 2) + 1, dtype="float")
        k_diff = np.arange(0, ng, dtype="float")
        p = self.P_glcm
        px = p.sum(2, keepdims=True)
        py = p.sum(1, keepdims=True)
        ux = np.sum(i[None, :, :, None] * p, (1, 2), keepdims=True)
        uy = np.sum(j[None, :, :, None] * p, (1, 2), keepdims=True)
        self.coefficients["pxAddy"] = _sum_by(p, (i + j).astype(int) - 2, len(k_sum))
        self.coefficients["pxSuby"] = _sum_by(p, np.abs(i - j).astype(int), len(k_diff))
        hxy = (-1) * np.sum((p * np.log2(p + eps)), (1, 2))
        self.coefficients.update(
            eps=eps,
            i=i,
            j=j,
            kValuesSum=k_sum,
            kValuesDiff=k_diff,
            px=px,
            py=py,
            ux=ux,
            uy=uy,
            HXY=hxy,
        )

    def _cluster_power(self, power):
        r"""``((i + j)[None, :, :, None] - ux - uy) ** power``, from its few values.

        The base depends on :math:`i + j` only (at most 2 Ng - 1 values per
        angle): the same subtractions and the same ``**`` (libm's ``pow``) on
        those values, spread back over the (Ng, Ng) grid, give the same array
        as pyradiomics' ``pow`` of every cell.
        """
        i = self.coefficients["i"]
        j = self.coefficients["j"]
        sums = i + j
        values, where = _distinct(sums)
        ux = self.coefficients["ux"][:, :, 0, :]  # (v, 1, angles)
        uy = self.coefficients["uy"][:, :, 0, :]
        base = values[None, :, None] - ux - uy  # (v, sums, angles)
        return (base**power)[:, where, :]

    def getClusterProminenceFeatureValue(self):  # noqa: N802
        cp = np.sum(self.P_glcm * self._cluster_power(4), (1, 2))
        return np.nanmean(cp, 1)

    def getClusterShadeFeatureValue(self):  # noqa: N802
        cs = np.sum(self.P_glcm * self._cluster_power(3), (1, 2))
        return np.nanmean(cs, 1)

    def getMCCFeatureValue(self):  # noqa: N802 - pyradiomics' name
        r"""Maximal Correlation Coefficient, as pyradiomics defines it.

        :math:`Q(i, j) = \sum_k p(i,k) p(j,k) / (p_x(i) p_y(k) + \epsilon)` is
        computed per angle as the matrix product :math:`A P^T` with
        :math:`A(i, k) = p(i,k) / (p_x(i) p_y(k) + \epsilon)`: the same sum, in
        another order (relative difference ~1e-15).
        """
        px = self.coefficients["px"]
        py = self.coefficients["py"]
        eps = self.coefficients["eps"]
        p = np.moveaxis(self.P_glcm, 3, 1)  # (v, d, i, k)
        denom = (
            np.moveaxis(px[:, :, 0, :], 2, 1)[..., None]
            * np.moveaxis(py[:, 0, :, :], 2, 1)[:, :, None, :]
        )
        q = (p / (denom + eps)) @ np.swapaxes(p, 2, 3)
        q_eigen = np.linalg.eigvals(q)
        q_eigen.sort()
        if q_eigen.shape[2] < 2:
            return 1  # flat region
        mcc = np.sqrt(q_eigen[:, :, -2])
        return np.nanmean(mcc, 1).real


def _distinct(values: np.ndarray):
    """``numpy.unique(values, return_inverse=True)``, the inverse in ``values``' shape.

    Integer-valued floats (sums of gray levels) from a ``bincount`` instead of a
    sort: the same values and indices. (numpy 2's ``unique`` also imports
    ``numpy.ma`` on first use, ~6-10 ms in a fresh or forked process.)
    """
    whole = values.astype(np.int64)
    if values.size and 0 <= whole.min() and whole.max() < 1 << 22:
        if np.array_equal(whole, values):
            present = np.flatnonzero(np.bincount(whole.ravel()))
            lookup = np.zeros(int(present[-1]) + 1, np.intp)
            lookup[present] = np.arange(len(present))
            return present.astype(values.dtype), lookup[whole]
    found, where = np.unique(values, return_inverse=True)
    return found, where.reshape(values.shape)


def _sum_by(p: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """``out[v, k, a] = p[v, index == k, a].sum()`` for every v and a."""
    nv, ng, _, na = p.shape
    flat = np.broadcast_to(index, (ng, ng)).ravel()
    out = np.empty((nv, n, na))
    for v in range(nv):
        for a in range(na):
            out[v, :, a] = np.bincount(
                flat, weights=p[v, :, :, a].ravel(), minlength=n
            )[:n]
    return out


def _matrices_module():
    from radsarc.features import _matrices

    return _matrices


class _GLRLM(_Binning, RadiomicsGLRLM):
    def _calculateMatrix(self, voxelCoordinates=None):  # noqa: N802, N803
        """``RadiomicsGLRLM._calculateMatrix`` (3.1.4) with the compiled GLRLM."""
        region = self._region()
        if region is None:
            return super()._calculateMatrix(voxelCoordinates)
        angles = self._angles([1], False)
        p_glrlm = _matrices_module().glrlm(
            region, self.coefficients["Ng"], int(np.max(self.imageArray.shape)), angles
        )
        p_glrlm = np.delete(p_glrlm, _empty_levels(self.coefficients) - 1, 1)
        p_glrlm, nr = self._angles_weighted(
            p_glrlm,
            angles,
            "glrlm",
            'weigthing norm "%s" is unknown, weighting factor is set to 1',
        )
        self.coefficients["Nr"] = nr
        return p_glrlm


class _GLSZM(_Binning, RadiomicsGLSZM):
    def _calculateMatrix(self, voxelCoordinates=None):  # noqa: N802, N803
        """``RadiomicsGLSZM._calculateMatrix`` (3.1.4) with the compiled GLSZM."""
        region = self._region()
        if region is None:
            p_glszm = super()._calculateMatrix(voxelCoordinates)
            if voxelCoordinates is not None or p_glszm.shape[0] != 1:
                return p_glszm
            # pyradiomics' C matrix, compacted like the compiled one: both
            # routes give the same values, whichever a process has loaded
            # (they used to differ in the last bit of a few features).
            present = np.flatnonzero(np.sum(p_glszm, (0, 1)))
            self._zone_sizes = (present + 1).astype(np.float64)
            return np.ascontiguousarray(p_glszm[:, :, present])
        p_glszm, self._zone_sizes = _matrices_module().glszm_compact(
            region, self.coefficients["Ng"], self._angles([1], True)
        )
        return np.delete(p_glszm, _empty_levels(self.coefficients) - 1, 1)

    def _calculateCoefficients(self):  # noqa: N802 - pyradiomics' name
        """``RadiomicsGLSZM._calculateCoefficients`` (3.1.4) on the compact GLSZM.

        The compiled route keeps only the columns of zone sizes present, which
        are the columns pyradiomics keeps after deleting the empty ones; its
        sums over the deleted (zero) columns are sums of integer counts, exact
        in any order, so every coefficient is the same.
        """
        sizes = getattr(self, "_zone_sizes", None)
        if sizes is None:
            return super()._calculateCoefficients()
        ps = np.sum(self.P_glszm, 1)
        pg = np.sum(self.P_glszm, 2)
        nz = np.sum(self.P_glszm, (1, 2))
        nz[nz == 0] = 1
        n_p = np.sum(ps * sizes[None, :], 1)
        n_p[n_p == 0] = 1
        self.coefficients["Np"] = n_p
        self.coefficients["Nz"] = nz
        self.coefficients["ps"] = ps
        self.coefficients["pg"] = pg
        self.coefficients["ivector"] = self.coefficients["grayLevels"].astype(float)
        self.coefficients["jvector"] = sizes


def _integral(alpha) -> bool:
    try:
        return float(alpha).is_integer()
    except (TypeError, ValueError):
        return False


class _GLDM(_Binning, RadiomicsGLDM):
    def _calculateMatrix(self, voxelCoordinates=None):  # noqa: N802, N803
        """``RadiomicsGLDM._calculateMatrix`` (3.1.4) with the compiled GLDM.

        A non-integer ``gldm_a`` goes to pyradiomics (whose C call refuses it).
        """
        region = self._region()
        if region is None or not _integral(self.gldm_a):
            return super()._calculateMatrix(voxelCoordinates)
        p_gldm = self._neighbours(int(self.gldm_a))[0]
        p_gldm = np.delete(p_gldm, _empty_levels(self.coefficients) - 1, 1)
        jvector = np.arange(1, p_gldm.shape[2] + 1, dtype="float64")
        pd = np.sum(p_gldm, 1)
        pg = np.sum(p_gldm, 2)
        empty_sizes = np.sum(pd, 0)
        p_gldm = np.delete(p_gldm, np.where(empty_sizes == 0), 2)
        jvector = np.delete(jvector, np.where(empty_sizes == 0))
        pd = np.delete(pd, np.where(empty_sizes == 0), 1)
        nz = np.sum(pd, 1)
        nz[nz == 0] = 1
        self.coefficients["Nz"] = nz
        self.coefficients["pd"] = pd
        self.coefficients["pg"] = pg
        self.coefficients["ivector"] = self.coefficients["grayLevels"].astype(float)
        self.coefficients["jvector"] = jvector
        return p_gldm


class _NGTDM(_Binning, RadiomicsNGTDM):
    def _calculateMatrix(self, voxelCoordinates=None):  # noqa: N802, N803
        """``RadiomicsNGTDM._calculateMatrix`` (3.1.4) with the compiled NGTDM."""
        region = self._region()
        if region is None:
            return super()._calculateMatrix(voxelCoordinates)
        alpha = self.settings.get("gldm_a", 0)
        p_ngtdm = self._neighbours(int(alpha) if _integral(alpha) else 0)[1]
        empty = np.where(np.sum(p_ngtdm[:, :, 0], 0) == 0)
        return np.delete(p_ngtdm, empty, 1)


_CLASSES = {
    "firstorder": _FirstOrder,
    "glcm": _GLCM,
    "glrlm": _GLRLM,
    "glszm": _GLSZM,
    "gldm": _GLDM,
    "ngtdm": _NGTDM,
    "shape": _Shape,
}


@functools.cache
def _class_for(name: str):
    if name in _CLASSES:
        return _CLASSES[name]
    base = getFeatureClasses()[name]
    if name.startswith("shape"):
        return base
    return type(f"Shared{base.__name__}", (_Binning, base), {})


# ---------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------
def _sha1(image: sitk.Image) -> str:
    """``SimpleITK.Hash(image)`` (SHA1 of the pixel buffer), via hashlib.

    The buffer is hashed in place (no ``tobytes`` copy: 11 ms instead of 19 ms
    for a 60x320x320 int16 image).
    """
    view = np.ascontiguousarray(sitk.GetArrayViewFromImage(image))
    return hashlib.sha1(memoryview(view).cast("B")).hexdigest()


def _centre_index(sub: np.ndarray, lower) -> tuple:
    """``tuple(np.mean(np.array(np.where(sub)) + lower, axis=1)[::-1])``, cheaply.

    The mean index along each axis is the exact integer sum of the indices
    (from the voxel counts per slice along that axis) over the voxel count:
    numpy's float64 sum of these integer indices is exact too (every partial
    sum is an integer below 2**53), so both are one rounding of the same
    quotient, without the 3 x n index arrays (20-40 ms for 474k voxels).
    """
    n = int(np.count_nonzero(sub))
    centre = []
    for axis in range(sub.ndim):
        other = tuple(a for a in range(sub.ndim) if a != axis)
        counts = np.count_nonzero(sub, axis=other).astype(np.int64)
        index = np.arange(lower[axis], lower[axis] + sub.shape[axis], dtype=np.int64)
        total = int(counts @ index)
        if n * max(abs(int(index[0])), abs(int(index[-1]))) >= 2**53:
            coordinates = np.nonzero(sub)[axis] + lower[axis]
            centre.append(np.mean(coordinates))
        else:
            centre.append(np.float64(total) / np.float64(n))
    return tuple(centre[::-1])


def _mask_sha1(mask: sitk.Image) -> str:
    """:func:`_sha1` of the mask as pyradiomics hashes it: its UInt32 cast."""
    if mask.GetPixelID() != sitk.sitkUInt32:
        mask = sitk.Cast(mask, sitk.sitkUInt32)
    return _sha1(mask)


class _GeneralInfo(generalinfo.GeneralInfo):
    """pyradiomics' diagnostics (``GeneralInfo`` 3.1.4), hashing with hashlib."""

    def addImageElements(self, image, prefix="original"):  # noqa: N802
        pre = self.generalInfo_prefix + "Image-" + prefix
        if prefix == "original":
            self.generalInfo[pre + "_Hash"] = _sha1(image)
            self.generalInfo[pre + "_Dimensionality"] = f"{image.GetDimension()}D"
        self.generalInfo[pre + "_Spacing"] = image.GetSpacing()
        self.generalInfo[pre + "_Size"] = image.GetSize()
        view = sitk.GetArrayViewFromImage(image)
        if view.dtype.kind in "iub" and view.size:
            low, high = view.min(), view.max()
            if view.size * max(abs(int(low)), abs(int(high))) < 2**53:
                # Integer voxels: every partial sum is an integer below 2**53,
                # so the sum (hence the mean) is exact in any order; min and
                # max are exact. No float copy of the whole volume.
                self.generalInfo[pre + "_Mean"] = np.mean(view, dtype=np.float64)
                self.generalInfo[pre + "_Minimum"] = np.float64(low)
                self.generalInfo[pre + "_Maximum"] = np.float64(high)
                return
        self._add_intensities(pre, view.astype("float"))

    def _add_intensities(self, pre, values):
        """``_Mean``, ``_Minimum`` and ``_Maximum`` of ``values`` (floats)."""
        self.generalInfo[pre + "_Mean"] = np.mean(values)
        self.generalInfo[pre + "_Minimum"] = np.min(values)
        self.generalInfo[pre + "_Maximum"] = np.max(values)

    def _add_mask_header(self, mask, prefix) -> str:
        """The mask's hash (original mask only), spacing and size; its key prefix."""
        pre = self.generalInfo_prefix + "Mask-" + prefix
        if prefix == "original":
            self.generalInfo[pre + "_Hash"] = _mask_sha1(mask)
        self.generalInfo[pre + "_Spacing"] = mask.GetSpacing()
        self.generalInfo[pre + "_Size"] = mask.GetSize()
        return pre

    def _add_volume_num(self, pre, label_image):
        """``_VolumeNum``: connected components (fully connected) of the label."""
        ccif = sitk.ConnectedComponentImageFilter()
        ccif.FullyConnectedOn()
        ccif.Execute(label_image)
        self.generalInfo[pre + "_VolumeNum"] = ccif.GetObjectCount()

    def _add_centre(self, pre, mask, center_index, target):
        """The centre of mass (index and point), then the intensities of
        ``target`` (the image's voxels of the label, None without an image)."""
        self.generalInfo[pre + "_CenterOfMassIndex"] = center_index
        self.generalInfo[pre + "_CenterOfMass"] = (
            mask.TransformContinuousIndexToPhysicalPoint(center_index)
        )
        if target is not None:
            self._add_intensities(pre, target)

    def addMaskElements(self, image, mask, label, prefix="original"):  # noqa: N802
        """pyradiomics' mask diagnostics, on the label's bounding box.

        The bounding box and voxel count come from the label's voxels (what
        ``LabelShapeStatisticsImageFilter`` reports for them), the connected
        components and the centre of mass from the box only: every voxel of
        the label is inside it, in the same order, so the numbers are the same.
        """
        if mask is None:
            return
        roi = sitk.GetArrayViewFromImage(mask) == label
        if not roi.any():  # pyradiomics' own error
            return self._add_mask_elements(image, mask, label, prefix)
        pre = self._add_mask_header(mask, prefix)
        nd = roi.ndim
        lower, upper = [], []
        for axis in range(nd):
            other = tuple(a for a in range(nd) if a != axis)
            present = np.flatnonzero(roi.any(axis=other))
            lower.append(int(present[0]))
            upper.append(int(present[-1]))
        box = tuple(slice(lo, hi + 1) for lo, hi in zip(lower, upper, strict=True))
        sub = roi[box]
        self.generalInfo[pre + "_BoundingBox"] = tuple(lower[::-1]) + tuple(
            hi - lo + 1 for lo, hi in zip(lower[::-1], upper[::-1], strict=True)
        )
        self.generalInfo[pre + "_VoxelNum"] = int(np.count_nonzero(sub))
        self._add_volume_num(pre, sitk.GetImageFromArray(sub.view(np.uint8)))
        target = None
        if image is not None:
            target = sitk.GetArrayViewFromImage(image)[box][sub].astype("float")
        self._add_centre(pre, mask, _centre_index(sub, lower), target)

    def _add_mask_elements(self, image, mask, label, prefix="original"):
        pre = self._add_mask_header(mask, prefix)
        lssif = sitk.LabelShapeStatisticsImageFilter()
        lssif.Execute(mask)
        self.generalInfo[pre + "_BoundingBox"] = lssif.GetBoundingBox(int(label))
        self.generalInfo[pre + "_VoxelNum"] = lssif.GetNumberOfPixels(int(label))
        label_map = mask == label
        self._add_volume_num(pre, label_map)
        ma_arr = sitk.GetArrayViewFromImage(label_map) == 1
        coordinates = np.array(np.where(ma_arr))
        center_index = tuple(np.mean(coordinates, axis=1)[::-1])
        target = None
        if image is not None:
            target = sitk.GetArrayViewFromImage(image)[ma_arr].astype("float")
        self._add_centre(pre, mask, center_index, target)


# ---------------------------------------------------------------------------
# Pre-processing
# ---------------------------------------------------------------------------
#: Mask pixel types whose values (when >= 0) are those of pyradiomics'
#: UInt32 cast of the mask.
_UINT32_SAFE = frozenset(
    {
        sitk.sitkUInt8,
        sitk.sitkInt8,
        sitk.sitkUInt16,
        sitk.sitkInt16,
        sitk.sitkUInt32,
        sitk.sitkInt32,
    }
)


def _get_mask(mask: sitk.Image, **kwargs) -> sitk.Image:
    """``imageoperations.getMask``, listing labels with bincount when possible."""
    label = kwargs.get("label", 1)
    label_channel = kwargs.get("label_channel", 0)
    if "vector" in mask.GetPixelIDTypeAsString().lower():
        n_components = mask.GetNumberOfComponentsPerPixel()
        if label_channel >= n_components:
            raise AssertionError(
                f"Mask {label_channel} requested, but segmentation object only "
                f"contains {n_components} objects"
            )
        selector = sitk.VectorIndexSelectionCastImageFilter()
        selector.SetIndex(int(label_channel))
        mask = selector.Execute(mask)
    # pyradiomics casts every mask to UInt32; a mask of 8-32-bit integers
    # >= 0 keeps its values (and its every comparison with the label) without
    # that copy (10 ms for 60x320x320 voxels, in every process). The mask
    # diagnostics hash the UInt32 buffer (_mask_sha1).
    if mask.GetPixelID() not in _UINT32_SAFE:
        mask = sitk.Cast(mask, sitk.sitkUInt32)
    labels = mask_values(sitk.GetArrayViewFromImage(mask))
    if labels.size and labels[0] < 0:
        mask = sitk.Cast(mask, sitk.sitkUInt32)
        labels = mask_values(sitk.GetArrayViewFromImage(mask))
    if len(labels) == 1 and labels[0] == 0:
        raise ValueError("No labels found in this mask (i.e. nothing is segmented)!")
    if label not in labels:
        raise ValueError(
            f"Label ({label:g}) not present in mask. Choose from {labels[labels != 0]}"
        )
    return mask


def _same_grid(image: sitk.Image, mask: sitk.Image) -> bool:
    return (
        image.GetDimension() == mask.GetDimension()
        and image.GetSize() == mask.GetSize()
        and image.GetOrigin() == mask.GetOrigin()
        and image.GetSpacing() == mask.GetSpacing()
        and image.GetDirection() == mask.GetDirection()
    )


def _check_mask(image: sitk.Image, mask: sitk.Image, **kwargs):
    """``imageoperations.checkMask``; numpy bounding box when the grids agree.

    ``LabelStatisticsImageFilter`` (pyradiomics' way) also computes statistics of
    the whole background; its bounding box is the index range of the label,
    which numpy finds from the mask alone. Any other case (different grids,
    correction of the mask) goes to pyradiomics.
    """
    if not _same_grid(image, mask):
        return imageoperations.checkMask(image, mask, **kwargs)
    label = int(kwargs.get("label", 1))
    min_dims = kwargs.get("minimumROIDimensions", 2)
    min_size = kwargs.get("minimumROISize", None)
    roi = sitk.GetArrayViewFromImage(mask) == label
    nd = roi.ndim
    bounds = []
    for axis in range(nd - 1, -1, -1):  # x, y, z order
        other = tuple(a for a in range(nd) if a != axis)
        present = np.flatnonzero(roi.any(axis=other))
        if present.size == 0:
            raise ValueError(f"Label ({label:g}) not present in mask")
        bounds += [int(present[0]), int(present[-1])]
    bounding_box = np.array(bounds)
    ndims = np.sum((bounding_box[1::2] - bounding_box[0::2] + 1) > 1)
    if ndims == 0:
        raise ValueError(
            "mask only contains 1 segmented voxel! Cannot extract features for a "
            "single voxel."
        )
    if ndims < min_dims:
        raise ValueError(
            f"mask has too few dimensions (number of dimensions {ndims}, minimum "
            f"required {min_dims})"
        )
    if min_size is not None:
        roi_size = int(np.count_nonzero(roi))
        if roi_size <= min_size:
            raise ValueError(
                f"Size of the ROI is too small (minimum size: {min_size:g}, "
                f"ROI size: {roi_size:g}"
            )
    return bounding_box, None


def _load(image, mask, general_info, **kwargs):
    """``RadiomicsFeatureExtractor.loadImage`` for images already in memory."""
    label = kwargs.get("label", 1)
    mask = _get_mask(mask, **kwargs)
    if general_info is not None:
        general_info.addImageElements(image)
        general_info.addMaskElements(None, mask, label)
    if kwargs.get("normalize", False):
        image = imageoperations.normalizeImage(image, **kwargs)
    interpolator = kwargs.get("interpolator")
    spacing = kwargs.get("resampledPixelSpacing")
    if interpolator is not None and spacing is not None:
        image, mask = imageoperations.resampleImage(image, mask, **kwargs)
        if general_info is not None:
            general_info.addImageElements(image, "interpolated")
            general_info.addMaskElements(image, mask, label, "interpolated")
    elif kwargs.get("preCrop", False):
        bb, corrected = _check_mask(image, mask, **kwargs)
        if corrected is not None:
            mask = corrected
        if bb is None:
            raise ValueError("Mask checks failed during pre-crop")
        image, mask = imageoperations.cropToTumorMask(image, mask, bb, **kwargs)
    return image, mask


# ---------------------------------------------------------------------------
# Wavelet on the region that reaches the features
# ---------------------------------------------------------------------------
def _wavelet_images(image, mask, bounding_box, wanted=None, **kwargs):
    """``imageoperations.getWaveletImage``, cropped where that changes nothing.

    pywt's stationary transform is separable: along each axis, each voxel
    becomes a weighted sum of the voxels within the filter's reach on that axis
    (at most ``len(filter) + 2`` per level, periodic at the ends). Along an axis
    where the ROI's bounding box, extended by that reach on both sides and
    rounded to an even length (so that pyradiomics' wrap padding adds nothing),
    stays inside the image, the image is cropped to that extent: every voxel of
    the bounding box then gets the same inputs in the same order as in the
    transform of the whole image. Other axes are kept whole, as pyradiomics
    keeps them.
    """
    wavelet = kwargs.get("wavelet", "coif1")
    level = kwargs.get("level", 1)
    start_level = kwargs.get("start_level", 0)
    size = np.array(image.GetSize())
    try:
        filt = wavelet if isinstance(wavelet, pywt.Wavelet) else pywt.Wavelet(wavelet)
    except ValueError:
        filt = None
    if filt is None or image.GetDimension() != 3:
        yield from imageoperations.getWaveletImage(image, mask, **kwargs)
        return
    reach = (filt.dec_len + 2) * 2 ** (start_level + level)
    lower, upper = [], []
    for axis in range(3):
        lo = int(bounding_box[2 * axis]) - reach
        hi = int(bounding_box[2 * axis + 1]) + reach
        hi += (hi - lo + 1) % 2
        if lo < 0 or hi >= size[axis]:
            lo, hi = 0, int(size[axis]) - 1
        lower.append(lo)
        upper.append(int(size[axis]) - 1 - hi)
    source = image
    if any(lower) or any(upper):
        source = sitk.Crop(image, lower, upper)
    yield from _swt_images(source, filt, wanted, **kwargs)


def _swt_images(image, filt, wanted=None, **kwargs):
    """``imageoperations.getWaveletImage`` (3.1.4), computing only what is wanted.

    pyradiomics (``_swt3``) pads odd axes by wrapping, runs ``pywt.swtn`` (all
    sub-bands of every level) and crops back. ``swtn`` applies the 1-D
    stationary transform along each axis in turn, splitting every array into
    its approximation and detail; here the same 1-D transforms
    (``pywt.swt(x, wavelet, level=1, axis=...)``, the function ``swtn`` calls,
    with the same inputs) are applied along the branches of that tree that lead
    to the wanted sub-bands only, and arrays no longer needed are dropped.
    Same values, same names, same order; unwanted positions yield
    ``(None, name, kwargs)``.
    """
    level = kwargs.get("level", 1)
    start_level = kwargs.get("start_level", 0)
    axes = list(range(image.GetDimension() - 1, -1, -1))
    if kwargs.get("force2D", False):
        axes.remove(kwargs.get("force2Ddimension", 0))
    matrix = sitk.GetArrayFromImage(image)
    shape = matrix.shape
    data = np.pad(matrix, tuple((0, 1 if d % 2 != 0 else 0) for d in shape), "wrap")
    del matrix
    trim = tuple(slice(None, -1 if d % 2 != 0 else None) for d in shape)
    n_axes = len(axes)
    approx = "a" * n_axes
    details = [
        "".join(p)
        for p in itertools.product("ad", repeat=n_axes)
        if "".join(p) != approx
    ]

    def split(x, axis):
        return pywt.swt(x, filt, level=1, start_level=0, axis=axis)[0]

    def approximation(x):
        for axis in axes:
            x = split(x, axis)[0]
        return x

    def to_image(array):
        out = sitk.GetImageFromArray(array[trim])
        out.CopyInformation(image)
        return out

    for _ in range(start_level):
        data = approximation(data)
    position = 0
    n_out = level * len(details) + 1
    for idx in range(1, level + 1):
        todo = [
            name
            for k, name in enumerate(details)
            if wanted is None or position + k in wanted
        ]
        more = idx < level or wanted is None or n_out - 1 in wanted
        needed = todo + ([approx] if more else [])
        cache = {"": data}

        def get(prefix, cache=cache):
            if prefix not in cache:
                low, high = split(get(prefix[:-1]), axes[len(prefix) - 1])
                cache[prefix[:-1] + "a"], cache[prefix[:-1] + "d"] = low, high
            return cache[prefix]

        for name in details:
            label = name.replace("a", "L").replace("d", "H")
            label = f"wavelet-{label}" if idx == 1 else f"wavelet{idx}-{label}"
            if name not in todo:
                yield None, label, kwargs
                continue
            filtered = to_image(get(name))
            needed.remove(name)
            for prefix in [p for p in cache if p]:
                if not any(other.startswith(prefix) for other in needed):
                    del cache[prefix]
            yield filtered, label, kwargs
        position += len(details)
        if more:
            data = get(approx)
        del cache
    name = "L" * n_axes
    name = f"wavelet-{name}" if level == 1 else f"wavelet{level}-{name}"
    if wanted is None or n_out - 1 in wanted:
        yield to_image(data), name, kwargs
    else:
        yield None, name, kwargs


# ---------------------------------------------------------------------------
# LoG on the region that reaches the features
# ---------------------------------------------------------------------------
#: Margin around the ROI's bounding box, in units of sigma (in voxels along each
#: axis), beyond which the image does not change the LoG inside the ROI.
#: SimpleITK's LaplacianRecursiveGaussianImageFilter is a Deriche recursive
#: (IIR) filter; the edge of the image enters the output through its causal and
#: anti-causal recursions, whose responses decay like exp(-1.7 d / sigma) with
#: the distance d (voxels). Measured on a 474k-voxel ROI in a 60x320x320 volume
#: (benchmarks/extraction_speed.py's large case; sigma 1, 2, 3 mm), the largest
#: change inside the ROI relative to the largest |LoG| there is 4e-4 at 4 sigma,
#: 2e-6 at 8 sigma, at float32 resolution (the filter's output type) from
#: 12 sigma on, and exactly 0 from 16 (sigma 1) and 20 sigma (sigma 3): a factor
#: ~200 per 4 sigma, i.e. < 1e-12 beyond 20 sigma.
LOG_MARGIN_SIGMAS = 20.0


def _log_images(image, bounding_box, wanted, **kwargs):
    """``imageoperations.getLoGImage`` for the sigmas ``wanted``, on a crop.

    The same checks and filter as pyradiomics, on the image cropped to the ROI's
    bounding box plus :data:`LOG_MARGIN_SIGMAS` sigma along each axis where that
    stays inside the image (an axis where it does not is kept whole).

    Yields ``(unit, image, name, kwargs)`` for each ``(unit, sigma)`` of
    ``wanted`` that pyradiomics would compute.
    """
    size = np.array(image.GetSize())
    spacing = np.array(image.GetSpacing())
    if np.min(size) < 4:
        logger.warning("Image too small to apply LoG filter, size: %s", size)
        return
    for unit, sigma in wanted:
        if sigma is None or not sigma > 0.0:
            logger.warning("applyLoG: sigma must be greater than 0.0: %s", sigma)
            continue
        if not np.all(size >= np.ceil(sigma / spacing) + 1):
            logger.warning(
                "applyLoG: sigma(%g)/spacing(%s) + 1 must be greater than the "
                "size(%s) of the inputImage",
                sigma,
                spacing,
                size,
            )
            continue
        source = image
        if image.GetDimension() == 3:
            margin = np.ceil(LOG_MARGIN_SIGMAS * sigma / spacing).astype(int)
            lower, upper = [], []
            for axis in range(3):
                lo = int(bounding_box[2 * axis]) - int(margin[axis])
                hi = int(bounding_box[2 * axis + 1]) + int(margin[axis])
                lower.append(max(lo, 0))
                upper.append(max(int(size[axis]) - 1 - hi, 0))
            if any(lower) or any(upper):
                source = sitk.Crop(image, lower, upper)
        lrgif = sitk.LaplacianRecursiveGaussianImageFilter()
        lrgif.SetNormalizeAcrossScale(True)
        lrgif.SetSigma(sigma)
        name = "log-sigma-{}-mm-3D".format(str(sigma).replace(".", "-"))
        yield unit, lrgif.Execute(source), name, kwargs


def merge_parts(parts) -> dict[str, float]:
    """Features of :meth:`Engine.extract_part` shares, in pyradiomics' order."""
    blocks = sorted((block for blocks in parts for block in blocks), key=lambda b: b[0])
    features: dict[str, float] = {}
    for _, values in blocks:
        features.update(values)
    return features


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------
class _ValidatedExtractor(featureextractor.RadiomicsFeatureExtractor):
    """pyradiomics' extractor for parameters radsarc has already validated.

    :class:`radsarc.features.ExtractionSettings` checks every section, setting,
    image type, feature class and feature name against pyradiomics' own schema
    before an engine is built; pyradiomics' second check (pykwalify, which
    parses its schema file at every construction: ~12 ms of CPU, a part of a
    one-case run's start-up) is skipped. The parameters are applied as
    ``RadiomicsFeatureExtractor._applyParams`` (3.1.4) applies them after its
    validation (tests/features/test_settings.py compares the two).
    """

    def _applyParams(self, paramsFile=None, paramsDict=None):
        params = paramsDict if paramsDict is not None else {}
        if paramsFile is not None:
            raise TypeError("validated parameters come as a dict, not a file")
        self.enabledImagetypes = params.get("imageType", {}) or {"Original": {}}
        enabled = params.get("featureClass", {})
        self.enabledFeatures = (
            enabled if enabled else {name: [] for name in self.featureClassNames}
        )
        self.settings = self._getDefaultSettings()
        self.settings.update(params.get("setting", {}))
        self.settings.update(params.get("voxelSetting", {}))


class Engine:
    """A configured pyradiomics extractor.

    Parameters
    ----------
    params : dict
        A pyradiomics parameter dict (see
        :meth:`radsarc.features.ExtractionSettings.to_dict`).
    filters : sequence of ImageFilter, default=()
        IBSI-2 filters (:class:`radsarc.images._filters.ImageFilter`): each
        adds an image type after pyradiomics' own, filtered by radsarc and
        passed to pyradiomics' feature classes like a built-in filtered image.
    """

    def __init__(self, params: dict, filters=(), *, validated: bool = False) -> None:
        extractor = (
            _ValidatedExtractor
            if validated
            else featureextractor.RadiomicsFeatureExtractor
        )
        self._extractor = extractor(params)
        self._filters = tuple(filters)

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
        blocks, diagnostics = self.extract_items(
            image, mask, label, self.work_items(image.GetDimension())
        )
        return merge_parts([blocks]), diagnostics

    def extract_part(
        self, image: sitk.Image, mask: sitk.Image, label: int, part: int, n_parts: int
    ) -> tuple[list[tuple[tuple[int, ...], dict[str, float]]], dict[str, object]]:
        """One share of :meth:`extract`, for spreading one case over processes.

        The filtered images of the enabled image types (the original image, each
        LoG sigma, each wavelet decomposition, ...) are numbered in the order
        pyradiomics computes them; share ``part`` of ``n_parts`` takes every
        ``n_parts``-th of them, starting at ``part``. Share 0 also computes the
        shape features and the diagnostics. :func:`merge_parts` puts the shares
        of all parts back in pyradiomics' order.

        Returns
        -------
        blocks : list of (tuple, dict)
            ``(key, features)`` per feature class of each filtered image of
            this share (see :meth:`extract_items`).
        diagnostics : dict
            The diagnostics (empty for shares other than 0).
        """
        if not 0 <= part < n_parts:
            raise ValueError(f"part must be in [0, {n_parts}); got {part}.")
        items = [
            item
            for item in self.work_items(image.GetDimension())
            if (item[0] == -1 and part == 0)
            or (item[0] >= 0 and item[0] % n_parts == part)
        ]
        return self.extract_items(image, mask, label, items)

    def work_items(self, ndim: int = 3) -> list[tuple[int, str, str]]:
        """The units of work of one case, in pyradiomics' order.

        Returns
        -------
        list of (int, str, str)
            ``(unit, image type, feature class)``: ``(-1, "", "shape")`` for
            the shape features and the diagnostics, then one item per
            (non-shape) feature class of each filtered image (``unit`` numbers
            the filtered images as :meth:`extract_part` does). Any subset can
            be computed by :meth:`extract_items`.
        """
        classes = [
            name
            for name in self._extractor.enabledFeatures
            if not name.startswith("shape")
        ]
        items = [(-1, "", "shape")]
        unit = 0
        for image_type, units in self._units(ndim):
            for _ in units:
                items += [(unit, image_type, name) for name in classes]
                unit += 1
        for image_filter in self._filters:
            items += [(unit, image_filter.type_name, name) for name in classes]
            unit += 1
        return items

    def extract_items(
        self, image: sitk.Image, mask: sitk.Image, label: int, items
    ) -> tuple[list[tuple[tuple[int, ...], dict[str, float]]], dict[str, object]]:
        """The features of some of the :meth:`work_items` of one case.

        Each filtered image needed by ``items`` is computed once, and only the
        feature classes that ``items`` names are computed on it. The blocks of
        any partition of the work items, computed in any processes, give back
        :meth:`extract`'s features with :func:`merge_parts`.

        Parameters
        ----------
        items : iterable of (int, str, str)
            A subset of :meth:`work_items`.

        Returns
        -------
        blocks : list of (tuple, dict)
            ``(key, features)`` per feature class of each filtered image (key
            ``(unit, image, class position)``; ``(-1, 0, 0)`` holds the shape
            features).
        diagnostics : dict
            The diagnostics (empty unless ``items`` holds the shape item).
        """
        wanted: dict[int, set[str]] = {}
        for unit, _, name in items:
            wanted.setdefault(int(unit), set()).add(name)
        blocks, diagnostics = [], {}
        for key, found in self._execute(image, mask, label, wanted):
            values = collections.OrderedDict()
            for name, value in found.items():
                if name.startswith("diagnostics_"):
                    diagnostics[name] = _plain(value)
                else:
                    values[name] = float(value)
            if values:
                blocks.append((key, values))
        return blocks, diagnostics

    def n_units(self, ndim: int = 3) -> int:
        """How many filtered images (units of :meth:`extract_part`) a case has.

        Counted from the settings alone (the LoG sigmas, the wavelet levels); an
        image type whose count is not known beforehand counts as one.
        """
        return sum(len(units) for _, units in self._units(ndim)) + len(self._filters)

    def _units(self, ndim: int):
        """``(image type, [unit, ...])`` in pyradiomics' order."""
        ex = self._extractor
        settings = ex.settings
        out = []
        for image_type, custom in ex.enabledImagetypes.items():
            args = settings.copy()
            args.update(custom)
            if image_type == "LoG":
                units = [("LoG", sigma) for sigma in args.get("sigma", [])]
            elif image_type == "Wavelet" and ndim == 3:
                n_axes = 2 if args.get("force2D", False) else 3
                count = args.get("level", 1) * (2**n_axes - 1) + 1
                units = [("Wavelet", k) for k in range(count)]
            else:
                units = [(image_type, None)]
            out.append((image_type, units))
        return out

    def _execute(self, image, mask, label, wanted):
        """``RadiomicsFeatureExtractor.execute`` (segment-based), step by step.

        ``wanted`` maps units (-1: shape and diagnostics) to the feature classes
        to compute on them. Yields ``(key, entries)``: ``(-1, 0, 0)`` for the
        diagnostics and shape features, then ``(unit, image, class position)``
        per feature class of each filtered image.
        """
        ex = self._extractor
        settings = ex.settings.copy()
        settings["label"] = label
        if featureextractor.geometryTolerance != settings.get("geometryTolerance"):
            ex._setTolerance()
        with_shape = -1 in wanted
        general_info = None
        if settings.get("additionalInfo", False) and with_shape:
            general_info = _GeneralInfo()
            general_info.addGeneralSettings(settings)
            general_info.addEnabledImageTypes(ex.enabledImagetypes)
        vector = collections.OrderedDict()
        image, mask = _load(image, mask, general_info, **settings)
        bounding_box, corrected = _check_mask(image, mask, **settings)
        if corrected is not None:
            if general_info is not None:
                general_info.addMaskElements(image, corrected, label, "corrected")
            mask = corrected
        resegmented = None
        if settings.get("resegmentRange", None) is not None:
            resegmented = imageoperations.resegmentMask(image, mask, **settings)
            bounding_box, corrected = imageoperations.checkMask(
                image, resegmented, **settings
            )
            if general_info is not None:
                general_info.addMaskElements(image, resegmented, label, "resegmented")
        if general_info is not None:
            vector.update(general_info.getGeneralInfo())
        reseg_shape = settings.get("resegmentShape", False)
        if reseg_shape and resegmented is not None:
            mask = resegmented
        if with_shape:
            vector.update(self._shape(image, mask, bounding_box, **settings))
            yield (-1, 0, 0), vector
        if not reseg_shape and resegmented is not None:
            mask = resegmented
        self._mask_crops: dict = {}
        self._images_here = sum(
            1 for unit, names in wanted.items() if unit >= 0 and names & _MATRIX_CLASSES
        )

        def one(filtered, type_name, kwargs, k, sub=0):
            """:meth:`_one` on image ``sub`` of unit ``k``, the classes it wants."""
            return self._one(
                filtered,
                mask,
                bounding_box,
                image,
                type_name,
                kwargs,
                (k, sub),
                wanted[k],
            )

        index = 0
        for (image_type, units), custom in zip(
            self._units(image.GetDimension()),
            ex.enabledImagetypes.values(),
            strict=True,
        ):
            mine = [index + k for k in range(len(units)) if wanted.get(index + k)]
            first = index
            index += len(units)
            if not mine:
                continue
            args = settings.copy()
            args.update(custom)
            if image_type == "LoG":
                wanted_sigmas = [(k, units[k - first][1]) for k in mine]
                for k, filtered, type_name, kwargs in _log_images(
                    image, bounding_box, wanted_sigmas, **args
                ):
                    yield from one(filtered, type_name, kwargs, k)
                continue
            if image_type == "Wavelet":
                positions = None if len(units) == 1 else {k - first for k in mine}
                gen = _wavelet_images(image, mask, bounding_box, positions, **args)
            else:
                gen = getattr(imageoperations, f"get{image_type}Image")(
                    image, mask, **args
                )
            if len(units) == 1:
                # One unit, possibly several images (LBP3D's levels and kurtosis).
                for sub, (filtered, type_name, kwargs) in enumerate(gen):
                    yield from one(filtered, type_name, kwargs, first, sub)
                continue
            for k, (filtered, type_name, kwargs) in enumerate(gen, start=first):
                if k in mine:
                    yield from one(filtered, type_name, kwargs, k)
                del filtered
        for k, image_filter in enumerate(self._filters, start=index):
            if not wanted.get(k):
                continue
            filtered = filtered_image(image, mask, label, image_filter)
            yield from one(filtered, image_filter.type_name, settings, k)

    def _one(
        self, filtered, mask, bounding_box, image, type_name, kwargs, key, classes
    ):
        """Yield ``(key + (class position,), features)`` per class of ``classes``."""
        cropped, cropped_mask = _crop_to(
            filtered, mask, bounding_box, image, self._mask_crops
        )
        del filtered
        found = self._features(cropped, cropped_mask, type_name, classes, **kwargs)
        for position, entries in found:
            yield (*key, position), entries

    def _shape(self, image, mask, bounding_box, **kwargs):
        ex = self._extractor
        out = collections.OrderedDict()
        enabled = ex.enabledFeatures
        cropped, cropped_mask = imageoperations.cropToTumorMask(
            image, mask, bounding_box
        )

        def compute(shape_type):
            names = enabled[shape_type]
            instance = _class_for(shape_type)(cropped, cropped_mask, **kwargs)
            if names is not None:
                for name in names:
                    instance.enableFeatureByName(name)
            for name, value in instance.execute().items():
                out[f"original_{shape_type}_{name}"] = value

        nd = mask.GetDimension()
        if "shape" in enabled and nd == 3:
            compute("shape")
        if "shape2D" in enabled:
            if nd == 3:
                size = bounding_box[1::2] - bounding_box[0::2] + 1
                if kwargs.get("force2D", False) and (
                    size[kwargs.get("force2Ddimension", 0)] > 1
                ):
                    compute("shape2D")
            elif nd == 2:
                compute("shape2D")
        return out

    def _features(self, image, mask, type_name, classes=None, **kwargs):
        """``[(class position, features), ...]`` of the feature classes wanted.

        ``classes``: the (non-shape) class names to compute; None: all enabled.
        """
        out = []
        shared: dict = {"compiled": self._use_compiled(mask, kwargs)}
        for position, (class_name, names) in enumerate(
            self._extractor.enabledFeatures.items()
        ):
            if class_name.startswith("shape"):
                continue
            if classes is not None and class_name not in classes:
                continue
            instance = _class_for(class_name)(image, mask, shared=shared, **kwargs)
            if names is not None:
                for name in names:
                    instance.enableFeatureByName(name)
            found = collections.OrderedDict()
            for name, value in instance.execute().items():
                found[f"{type_name}_{class_name}_{name}"] = value
            out.append((position, found))
        return out

    def _use_compiled(self, mask, kwargs) -> bool:
        """Whether this image's texture matrices come from :mod:`._matrices`.

        radsarc's kernels are ~5x faster than pyradiomics' C matrices on large
        regions. With their C backend (compiled once per user, loaded in ~10 ms)
        they are used for every image of at least :data:`C_KERNELS_MIN_VOXELS`
        region voxels (below, pyradiomics' route is as fast or faster). With the
        numba backend (no C compiler), whose start-up costs ~0.4 s per process,
        they are used once numba is loaded, or when the work of this call
        (region voxels x images) plus the work this process already gave
        pyradiomics' C code reaches :data:`NUMBA_MIN_WORK`. A number in
        :data:`COMPILED_MIN_WORK` replaces both rules by the latter with that
        threshold.
        """
        global _C_WORK
        if _matrices_loaded() == "numba":
            return True
        label = kwargs.get("label", 1)
        n_voxels = int(np.count_nonzero(sitk.GetArrayViewFromImage(mask) == label))
        work = n_voxels * max(getattr(self, "_images_here", 1), 1)
        threshold = COMPILED_MIN_WORK
        if threshold is None:
            if n_voxels >= C_KERNELS_MIN_VOXELS and _kernels_backend() == "c":
                return True
            threshold = NUMBA_MIN_WORK
        if work + _C_WORK >= threshold:
            return True
        _C_WORK += n_voxels
        return False


#: Region voxels whose texture matrices this process gave pyradiomics' C code.
_C_WORK = 0


_MATRIX_CLASSES = frozenset({"glcm", "glrlm", "glszm", "gldm", "ngtdm"})


def load_compiled_matrices() -> None:
    """Load radsarc's texture-matrix kernels in this process.

    The C kernels (compiled on first use, see :mod:`radsarc.features._native`),
    else numba's. A process about to fork workers for a case that will use them
    calls this first, so that the workers inherit the loaded kernels instead of
    each loading them (numba: ~0.4 s CPU each) or compiling them at once on a
    machine whose cache is empty.
    """
    _matrices_module().warm_up()


def _matrices_loaded() -> str | None:
    """The kernels' backend loaded in this process ("c", "numba"), or None."""
    module = sys.modules.get("radsarc.features._matrices")
    return None if module is None else module.loaded()


def _kernels_backend() -> str:
    """The kernels' backend, "c" or "numba" (loads or compiles the C kernels)."""
    return _matrices_module().backend()


def compiled_route(n_voxels: int, n_images: int = 1) -> bool:
    """Whether images of a fresh process with this region use the kernels.

    :meth:`Engine._use_compiled`'s rule for ``n_images`` images of ``n_voxels``
    region voxels, before any work (used to plan a case's work items).
    """
    if COMPILED_MIN_WORK is not None:
        return n_voxels * max(n_images, 1) >= COMPILED_MIN_WORK
    if n_voxels >= C_KERNELS_MIN_VOXELS and _kernels_backend() == "c":
        return True
    return n_voxels * max(n_images, 1) >= NUMBA_MIN_WORK


#: Region voxels from which an image's texture matrices come from the C kernels
#: (:mod:`radsarc.features._matrices`) rather than pyradiomics' C code. Measured
#: (warm, per image, the five texture classes, pyradiomics' route / kernels):
#: 9 voxels 1.8 / 2.0 ms, 143 (breast1) 1.9 / 2.0 ms, 147 5.8 / 6.0 ms,
#: 837 (lung1) 3.9 / 3.6 ms, 845 13.7 / 13.4 ms, 4137 (brain1) 10.4 / 5.4 ms,
#: 78k 98 / 67 ms, 474k 797 / 182 ms: the kernels win from a few hundred voxels.
C_KERNELS_MIN_VOXELS = 500
#: Region voxels x filtered images from which the numba kernels (the fallback
#: without a C compiler) replace pyradiomics' C matrices in a process that has
#: not loaded them yet. Measured on benchmarks/extraction_speed.py's large case
#: (474k voxels, 117 gray levels, load ~2): GLCM + GLRLM + GLSZM + GLDM + NGTDM
#: take 0.37 s in pyradiomics' C code and 0.077 s compiled, i.e. ~0.6 us saved
#: per region voxel and image; loading numba and the cached kernels costs ~0.4 s
#: once (0.15 s import, 0.25 s first call). Break-even is at ~0.7M voxel-images.
NUMBA_MIN_WORK = 1_000_000
#: None: the rules above. A number: the kernels (whichever backend) are used
#: when region voxels x images, plus the region voxels this process gave
#: pyradiomics' C code, reach it (0: always; ``float("inf")``: never).
COMPILED_MIN_WORK: float | None = None


def _crop_to(filtered, mask, bounding_box, image, masks=None):
    """Crop a (possibly already cropped) filtered image and the mask to the ROI.

    Images of the wavelet fast path cover only a region of the original image;
    they are cropped by their own offset in the original grid, which gives the
    same voxels as cropping the whole-image transform.
    """
    if masks is None:
        masks = {}
    key = (id(mask), tuple(int(b) for b in bounding_box))
    if key not in masks:
        masks[key] = (
            mask,
            imageoperations.cropToTumorMask(mask, mask, bounding_box)[1],
        )
    cropped_mask = masks[key][1]
    if filtered.GetSize() == mask.GetSize():
        # cropToTumorMask's crop of the image (padDistance 0), the mask's
        # crop reused from the first image of this mask and box.
        size = np.array(mask.GetSize())
        cif = sitk.CropImageFilter()
        cif.SetLowerBoundaryCropSize(np.maximum(bounding_box[0::2], 0).tolist())
        cif.SetUpperBoundaryCropSize(
            np.maximum(size - bounding_box[1::2] - 1, 0).tolist()
        )
        return cif.Execute(filtered), cropped_mask
    offset = np.array(
        image.TransformPhysicalPointToIndex(filtered.GetOrigin())
        if filtered.GetOrigin() != image.GetOrigin()
        else [0] * image.GetDimension()
    )
    lower = bounding_box[0::2] - offset
    upper = np.array(filtered.GetSize()) - (bounding_box[1::2] - offset) - 1
    cropped = sitk.Crop(filtered, [int(v) for v in lower], [int(v) for v in upper])
    cropped.SetOrigin(cropped_mask.GetOrigin())
    return cropped, cropped_mask
