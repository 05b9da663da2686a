"""Segment-based texture matrices, equal to pyradiomics' C extension (``_cmatrices``).

pyradiomics computes each texture matrix (GLCM, GLRLM, GLSZM, GLDM, NGTDM) of a
region with its own pass over the bounding box in C, with index arithmetic and
bounds checks for every neighbour. The kernels here produce the same arrays,
shape for shape and count for count, faster (the five matrices of a 474k-voxel
region in ~0.08 s instead of ~0.37 s):

* the discretised image is copied once into an array padded with background
  (gray level 0) as wide as the longest angle, of the narrowest type that holds
  its gray levels (``uint8``, ``uint16``, else ``int32``), so that no neighbour
  needs a bounds check, and the voxels of the region are listed once (flat
  indices in C order) for all the matrices of one image;
* GLDM and NGTDM (the same neighbourhood) are filled in one pass;
* GLRLM runs are walked from their first voxel only (the voxel before it, along
  the angle, has another gray level or lies outside the region), instead of
  walking every line of the bounding box;
* GLSZM zones are grown with a stack, as pyradiomics does.

The caller passes pyradiomics' own angles (``cMatrices.generate_angles`` with
the size, distances, direction and ``force2D`` arguments of its matrix functions),
counts are exact in float64, and the NGTDM's sums are added in pyradiomics'
order (voxels in C order, neighbours in angle order), so every array is
bit-identical to the C output (tests/features/test_matrices.py compares them on
random regions, 2-D and 3-D, several components, single voxels and thin slabs).

The loops exist in two backends that give the same arrays (:func:`kernels`
chooses one per process): plain C (``_matrices.c``), compiled on first use with
the system C compiler and cached per user (:mod:`radsarc.features._native`,
loaded by ctypes in a few milliseconds), and numba (:mod:`._matrices_numba`),
used only without a working C compiler, because importing numba and loading its
cached kernels costs ~0.4 s per process. This module does not import numba
itself.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Region",
    "backend",
    "glcm",
    "gldm_ngtdm",
    "glrlm",
    "glszm",
    "glszm_compact",
    "glszm_zones",
    "kernels",
    "warm_up",
]


class Region:
    """A discretised image prepared for the matrix kernels.

    Parameters
    ----------
    image : ndarray of int, 2-D or 3-D
        Gray levels (1..Ng inside the region).
    mask : ndarray of bool, same shape
        The region.

    Attributes
    ----------
    dtype : numpy.dtype
        The type of the padded image given to the kernels: the narrowest of
        the backend's ``pixel_types`` that holds the image's levels.
    """

    def __init__(self, image: np.ndarray, mask: np.ndarray) -> None:
        image = np.asarray(image)
        mask = np.asarray(mask, dtype=bool)
        if image.shape != mask.shape or image.ndim not in (2, 3):
            raise ValueError(
                "image and mask must be 2-D or 3-D arrays of one shape; got "
                f"{image.shape} and {mask.shape}."
            )
        low = int(image.min()) if image.size else 0
        high = int(image.max()) if image.size else 0
        if high > np.iinfo(np.int32).max:
            self._refuse(image, mask)
        # the narrowest type the kernels take that holds every level (levels
        # below 0, if any, are outside the region or refused below)
        self.dtype = np.dtype(np.int32)
        if low >= 0:
            for name in kernels().pixel_types:
                if high <= np.iinfo(name).max:
                    self.dtype = np.dtype(name)
                    break
        self.shape = image.shape
        self.ndim = image.ndim
        self._image = image
        self._mask = mask
        self._padded: dict[int, tuple[np.ndarray, np.ndarray, tuple]] = {}

    def padded(self, angles: np.ndarray):
        """(flat padded image, flat region indices, flat angle offsets)."""
        pad = int(np.abs(angles).max()) if angles.size else 1
        if pad not in self._padded:
            shape3 = (1,) * (3 - self.ndim) + self.shape
            image = self._image.reshape(shape3)
            mask = self._mask.reshape(shape3)
            lift = (0,) * (3 - self.ndim)
            width = [(p, p) for p in lift] + [(pad, pad)] * self.ndim
            out = np.zeros(
                [s + a + b for s, (a, b) in zip(shape3, width, strict=True)],
                self.dtype,
            )
            inner = tuple(
                slice(a, a + s) for s, (a, _) in zip(shape3, width, strict=True)
            )
            np.copyto(out[inner], image, where=mask, casting="unsafe")
            flat = out.ravel()
            index = np.flatnonzero(flat)
            if len(index) != np.count_nonzero(mask) or (len(index) and flat.min() < 0):
                self._refuse(self._image, self._mask)
            self._padded[pad] = (flat, index, out.shape)
        flat, index, shape = self._padded[pad]
        strides = np.array([shape[1] * shape[2], shape[2], 1], np.int64)
        return flat, index, self.angles3(angles) @ strides

    @staticmethod
    def _refuse(image, mask):
        inside = image[mask]
        raise ValueError(
            "gray levels inside the region must be integers from 1 to 2**31 - 1 "
            f"(a discretised image); got {inside.min()} to {inside.max()}."
        )

    def padded_shape(self, angles) -> tuple:
        """Shape (3-D) of the padded image :meth:`padded` returns."""
        pad = int(np.abs(angles).max()) if angles.size else 1
        return self._padded[pad][2]

    def angles3(self, angles) -> np.ndarray:
        """Angles as (Na, 3) int64 (a 2-D image is a 3-D one of one slice)."""
        full = np.zeros((len(angles), 3), np.int64)
        full[:, 3 - self.ndim :] = angles
        return full


def glcm(region: Region, ng: int, angles: np.ndarray) -> np.ndarray:
    """``cMatrices.calculate_glcm``: P_glcm of shape (1, Ng, Ng, Na).

    ``angles``: pyradiomics' angles in one direction (``generate_angles``).
    """
    flat, index, offsets = region.padded(angles)
    out = np.zeros((1, ng, ng, len(angles)))
    kernels().glcm(flat, index, offsets, out.reshape(-1), ng)
    return out


def gldm_ngtdm(region: Region, ng: int, angles: np.ndarray, alpha: int):
    """``cMatrices.calculate_gldm`` and ``calculate_ngtdm`` from one pass.

    ``angles``: pyradiomics' angles in both directions. Returns P_gldm of shape
    (1, Ng, 2 Na + 1) and P_ngtdm of shape (1, Ng, 3).
    """
    flat, index, offsets = region.padded(angles)
    gldm_out = np.zeros((1, ng, 2 * len(angles) + 1))
    ngtdm_out = np.zeros((1, ng, 3))
    ngtdm_out[0, :, 2] = np.arange(1, ng + 1)
    kernels().gldm_ngtdm(
        flat, index, offsets, int(alpha), gldm_out.reshape(-1), ngtdm_out.reshape(-1)
    )
    return gldm_out, ngtdm_out


def glrlm(region: Region, ng: int, nr: int, angles: np.ndarray) -> np.ndarray:
    """``cMatrices.calculate_glrlm``: P_glrlm of shape (1, Ng, Nr, Na).

    ``angles``: pyradiomics' angles in one direction, distance 1.
    """
    flat, index, offsets = region.padded(angles)
    shape = region.padded_shape(angles)
    full = region.angles3(angles)
    out = np.zeros((1, ng, nr, len(angles)))
    backend = kernels()
    multi = backend.glrlm(flat, index, offsets, out.reshape(-1), nr)
    for a in np.flatnonzero(~multi):
        # pyradiomics drops an angle along which no line of the bounding box
        # holds two voxels of the region (then every run has length 1).
        if not backend.any_line_pair(flat, index, np.array(shape, np.int64), full[a]):
            out[0, :, 0, a] = 0
    return out


def glszm(region: Region, ng: int, angles: np.ndarray) -> np.ndarray:
    """``cMatrices.calculate_glszm``: P_glszm of shape (1, Ng, largest zone).

    ``angles``: pyradiomics' angles in both directions, distance 1.
    """
    levels, sizes = glszm_zones(region, angles)
    largest = max(int(sizes.max()) if sizes.size else 0, 1)
    cells = (levels - 1) * largest + (sizes - 1)
    counts = np.bincount(cells, minlength=ng * largest).astype(np.float64)
    return counts.reshape((1, ng, largest))


def glszm_compact(region: Region, ng: int, angles: np.ndarray):
    """The GLSZM's columns of the zone sizes present only.

    Returns ``(P, sizes)``: P of shape (1, Ng, n sizes), equal to
    :func:`glszm`'s matrix without its empty columns, and the sizes (float,
    increasing) of its columns. The dense matrix has a column per size up to
    the largest zone (hundreds of thousands for a smooth image).
    """
    levels, sizes = glszm_zones(region, angles)
    # the sizes present and each zone's column (numpy.unique's, without a sort)
    by_size = np.bincount(sizes)
    present = np.flatnonzero(by_size)
    columns = np.zeros(len(by_size), np.intp)
    columns[present] = np.arange(len(present))
    cells = (levels - 1) * len(present) + columns[sizes]
    counts = np.bincount(cells, minlength=ng * len(present)).astype(np.float64)
    return counts.reshape((1, ng, len(present))), present.astype(np.float64)


def glszm_zones(region: Region, angles: np.ndarray):
    """Gray level and size (voxels) of every zone, as int64 arrays."""
    flat, index, offsets = region.padded(angles)
    return kernels().glszm(flat, index, offsets)


# ---------------------------------------------------------------------------
# Backends: the C kernels (ctypes) or, without a C compiler, the numba ones
# ---------------------------------------------------------------------------
def _address(array: np.ndarray, dtype) -> int:
    """Address of a C-contiguous array of ``dtype`` (checked: no silent copy)."""
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"kernel argument must be C-contiguous {np.dtype(dtype)}")
    return array.ctypes.data


class _CKernels:
    """The C kernels (``_matrices.c``) behind the numba kernels' signatures.

    Each kernel exists for each of :attr:`pixel_types`; the padded image's
    type chooses.
    """

    name = "c"
    #: Image types the kernels take, narrowest first.
    pixel_types = ("uint8", "uint16", "int32")

    def __init__(self, library) -> None:
        self.library = library
        self._functions = {}

    def _kernel(self, name: str, flat: np.ndarray):
        key = (name, flat.dtype.name)
        if key not in self._functions:
            from radsarc.features._native import PIXEL_TYPES

            if flat.dtype.name not in PIXEL_TYPES or not flat.flags.c_contiguous:
                raise TypeError(
                    "kernel image must be a C-contiguous array of "
                    f"{', '.join(PIXEL_TYPES)}; got {flat.dtype}"
                )
            suffix = PIXEL_TYPES[flat.dtype.name]
            self._functions[key] = getattr(self.library, f"radsarc_{name}_{suffix}")
        return self._functions[key]

    @staticmethod
    def _region(flat, index, offsets) -> tuple:
        """The arguments every kernel starts with: image, voxels, offsets."""
        return (
            _address(flat, flat.dtype),
            _address(index, np.int64),
            len(index),
            _address(offsets, np.int64),
            len(offsets),
        )

    def glcm(self, flat, index, offsets, out, ng) -> None:
        self._kernel("glcm", flat)(
            *self._region(flat, index, offsets),
            _address(out, np.float64),
            int(ng),
        )

    def gldm_ngtdm(self, flat, index, offsets, alpha, gldm, ngtdm) -> None:
        self._kernel("gldm_ngtdm", flat)(
            *self._region(flat, index, offsets),
            int(alpha),
            _address(gldm, np.float64),
            _address(ngtdm, np.float64),
        )

    def glrlm(self, flat, index, offsets, out, nr) -> np.ndarray:
        multi = np.zeros(len(offsets), np.uint8)
        self._kernel("glrlm", flat)(
            *self._region(flat, index, offsets),
            _address(out, np.float64),
            int(nr),
            _address(multi, np.uint8),
        )
        return multi.astype(bool)

    def any_line_pair(self, flat, index, shape, angle) -> bool:
        shape = np.ascontiguousarray(shape, np.int64)
        angle = np.ascontiguousarray(angle, np.int64)
        return bool(
            self._kernel("any_line_pair", flat)(
                _address(flat, flat.dtype),
                _address(index, np.int64),
                len(index),
                _address(shape, np.int64),
                _address(angle, np.int64),
            )
        )

    def glszm(self, flat, index, offsets):
        n = len(index)
        todo = flat.copy()
        stack = np.empty(n, np.int64)
        levels = np.empty(n, np.int64)
        sizes = np.empty(n, np.int64)
        n_zones = self._kernel("glszm", todo)(
            *self._region(todo, index, offsets),
            _address(stack, np.int64),
            _address(levels, np.int64),
            _address(sizes, np.int64),
        )
        return levels[:n_zones], sizes[:n_zones]


_KERNELS = None


def kernels():
    """The kernels of this process: the C ones, else numba's (chosen once).

    The C kernels are compiled on first use and cached per user
    (:mod:`radsarc.features._native`); without a compiler, or if compiling or
    loading fails (logged at debug level), :mod:`._matrices_numba` is imported.
    """
    global _KERNELS
    if _KERNELS is None:
        from radsarc.features import _native

        library = _native.load()
        if library is not None:
            _KERNELS = _CKernels(library)
        else:
            from radsarc.features import _matrices_numba

            _KERNELS = _matrices_numba
    return _KERNELS


def backend() -> str:
    """``"c"`` or ``"numba"``: the kernels :func:`kernels` uses or will use.

    Loads (on first use compiles) the C kernels; does not import numba.
    """
    if _KERNELS is not None:
        return _KERNELS.name
    from radsarc.features import _native

    return "c" if _native.load() is not None else "numba"


def loaded() -> str | None:
    """The backend already loaded in this process, without loading one (None)."""
    return None if _KERNELS is None else _KERNELS.name


def warm_up() -> None:
    """Load (or compile) every kernel on a tiny region.

    A parent process that is about to fork workers calls this once, so that
    the kernels are loaded (C: compiled, if the cache is empty; numba: its
    start-up of ~0.4 s) once instead of in every worker.
    """
    image = np.ones((3, 3, 3), np.int64)
    image[1] = 2
    region = Region(image, np.ones((3, 3, 3), bool))
    one_way = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    both_ways = np.concatenate([one_way, -one_way])
    glcm(region, 2, one_way)
    glrlm(region, 2, 3, one_way)
    glszm_compact(region, 2, both_ways)
    gldm_ngtdm(region, 2, both_ways, 0)
    kernels().any_line_pair(
        np.zeros(27, region.dtype),
        np.array([13], np.int64),
        np.array([3, 3, 3], np.int64),
        np.array([0, 0, 1], np.int64),
    )
