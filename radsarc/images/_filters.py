"""IBSI-2 convolutional filters (mean, LoG, Laws, Gabor, wavelets, Simoncelli).

Every filter takes a numpy array in (z, y, x) order (SimpleITK's array order) and
the voxel spacing in the same order, and returns a float64 response map of the
same shape. The definitions, parameter names and boundary conditions follow the
IBSI reference manual for convolutional filters (Depeursinge et al.,
arXiv:2006.05470); IBSI's coordinates ``k1, k2, k3`` are (x, y, z), so a Laws
kernel ``"E5L5S5"`` applies E5 along x, L5 along y and S5 along z.

Boundary conditions (IBSI name: numpy/scipy equivalent):

* ``"mirror"`` - symmetric reflection including the edge voxel (``...cba|abc...``,
  scipy ``"reflect"``, numpy ``"symmetric"``);
* ``"nearest"`` - the edge voxel repeated (scipy ``"nearest"``, numpy ``"edge"``);
* ``"periodic"`` - the image repeated (scipy and numpy ``"wrap"``);
* ``"zero"`` - zeros outside (scipy ``"constant"``, numpy ``"constant"``).

Speed: separable kernels (mean, LoG, Laws, wavelets) run as one 1-D pass per axis
(:func:`scipy.ndimage.correlate1d`); Gabor kernels run in the Fourier domain on the
padded image (:mod:`scipy.fft`), and Simoncelli wavelets are
defined there. :meth:`ImageFilter.apply` with a mask filters only the mask's
bounding box plus the kernel's reach (padded by the boundary condition where that
reach leaves the image), which gives the same values inside the mask as filtering
the whole volume.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BOUNDARY_CONDITIONS",
    "FILTER_NAMES",
    "ImageFilter",
    "filtered_image",
    "gabor_filter",
    "laws_filter",
    "log_filter",
    "mean_filter",
    "simoncelli_filter",
    "wavelet_filter",
]

#: IBSI boundary condition -> (scipy.ndimage mode, numpy.pad mode).
BOUNDARY_CONDITIONS: dict[str, tuple[str, str]] = {
    "mirror": ("reflect", "symmetric"),
    "nearest": ("nearest", "edge"),
    "periodic": ("wrap", "wrap"),
    "zero": ("constant", "constant"),
}

FILTER_NAMES = ("mean", "log", "laws", "gabor", "wavelet", "simoncelli")

# Laws' 1-D kernels, normalised as in the IBSI manual (Table "Laws kernels").
_LAWS = {
    "L3": np.array([1.0, 2.0, 1.0]) / math.sqrt(6.0),
    "E3": np.array([-1.0, 0.0, 1.0]) / math.sqrt(2.0),
    "S3": np.array([-1.0, 2.0, -1.0]) / math.sqrt(6.0),
    "L5": np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / math.sqrt(70.0),
    "E5": np.array([-1.0, -2.0, 0.0, 2.0, 1.0]) / math.sqrt(10.0),
    "S5": np.array([-1.0, 0.0, 2.0, 0.0, -1.0]) / math.sqrt(6.0),
    "W5": np.array([-1.0, 2.0, 0.0, -2.0, 1.0]) / math.sqrt(10.0),
    "R5": np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / math.sqrt(70.0),
}
_LAWS_RE = re.compile(r"(?:[LESWR][35])")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _mode(boundary: str) -> str:
    try:
        return BOUNDARY_CONDITIONS[boundary][0]
    except KeyError:
        raise ValueError(
            f"Unknown boundary condition {boundary!r}; expected one of "
            f"{list(BOUNDARY_CONDITIONS)}."
        ) from None


def _axes(dimensions: int, ndim: int) -> tuple[int, ...]:
    """Array axes a filter acts on: the last two (in-plane) or all three."""
    if dimensions not in (2, 3):
        raise ValueError(f"dimensions must be 2 or 3; got {dimensions!r}.")
    if ndim < dimensions:
        raise ValueError(
            f"A {dimensions}D filter needs an image with at least {dimensions} "
            f"dimensions; got {ndim}."
        )
    return tuple(range(ndim - dimensions, ndim))


def _as_float(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)


def _separable(image, kernels, axes, mode, origins=None):
    """Apply one 1-D kernel per axis (convolution, IBSI's definition).

    ``kernels[i]`` acts along ``axes[i]``; the kernel is centred on its middle tap
    (``origins`` shift that centre, scipy's ``origin``).
    """
    from scipy import ndimage
    out = image
    for i, (kernel, axis) in enumerate(zip(kernels, axes, strict=True)):
        origin = 0 if origins is None else origins[i]
        out = ndimage.correlate1d(
            out,
            np.asarray(kernel)[::-1],
            axis=axis,
            mode=mode,
            cval=0.0,
            origin=origin,
        )
    return out


def _rotations(dimensions: int):
    """Right-angle rotations: 24 for 3D, 4 in-plane for 2D.

    Each rotation is ``(perm, flips)``: the rotated image is
    ``np.flip(image.transpose(perm), flips)`` over the filter's axes.
    """
    if dimensions == 2:
        # 90 degree rotations of the (y, x) plane.
        return [((0, 1), ()), ((1, 0), (0,)), ((0, 1), (0, 1)), ((1, 0), (1,))]
    out = []
    for perm in itertools.permutations(range(3)):
        parity = _parity(perm)
        for signs in itertools.product((1, -1), repeat=3):
            det = parity * signs[0] * signs[1] * signs[2]
            if det == 1:
                out.append((perm, tuple(i for i, s in enumerate(signs) if s < 0)))
    return out


def _parity(perm) -> int:
    perm = list(perm)
    sign = 1
    for i in range(len(perm)):
        while perm[i] != i:
            j = perm[i]
            perm[i], perm[j] = perm[j], perm[i]
            sign = -sign
    return sign


def _rotate(image, axes, perm, flips):
    """Rotate ``image`` over ``axes``: transpose by ``perm`` then flip."""
    order = list(range(image.ndim))
    for i, a in enumerate(axes):
        order[a] = axes[perm[i]]
    out = image.transpose(order)
    if flips:
        out = np.flip(out, axis=tuple(axes[f] for f in flips))
    return out


def _unrotate(image, axes, perm, flips):
    if flips:
        image = np.flip(image, axis=tuple(axes[f] for f in flips))
    order = list(range(image.ndim))
    inverse = np.argsort(perm)
    for i, a in enumerate(axes):
        order[a] = axes[inverse[i]]
    return image.transpose(order)


def _pool(maps, pooling: str):
    if pooling == "max":
        return functools.reduce(np.maximum, maps)
    if pooling == "mean":
        total = None
        n = 0
        for m in maps:
            total = m.copy() if total is None else total + m
            n += 1
        return total / n
    if pooling == "min":
        return functools.reduce(np.minimum, maps)
    raise ValueError(f"pooling must be 'max', 'mean' or 'min'; got {pooling!r}.")


def _voxels(length_mm: float, spacing, axes) -> float:
    """A physical length (mm) in voxels; the in-filter spacing must be isotropic."""
    sp = np.asarray(spacing, dtype=float)[list(axes)]
    if not np.allclose(sp, sp[0], rtol=1e-6, atol=0):
        raise ValueError(
            f"This filter needs isotropic voxels over its axes; got spacing "
            f"{tuple(float(s) for s in sp)} mm. Resample the image first (or filter "
            "in-plane: dimensions 2)."
        )
    return float(length_mm) / float(sp[0])


# ---------------------------------------------------------------------------
# filters
# ---------------------------------------------------------------------------
def mean_filter(image, *, support: int, boundary: str = "mirror", dimensions: int = 3):
    """Mean filter (IBSI ``S60F``): average over a cube of ``support`` voxels a side.

    Parameters
    ----------
    image : ndarray, shape (Z, Y, X)
    support : int
        Odd side length ``M`` of the kernel, in voxels.
    boundary : {"mirror", "nearest", "periodic", "zero"}, default="mirror"
    dimensions : {2, 3}, default=3
        2: the kernel is a square in each axial slice.
    """
    if not isinstance(support, int | np.integer) or support < 1 or support % 2 == 0:
        raise ValueError(f"support must be an odd positive integer; got {support!r}.")
    image = _as_float(image)
    axes = _axes(dimensions, image.ndim)
    kernel = np.full(support, 1.0 / support)
    return _separable(image, [kernel] * len(axes), axes, _mode(boundary))


def _log_kernels(sigma: float, truncate: float, dims: int):
    """1-D factors of the LoG kernel: g'' and g along one axis (sigma in voxels)."""
    radius = int(math.floor(truncate * sigma + 0.5))
    x = np.arange(-radius, radius + 1, dtype=float)
    g = np.exp(-(x**2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    # IBSI: -1/s^2 (1/(s sqrt(2 pi)))^D (D - |x|^2/s^2) exp(-|x|^2/(2 s^2))
    #     = sum over axes of (x_a^2/s^4 - 1/s^2) * prod_b g(x_b)
    d2 = (x**2 / sigma**4 - 1.0 / sigma**2) * g
    return d2, g


def log_filter(
    image,
    *,
    sigma: float,
    spacing=(1.0, 1.0, 1.0),
    truncate: float = 4.0,
    boundary: str = "mirror",
    dimensions: int = 3,
    riesz_order=None,
):
    """Laplacian of Gaussian (IBSI ``L6PA``), optionally Riesz-transformed.

    Parameters
    ----------
    sigma : float
        Standard deviation of the Gaussian, in mm.
    spacing : sequence of float
        Voxel spacing (z, y, x) in mm; isotropic over the filter's axes.
    truncate : float, default=4.0
        The kernel's radius is ``floor(truncate * sigma + 0.5)`` voxels.
    riesz_order : sequence of int or None, default=None
        Order of a Riesz transform (IBSI ``AYRS``) applied to the response, in
        IBSI axis order (x, y[, z]), e.g. ``[1, 0, 0]``; computed in the Fourier
        domain on the image padded with ``boundary`` by half its size (at most
        ``max(16, 2 * radius)`` voxels). The response is its real part.
    """
    image = _as_float(image)
    axes = _axes(dimensions, image.ndim)
    riesz = _check_riesz(riesz_order, len(axes))
    if riesz is not None:
        s = _voxels(sigma, spacing, axes)
        radius = int(math.floor(truncate * s + 0.5))
        work, pad = _half_pad(image, axes, boundary, max(16, 2 * radius))
        out = log_filter(
            work,
            sigma=sigma,
            spacing=spacing,
            truncate=truncate,
            boundary=boundary,
            dimensions=dimensions,
        )
        return _unpad(_apply_riesz(out, riesz, axes), pad, image.shape)
    s = _voxels(sigma, spacing, axes)
    d2, g = _log_kernels(s, truncate, len(axes))
    mode = _mode(boundary)
    out = None
    for second in range(len(axes)):
        kernels = [d2 if i == second else g for i in range(len(axes))]
        term = _separable(image, kernels, axes, mode)
        out = term if out is None else out + term
    return out


def _laws_parts(kernel: str, dims: int):
    parts = _LAWS_RE.findall(kernel.upper())
    if "".join(parts) != kernel.upper() or len(parts) != dims:
        raise ValueError(
            f"Laws kernel {kernel!r} must be {dims} of {sorted(_LAWS)} joined "
            f"(e.g. {'L5E5E5' if dims == 3 else 'L5E5'})."
        )
    return [_LAWS[p] for p in parts]


def _pool_rotated_separable(image, parts, axes, mode, pooling):
    """Pool a separable odd-length kernel's responses over right-angle rotations.

    Rotating the image, filtering and rotating back equals filtering with the
    kernel's 1-D factors moved to other axes and reversed where the rotation
    flips. Laws' 1-D kernels are symmetric or antisymmetric, so a reversal is at
    most a sign: each distinct placement of the factors is filtered once, and
    its sign(s) enter the pooling (24 rotations in 3D cost at most 6 passes).
    """
    placements: dict[tuple, list] = {}
    n = 0
    for perm, flips in _rotations(len(axes)):
        n += 1
        per_axis = [None] * len(axes)
        sign = 1.0
        for i, kernel in enumerate(parts):
            k = kernel[::-1] if i in flips else kernel
            first = k[np.flatnonzero(k)[0]]
            if first < 0:
                k, sign = -k, -sign
            per_axis[perm[i]] = k
        key = tuple(k.tobytes() for k in per_axis)
        placements.setdefault(key, [per_axis, []])[1].append(sign)
    out = None
    for per_axis, signs in placements.values():
        response = _separable(image, per_axis, axes, mode)
        if pooling == "mean":
            term = response * sum(signs)
            out = term if out is None else out + term
            continue
        for sign in set(signs):
            value = response if sign > 0 else -response
            if out is None:
                out = value.copy()
            elif pooling == "max":
                np.maximum(out, value, out=out)
            else:
                np.minimum(out, value, out=out)
    return out / n if pooling == "mean" else out


def laws_filter(
    image,
    *,
    kernel: str,
    boundary: str = "mirror",
    dimensions: int = 3,
    rotation_invariance: bool = False,
    pooling: str = "max",
    energy_distance: int | None = None,
):
    """Laws kernel response (IBSI ``JTXT``), optionally rotation-invariant, energy.

    Parameters
    ----------
    kernel : str
        1-D kernels joined in IBSI order (x, y, z), e.g. ``"E5L5S5"`` (3D) or
        ``"L5S5"`` (2D: x, y).
    rotation_invariance : bool, default=False
        Pool the responses of the kernel's right-angle rotations (24 in 3D, 4 in
        2D) with ``pooling``.
    energy_distance : int or None, default=None
        Chebyshev distance ``delta`` of the energy map: the mean of the absolute
        response over a ``(2 delta + 1)`` cube, with the same
        boundary condition. None: no energy map.
    """
    image = _as_float(image)
    axes = _axes(dimensions, image.ndim)
    parts = _laws_parts(kernel, len(axes))
    # IBSI order is (x, y, z); array axes are (z, y, x).
    parts = parts[::-1]
    mode = _mode(boundary)
    if rotation_invariance:
        out = _pool_rotated_separable(image, parts, axes, mode, pooling)
    else:
        out = _separable(image, parts, axes, mode)
    if energy_distance is not None:
        if int(energy_distance) < 0:
            raise ValueError(f"energy_distance must be >= 0; got {energy_distance!r}.")
        size = 2 * int(energy_distance) + 1
        box = np.full(size, 1.0 / size)
        out = _separable(np.abs(out), [box] * len(axes), axes, mode)
    return out


def _gabor_kernel(sigma: float, wavelength: float, gamma: float, theta: float):
    """Complex 2-D Gabor kernel over (y, x) (sigma, wavelength in voxels)."""
    radius = _gabor_radius(sigma, gamma)
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(float)
    # IBSI: k1 = x, k2 = y; rotate by theta.
    xr = x * math.cos(theta) + y * math.sin(theta)
    yr = -x * math.sin(theta) + y * math.cos(theta)
    envelope = np.exp(-(xr**2 + gamma**2 * yr**2) / (2 * sigma**2))
    return envelope * np.exp(1j * 2 * math.pi * xr / wavelength)


def _pad(image, pad, pad_mode):
    """``np.pad`` (its symmetric, edge and wrap modes repeat as often as needed,
    so a pad longer than the image is the boundary condition applied again)."""
    return np.pad(image, pad, mode=pad_mode)


def gabor_filter(
    image,
    *,
    sigma: float,
    wavelength: float,
    gamma: float = 1.0,
    theta: float = 0.0,
    spacing=(1.0, 1.0, 1.0),
    boundary: str = "mirror",
    rotation_invariance: bool = False,
    theta_step: float | None = None,
    pooling: str = "mean",
    orthogonal_planes: bool = False,
):
    """Gabor filter modulus, in-plane (IBSI ``Q88H``).

    Parameters
    ----------
    sigma, wavelength : float
        Gaussian envelope's standard deviation and the wavelength, in mm.
    gamma : float, default=1.0
        Spatial aspect ratio.
    theta : float, default=0.0
        Orientation in degrees (from x towards y).
    rotation_invariance : bool, default=False
        Pool the moduli over ``theta, theta + theta_step, ...`` (a full turn)
        with ``pooling``.
    orthogonal_planes : bool, default=False
        Also filter the coronal and sagittal planes and average the three
        (IBSI's 2.5D "orthogonal planes" invariance); otherwise axial only.
    """
    image = _as_float(image)
    if image.ndim != 3:
        raise ValueError(f"gabor_filter needs a 3D image; got {image.ndim}D.")
    if rotation_invariance:
        if theta_step is None or theta_step <= 0:
            raise ValueError(
                "A rotation-invariant Gabor filter needs theta_step > 0 (degrees); "
                f"got {theta_step!r}."
            )
        n = int(round(360.0 / theta_step))
        thetas = [theta + i * theta_step for i in range(n)]
    else:
        thetas = [theta]
    planes = [(0, 1, 2)]
    if orthogonal_planes:
        planes += [(1, 0, 2), (2, 0, 1)]
    # theta and theta + 180 give conjugate kernels, hence the same modulus on a
    # real image: each distinct orientation is computed once, with its count.
    counts: dict[float, int] = {}
    for t in thetas:
        key = round(t % 180.0, 9)
        counts[key] = counts.get(key, 0) + 1
    maps = []
    for order in planes:
        view = image.transpose(order)
        sp = np.asarray(spacing, dtype=float)[list(order)]
        axes = (1, 2)
        s = _voxels(sigma, sp, axes)
        lam = _voxels(wavelength, sp, axes)
        kernels = [_gabor_kernel(s, lam, gamma, math.radians(t)) for t in counts]
        moduli = _fft_planes(view, kernels, boundary)
        if pooling == "mean":
            total = None
            for m, n in zip(moduli, counts.values(), strict=True):
                total = m * n if total is None else total + m * n
            pooled = total / len(thetas)
        else:
            pooled = _pool(moduli, pooling)
        maps.append(pooled.transpose(np.argsort(order)))
    return _pool(maps, "mean")


def _fft_planes(image, kernels, boundary):
    """Moduli of every (y, x) plane convolved with each 2-D kernel (a generator).

    The planes are padded once by the kernels' radius with the boundary
    condition and transformed once; each kernel costs one product and one
    inverse transform (circular convolution on a grid long enough that the
    kept part does not wrap).
    """
    from scipy import fft as sfft
    ry, rx = kernels[0].shape[0] // 2, kernels[0].shape[1] // 2
    pad = [(0, 0)] * (image.ndim - 2) + [(ry, ry), (rx, rx)]
    padded = _pad(image, pad, BOUNDARY_CONDITIONS[boundary][1])
    shape = [sfft.next_fast_len(n) for n in padded.shape[-2:]]
    spectrum = sfft.fft2(padded, s=shape, axes=(-2, -1))
    ny, nx = image.shape[-2:]
    for kernel in kernels:
        kspec = sfft.fft2(kernel, s=shape)
        full = sfft.ifft2(spectrum * kspec, axes=(-2, -1))
        yield np.abs(full[..., 2 * ry : 2 * ry + ny, 2 * rx : 2 * rx + nx])


@functools.cache
def _wavelet_taps(name: str):
    import pywt

    try:
        w = pywt.Wavelet(name)
    except ValueError:
        raise ValueError(
            f"Unknown wavelet {name!r}; expected a PyWavelets discrete wavelet "
            "such as 'haar', 'db2', 'db3' or 'coif1'."
        ) from None
    return np.asarray(w.dec_lo, dtype=float), np.asarray(w.dec_hi, dtype=float)


def _dilate(taps: np.ndarray, level: int) -> np.ndarray:
    """A trous: insert ``2**(level-1) - 1`` zeros between taps."""
    step = 2 ** (level - 1)
    if step == 1:
        return taps
    out = np.zeros((len(taps) - 1) * step + 1)
    out[::step] = taps
    return out


def _wavelet_pass(image, lo, hi, subband, axes, mode, level):
    """One non-decimated decomposition step: the ``subband`` at ``level``.

    Along each axis the (dilated) filter ``f`` of ``L`` taps acts as the
    convolution ``r[i] = sum_k f[k] x[i + (L // 2 - k) * 2**(level-1)]``: taps
    spread by ``2**(level-1)`` voxels (a trous) and the filter's middle aligned as
    in the IBSI consensus maps (zero appended to even-length filters).
    """
    step = 2 ** (level - 1)
    kernels = []
    origins = []
    for letter in subband:
        taps = lo if letter == "L" else hi
        shift = (len(taps) // 2) * step
        up = _dilate(taps, level)
        n = len(up)
        kernels.append(up)
        origins.append(n - 1 - shift - n // 2)
    return _separable(image, kernels, axes, mode, origins)


def wavelet_filter(
    image,
    *,
    wavelet: str,
    subband: str,
    level: int = 1,
    boundary: str = "mirror",
    dimensions: int = 3,
    rotation_invariance: bool = False,
    pooling: str = "mean",
):
    """Non-decimated separable wavelet subband (IBSI ``25BO``).

    Parameters
    ----------
    wavelet : str
        PyWavelets name of the wavelet (``"haar"``, ``"db2"``, ``"db3"``,
        ``"coif1"``, ...).
    subband : str
        One letter per filter axis in IBSI order (x, y, z), ``L`` (low-pass) or
        ``H`` (high-pass), e.g. ``"LHL"`` (3D) or ``"HH"`` (2D).
    level : int, default=1
        Decomposition level: levels above 1 filter the all-low-pass response of
        the level below with filters dilated by ``2**(level-1)`` (a trous).
    rotation_invariance : bool, default=False
        Pool the responses to the image's right-angle rotations (24 in 3D, 4 in
        2D) with ``pooling`` (IBSI: average).
    """
    image = _as_float(image)
    axes = _axes(dimensions, image.ndim)
    subband = subband.upper()
    if len(subband) != len(axes) or set(subband) - {"L", "H"}:
        raise ValueError(
            f"subband must be {len(axes)} letters L or H (e.g. "
            f"{'LHL' if len(axes) == 3 else 'LH'}); got {subband!r}."
        )
    if not isinstance(level, int | np.integer) or level < 1:
        raise ValueError(f"level must be a positive integer; got {level!r}.")
    lo, hi = _wavelet_taps(wavelet)
    mode = _mode(boundary)
    band = subband[::-1]  # (z, y, x) order

    def decompose(img):
        low = img
        for lev in range(1, level):
            low = _wavelet_pass(low, lo, hi, "L" * len(axes), axes, mode, lev)
        return _wavelet_pass(low, lo, hi, band, axes, mode, level)

    if not rotation_invariance:
        return decompose(image)
    maps = (
        _unrotate(decompose(_rotate(image, axes, perm, flips)), axes, perm, flips)
        for perm, flips in _rotations(len(axes))
    )
    return _pool(maps, pooling)


def _riesz_spectrum(shape, order) -> np.ndarray:
    """Riesz transform of ``order`` (per array axis) on an FFT grid of ``shape``.

    ``(-i)^|l| sqrt(|l|! / prod(l_a!)) prod(w_a^l_a) / |w|^|l|`` (IBSI ``AYRS``).
    """
    from scipy import fft as sfft
    total = int(sum(order))
    mesh = np.meshgrid(
        *[2 * np.pi * sfft.fftfreq(n) for n in shape], indexing="ij", sparse=True
    )
    radius = np.sqrt(sum(g**2 for g in mesh))
    radius[(0,) * len(shape)] = 1.0
    norm = math.sqrt(
        math.factorial(total) / math.prod(math.factorial(int(o)) for o in order)
    )
    out = (-1j) ** total * norm / radius**total
    for g, o in zip(mesh, order, strict=True):
        if o:
            out = out * g ** int(o)
    return out


def _check_riesz(order, n_axes):
    if order is None:
        return None
    order = list(order)
    if (
        len(order) != n_axes
        or any(
            isinstance(o, bool) or not isinstance(o, int | np.integer) or o < 0
            for o in order
        )
        or sum(order) < 1
    ):
        raise ValueError(
            f"riesz_order must be {n_axes} non-negative integers (IBSI order x, y"
            f"{', z' if n_axes == 3 else ''}) with a positive sum; got {order!r}."
        )
    return [int(o) for o in order[::-1]]  # array order


def _apply_riesz(work, order_array, axes):
    from scipy import fft as sfft
    shape = [work.shape[a] for a in axes]
    spec = _riesz_spectrum(tuple(shape), order_array)
    bshape = [1] * work.ndim
    for i, a in enumerate(axes):
        bshape[a] = shape[i]
    return np.real(
        sfft.ifftn(sfft.fftn(work, axes=axes) * spec.reshape(bshape), axes=axes)
    )


def _half_pad(image, axes, boundary, cap: int | None = None):
    """Pad the filter axes by half their length (at most ``cap`` voxels)."""
    pad = [(0, 0)] * image.ndim
    for a in axes:
        width = image.shape[a] // 2 if cap is None else min(image.shape[a] // 2, cap)
        pad[a] = (width, width)
    return _pad(image, pad, BOUNDARY_CONDITIONS[boundary][1]), pad


def _unpad(out, pad, shape):
    sl = tuple(slice(p[0], p[0] + n) for p, n in zip(pad, shape, strict=True))
    return np.ascontiguousarray(out[sl])


def _simoncelli_band(shape, level: int) -> np.ndarray:
    """The Simoncelli transfer function on an FFT grid of ``shape``.

    Frequencies per axis run over ``linspace(-1, 1, n)`` (in units of the
    Nyquist frequency, so ``w = pi * f``), put in FFT order by ``ifftshift``: the
    grid of the IBSI reference implementation, which the consensus maps follow.
    """
    from scipy import fft as sfft
    grids = []
    for n in shape:
        half = (n - 1) / 2.0 if n > 1 else 1.0
        grids.append(sfft.ifftshift((np.arange(n) - (n - 1) / 2.0) / half))
    mesh = np.meshgrid(*grids, indexing="ij", sparse=True)
    radius = np.sqrt(sum(g**2 for g in mesh))
    top = 1.0 / 2 ** (level - 1)
    inside = (radius >= top / 4) & (radius <= top)
    band = np.zeros(radius.shape)
    band[inside] = np.cos(np.pi / 2 * np.log2(2 * radius[inside] / top))
    return band


def simoncelli_filter(
    image,
    *,
    level: int = 1,
    boundary: str = "periodic",
    dimensions: int = 3,
    riesz_order=None,
):
    """Simoncelli non-separable wavelet (IBSI ``PRT7``), in the Fourier domain.

    The level-``j`` band-pass is ``cos(pi/2 * log2(2 * 2**(j-1) |w| / pi))`` for
    ``pi / 2**(j+1) <= |w| <= pi / 2**(j-1)`` (``w`` in radians per voxel), zero
    elsewhere; the response is the real part of the filtered image. The
    transform is periodic; another boundary condition pads every filtered axis
    by half its length, at most ``16 * 2**(level-1)`` voxels, first (the band is
    then defined on the padded grid).
    ``riesz_order`` (x, y[, z]) adds a Riesz transform of that order (IBSI
    ``AYRS``), applied in the same Fourier domain.
    """
    from scipy import fft as sfft
    image = _as_float(image)
    axes = _axes(dimensions, image.ndim)
    if not isinstance(level, int | np.integer) or level < 1:
        raise ValueError(f"level must be a positive integer; got {level!r}.")
    _mode(boundary)
    riesz = _check_riesz(riesz_order, len(axes))
    pad = [(0, 0)] * image.ndim
    if boundary != "periodic":
        work, pad = _half_pad(image, axes, boundary, 16 * 2 ** (int(level) - 1))
    else:
        work = image
    shape = [work.shape[a] for a in axes]
    band = _simoncelli_band(tuple(shape), int(level))
    bshape = [1] * work.ndim
    for i, a in enumerate(axes):
        bshape[a] = shape[i]
    spectrum = sfft.fftn(work, axes=axes)
    spectrum *= band.reshape(bshape)
    if riesz is not None:
        spectrum *= _riesz_spectrum(tuple(shape), riesz).reshape(bshape)
    out = np.real(sfft.ifftn(spectrum, axes=axes))
    return _unpad(out, pad, image.shape)


# ---------------------------------------------------------------------------
# configured filter (settings -> image type)
# ---------------------------------------------------------------------------
# name -> {parameter: (kind, default)}; kind: "int", "odd", "float", "bool", "str",
# "boundary", "dims", "pooling", "order", "intornull", ... ; default REQUIRED if needed.
REQUIRED = object()
_BOUNDARY = ("boundary", "mirror")
_SCHEMA: dict[str, dict[str, tuple]] = {
    "mean": {
        "support": ("odd", REQUIRED),
        "boundary": _BOUNDARY,
        "dimensions": ("dims", 3),
    },
    "log": {
        "sigma": ("float", REQUIRED),
        "truncate": ("float", 4.0),
        "boundary": _BOUNDARY,
        "dimensions": ("dims", 3),
        "riesz_order": ("order", None),
    },
    "laws": {
        "kernel": ("str", REQUIRED),
        "boundary": _BOUNDARY,
        "dimensions": ("dims", 3),
        "rotation_invariance": ("bool", False),
        "pooling": ("pooling", "max"),
        "energy_distance": ("count", None),
    },
    "gabor": {
        "sigma": ("float", REQUIRED),
        "wavelength": ("float", REQUIRED),
        "gamma": ("float", 1.0),
        "theta": ("angle", 0.0),
        "boundary": _BOUNDARY,
        "rotation_invariance": ("bool", False),
        "theta_step": ("float", None),
        "pooling": ("pooling", "mean"),
        "orthogonal_planes": ("bool", False),
    },
    "wavelet": {
        "wavelet": ("str", REQUIRED),
        "subband": ("str", REQUIRED),
        "level": ("level", 1),
        "boundary": _BOUNDARY,
        "dimensions": ("dims", 3),
        "rotation_invariance": ("bool", False),
        "pooling": ("pooling", "mean"),
    },
    "simoncelli": {
        "level": ("level", 1),
        "boundary": ("boundary", "periodic"),
        "dimensions": ("dims", 3),
        "riesz_order": ("order", None),
    },
}


def _check_param(filt: str, key: str, kind: str, value):
    def fail(expected):
        raise ValueError(
            f"Filter {filt!r}: parameter {key!r} must be {expected}; "
            f"got {value!r} instead."
        )

    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
    is_num = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if kind == "odd":
        if not is_int or value < 1 or value % 2 == 0:
            fail("an odd positive integer")
        return int(value)
    if kind in ("level",):
        if not is_int or value < 1:
            fail("a positive integer")
        return int(value)
    if kind == "count":
        if value is None:
            return None
        if not is_int or value < 0:
            fail("a non-negative integer or null")
        return int(value)
    if kind == "float":
        if value is None and key == "theta_step":
            return None
        if not is_num or not value > 0 or not math.isfinite(value):
            fail("a positive number")
        return float(value)
    if kind == "angle":
        if not is_num or not math.isfinite(value):
            fail("a number (degrees)")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            fail("a non-empty string")
        return value
    if kind == "boundary":
        if value not in BOUNDARY_CONDITIONS:
            fail(f"one of {list(BOUNDARY_CONDITIONS)}")
        return value
    if kind == "dims":
        if not is_int or value not in (2, 3):
            fail("2 (in-plane, slice by slice) or 3")
        return int(value)
    if kind == "pooling":
        if value not in ("max", "mean", "min"):
            fail("'max', 'mean' or 'min'")
        return value
    if kind == "order":
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0
            for v in value
        ):
            fail("a list of non-negative integers (x, y[, z]) or null")
        return [int(v) for v in value]
    raise AssertionError(kind)  # pragma: no cover


def _num(value: float) -> str:
    text = f"{float(value):g}" if float(value) != int(value) else f"{int(value)}-0"
    return text.replace(".", "-").replace("+", "")


@dataclass(frozen=True)
class ImageFilter:
    """One configured IBSI-2 filter: its parameters, image-type name and reach.

    Parameters
    ----------
    name : {"mean", "log", "laws", "gabor", "wavelet", "simoncelli"}
    params : dict
        The filter function's keyword arguments (without ``image`` and
        ``spacing``); unknown or ill-typed parameters raise ``ValueError``,
        missing ones take the function's defaults.

    Examples
    --------
    >>> f = ImageFilter("laws", {"kernel": "L5E5E5", "energy_distance": 7,
    ...                          "rotation_invariance": True})
    >>> f.type_name
    'ibsi2-laws-L5E5E5-energy-7-invariant-max-3D'
    """

    name: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.name not in FILTER_NAMES:
            raise ValueError(
                f"Unknown filter {self.name!r}; expected one of {list(FILTER_NAMES)}."
            )
        schema = _SCHEMA[self.name]
        given = dict(self.params or {})
        for key in given:
            if key not in schema:
                import difflib

                close = difflib.get_close_matches(str(key), list(schema), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Unknown parameter {key!r} of filter {self.name!r}.{hint} "
                    f"Known parameters: {', '.join(schema)}."
                )
        full = {}
        for key, (kind, default) in schema.items():
            if key in given:
                full[key] = _check_param(self.name, key, kind, given[key])
            elif default is REQUIRED:
                raise ValueError(f"Filter {self.name!r} needs parameter {key!r}.")
            else:
                full[key] = default
        object.__setattr__(self, "params", full)
        # Values that depend on each other (kernel names, subbands, theta_step,
        # Riesz orders): a dry run on a tiny image raises their errors now.
        try:
            self(np.zeros((3, 3, 3)), (1.0, 1.0, 1.0))
        except ValueError as exc:
            raise ValueError(f"Filter {self.name!r}: {exc}") from None

    @property
    def function(self):
        """The filter function (e.g. :func:`laws_filter`)."""
        return {
            "mean": mean_filter,
            "log": log_filter,
            "laws": laws_filter,
            "gabor": gabor_filter,
            "wavelet": wavelet_filter,
            "simoncelli": simoncelli_filter,
        }[self.name]

    def __call__(self, image, spacing=(1.0, 1.0, 1.0)):
        """The response map of the whole ``image`` (z, y, x; spacing in mm)."""
        kwargs = dict(self.params)
        if self.name in ("log", "gabor"):
            kwargs["spacing"] = spacing
        return self.function(image, **kwargs)

    def to_dict(self) -> dict:
        """``{"name": ..., **params}`` (the settings-file form)."""
        return {"name": self.name, **self.params}

    @property
    def type_name(self) -> str:
        """The image-type name: the prefix of this filter's feature columns."""
        p = self.params
        dims = f"{p.get('dimensions', 3)}D"
        if self.name == "mean":
            parts = ["mean", str(p["support"]), dims]
        elif self.name == "log":
            parts = ["log", "sigma", _num(p["sigma"]), "mm", dims]
        elif self.name == "laws":
            parts = ["laws", p["kernel"].upper()]
            if p["energy_distance"] is not None:
                parts += ["energy", str(p["energy_distance"])]
            if p["rotation_invariance"]:
                parts += ["invariant", p["pooling"]]
            parts.append(dims)
        elif self.name == "gabor":
            parts = [
                "gabor",
                "sigma",
                _num(p["sigma"]),
                "mm",
                "lambda",
                _num(p["wavelength"]),
                "mm",
                "gamma",
                _num(p["gamma"]),
            ]
            if p["rotation_invariance"]:
                parts += ["invariant", _num(p["theta_step"]), p["pooling"]]
            else:
                parts += ["theta", _num(p["theta"])]
            parts.append("3planes" if p["orthogonal_planes"] else "2D")
        elif self.name == "wavelet":
            parts = [
                "wavelet",
                p["wavelet"],
                p["subband"].upper(),
                "level",
                str(p["level"]),
            ]
            if p["rotation_invariance"]:
                parts += ["invariant", p["pooling"]]
            parts.append(dims)
        else:
            parts = ["simoncelli", "level", str(p["level"]), dims]
        if p.get("riesz_order"):
            parts += ["riesz", *(str(o) for o in p["riesz_order"])]
        return "ibsi2-" + "-".join(parts)

    def reach(self, spacing) -> tuple[int, int, int] | None:
        """Voxels per axis (z, y, x) that one response value depends on each side.

        None when the response depends on the whole image (Fourier-domain
        filters: Simoncelli, Riesz transforms).
        """
        p = self.params
        dims = p.get("dimensions", 3)
        if self.name == "simoncelli" or p.get("riesz_order"):
            return None
        if self.name == "mean":
            r = p["support"] // 2
        elif self.name == "log":
            axes = _axes(dims, 3)
            r = int(
                math.floor(p["truncate"] * _voxels(p["sigma"], spacing, axes) + 0.5)
            )
        elif self.name == "laws":
            parts = _laws_parts(p["kernel"], dims)
            r = max(len(k) // 2 for k in parts) + (p["energy_distance"] or 0)
        elif self.name == "gabor":
            sp = np.asarray(spacing, dtype=float)
            planes = [(1, 2)] + ([(0, 2), (0, 1)] if p["orthogonal_planes"] else [])
            out = [0, 0, 0]
            for axes in planes:
                s = _voxels(p["sigma"], sp, axes)
                r = _gabor_radius(s, p["gamma"])
                for a in axes:
                    out[a] = max(out[a], r)
            return tuple(out)
        else:
            lo, _ = _wavelet_taps(p["wavelet"])
            n = len(lo)
            r = sum(
                max(n // 2, n - 1 - n // 2) * 2 ** (j - 1)
                for j in range(1, p["level"] + 1)
            )
        return (0, r, r) if dims == 2 else (r, r, r)

    def apply(self, image, spacing=(1.0, 1.0, 1.0), mask=None) -> np.ndarray:
        """The response map; with a mask, only the region that reaches it.

        With ``mask`` (bool, same shape), the image is cropped to the mask's
        bounding box plus :meth:`reach` on each side before filtering, and the
        response is returned on the whole grid with the cropped values in place
        (zeros elsewhere). Where the box plus reach leaves the image, the image
        edge is kept, so the boundary condition acts there as on the whole
        volume (periodic: the whole axis is kept). Values inside the mask equal
        those of the whole-volume response.
        """
        try:
            return self._apply(_as_float(image), spacing, mask)
        except ValueError as exc:
            raise ValueError(f"Filter {self.type_name}: {exc}") from None

    def _apply(self, image, spacing, mask):
        reach = self.reach(spacing) if mask is not None else None
        if reach is None or image.ndim != 3:
            return self(image, spacing)
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != image.shape:
            raise ValueError(
                f"mask shape {mask.shape} differs from image shape {image.shape}."
            )
        if not mask.any():
            raise ValueError("The mask is empty: nothing to filter.")
        periodic = self.params.get("boundary") == "periodic"
        slices = []
        for axis in range(3):
            other = tuple(a for a in range(3) if a != axis)
            present = np.flatnonzero(mask.any(axis=other))
            lo = int(present[0]) - reach[axis]
            hi = int(present[-1]) + reach[axis] + 1
            n = image.shape[axis]
            if periodic and (lo < 0 or hi > n):
                lo, hi = 0, n
            slices.append(slice(max(lo, 0), min(hi, n)))
        slices = tuple(slices)
        out = np.zeros(image.shape)
        out[slices] = self(image[slices], spacing)
        return out


def _gabor_radius(sigma: float, gamma: float) -> int:
    return max(int(math.ceil(7.0 * sigma / 2.0 * max(1.0, 1.0 / gamma))), 1)


def filtered_image(image, mask, label: int, image_filter: ImageFilter):
    """A SimpleITK image filtered by ``image_filter`` on the ROI's region.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        Image and mask on the same grid.
    label : int
        The ROI's label: the image is filtered on its bounding box plus the
        filter's reach (:meth:`ImageFilter.apply`); the result has ``image``'s
        grid, with zeros outside that region.
    """
    import SimpleITK as sitk

    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    roi = sitk.GetArrayViewFromImage(mask) == label
    spacing = tuple(float(s) for s in image.GetSpacing()[::-1])
    out = sitk.GetImageFromArray(image_filter.apply(arr, spacing, roi))
    out.CopyInformation(image)
    return out
