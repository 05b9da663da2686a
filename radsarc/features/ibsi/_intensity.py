"""IBSI intensity features: statistics, histogram, intensity-volume histogram,
local intensity."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

__all__ = [
    "intensity_histogram",
    "intensity_statistics",
    "intensity_volume_histogram",
    "local_intensity",
]


def _moments(x: np.ndarray, prefix: str) -> dict:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("No voxels in the intensity mask.")
    mean = x.mean()
    dev = x - mean
    m2 = np.mean(dev**2)
    m3 = np.mean(dev**3)
    m4 = np.mean(dev**4)
    p10, p25, p50, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    robust = x[(x >= p10) & (x <= p90)]
    return _statistics(
        prefix,
        (mean, m2, m3, m4),
        (p10, p25, p50, p75, p90),
        (x.min(), x.max()),
        mad=np.mean(np.abs(dev)),
        rmad=np.mean(np.abs(robust - robust.mean())) if robust.size else math.nan,
        medad=np.mean(np.abs(x - p50)),
    )


def _statistics(prefix, moments, percentiles, extremes, *, mad, rmad, medad) -> dict:
    """The statistics of :func:`_moments` and :func:`_level_moments` from the
    mean and central moments 2-4, the 10/25/50/75/90th percentiles, the minimum
    and maximum and the three mean absolute deviations (each route computes
    those its own way)."""
    mean, m2, m3, m4 = moments
    p10, p25, p50, p75, p90 = percentiles
    lo, hi = extremes
    out = {
        "mean": mean,
        "var": m2,
        "skew": m3 / m2**1.5 if m2 > 0 else 0.0,
        "kurt": m4 / m2**2 - 3.0 if m2 > 0 else 0.0,
        "median": p50,
        "min": lo,
        "p10": p10,
        "p90": p90,
        "max": hi,
        "iqr": p75 - p25,
        "range": hi - lo,
        "mad": mad,
        "rmad": rmad,
        "medad": medad,
        "cov": math.sqrt(m2) / mean if mean != 0 else math.nan,
        "qcod": (p75 - p25) / (p75 + p25) if (p75 + p25) != 0 else math.nan,
    }
    return {f"{prefix}_{k}": float(v) for k, v in out.items()}


def intensity_statistics(values: np.ndarray) -> dict[str, float]:
    """IBSI intensity statistics (``stat_*``) of the intensities in the ROI.

    Population moments; percentiles by linear interpolation (numpy's default);
    kurtosis is the excess kurtosis.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("No voxels in the intensity mask.")
    lo, hi = x.min(), x.max()
    if hi - lo < 1e6 and np.array_equal(x, np.round(x)):
        # integer intensities (CT, most MRI): the same values from a histogram
        counts = np.bincount((x - lo).astype(np.int64)).astype(np.float64)
        out = _level_moments(counts, first=lo, prefix="stat")
    else:
        out = _moments(x, "stat")
    out["stat_energy"] = float(np.sum(x**2))
    out["stat_rms"] = float(math.sqrt(np.mean(x**2)))
    return out


def _level_moments(counts: np.ndarray, first: float = 1.0, prefix: str = "ih") -> dict:
    """``_moments`` of grey levels 1..N_g given their counts (no sorting).

    Percentiles interpolate linearly between order statistics, as
    ``np.percentile``; the k-th order statistic is the level at which the
    cumulative count first exceeds k.
    """
    lv = first + np.arange(counts.size, dtype=np.float64)
    n = counts.sum()
    cum = np.cumsum(counts)

    def order_stat(k):
        return lv[np.searchsorted(cum, k, side="right")]

    def pct(q):
        h = (n - 1) * q / 100.0
        lo = np.floor(h)
        a = order_stat(lo)
        b = order_stat(min(lo + 1, n - 1))
        return a + (h - lo) * (b - a)

    w = counts / n
    mean = w @ lv
    dev = lv - mean
    m2 = w @ dev**2
    m3 = w @ dev**3
    m4 = w @ dev**4
    p10, p25, p50, p75, p90 = (pct(q) for q in (10, 25, 50, 75, 90))
    inner = np.where((lv >= p10) & (lv <= p90), counts, 0)
    n_inner = inner.sum()
    inner_mean = (inner @ lv) / n_inner if n_inner else math.nan
    present = np.nonzero(counts)[0]
    return _statistics(
        prefix,
        (mean, m2, m3, m4),
        (p10, p25, p50, p75, p90),
        (lv[present[0]], lv[present[-1]]),
        mad=w @ np.abs(dev),
        rmad=(inner @ np.abs(lv - inner_mean)) / n_inner if n_inner else math.nan,
        medad=w @ np.abs(lv - p50),
    )


def intensity_histogram(levels: np.ndarray) -> dict[str, float]:
    """IBSI intensity-histogram features (``ih_*``) of discretised grey levels."""
    g = np.asarray(levels).ravel().astype(np.int64)
    if g.size == 0:
        raise ValueError("No voxels in the intensity mask.")
    n_g = int(g.max())
    counts = np.bincount(g, minlength=n_g + 1)[1:].astype(np.float64)
    out = _level_moments(counts)
    p = counts / counts.sum()
    out["ih_mode"] = float(np.argmax(counts) + 1)
    nz = p[p > 0]
    out["ih_entropy"] = float(-np.sum(nz * np.log2(nz)))
    out["ih_uniformity"] = float(np.sum(p**2))
    if n_g == 1:
        grad = np.zeros(1)
    else:
        grad = np.gradient(counts)  # central differences, one-sided at the ends
    out["ih_max_grad"] = float(grad.max())
    out["ih_max_grad_g"] = float(np.argmax(grad) + 1)
    out["ih_min_grad"] = float(grad.min())
    out["ih_min_grad_g"] = float(np.argmin(grad) + 1)
    order = [
        "mean", "var", "skew", "kurt", "median", "min", "p10", "p90", "max",
        "mode", "iqr", "range", "mad", "rmad", "medad", "cov", "qcod", "entropy",
        "uniformity", "max_grad", "max_grad_g", "min_grad", "min_grad_g",
    ]  # fmt: skip
    return {f"ih_{k}": out[f"ih_{k}"] for k in order}


def intensity_volume_histogram(
    values: np.ndarray,
    method: str,
    *,
    n_bins: int = 1000,
    bin_width: float = 2.5,
    resegment_range: tuple | None = None,
) -> dict[str, float]:
    """IBSI intensity-volume histogram features (``ivh_*``).

    ``method`` is the IVH discretisation: ``none`` (integer intensities: every
    integer between the bounds is a candidate intensity; otherwise the distinct
    intensities), ``fbs`` (bin centres ``lower + (k - 0.5) width``) or ``fbn``
    (grey levels ``1 .. n_bins``). The intensity range of the fractions is the
    re-segmentation range where it is finite, else the ROI's range (``1 ..
    n_bins`` for ``fbn``).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    rr = resegment_range
    lo_r = rr[0] if rr is not None and math.isfinite(rr[0]) else None
    hi_r = rr[1] if rr is not None and math.isfinite(rr[1]) else None
    if method == "fbn":
        lo, hi = x.min(), x.max()
        if hi == lo:
            g = np.ones(x.size, dtype=np.int64)
        else:
            g = np.clip(
                np.floor(n_bins * (x - lo) / (hi - lo)).astype(np.int64) + 1, 1, n_bins
            )
        grid = np.arange(1, n_bins + 1, dtype=np.float64)
        idx = g - 1
        x_min, x_max = 1.0, float(n_bins)
    elif method == "fbs":
        lower = lo_r if lo_r is not None else x.min()
        g = np.floor((x - lower) / bin_width).astype(np.int64) + 1
        g = np.maximum(g, 1)
        top = int(g.max())
        if hi_r is not None:
            top = max(top, int(math.floor((hi_r - lower) / bin_width)) + 1)
        grid = lower + (np.arange(1, top + 1) - 0.5) * bin_width
        idx = g - 1
        x_min = lower + 0.5 * bin_width
        x_max = float(grid[-1]) if hi_r is None else hi_r - 0.5 * bin_width
        x_min = lower if lo_r is not None else x_min
        x_max = hi_r if hi_r is not None else x_max
    else:
        integer = np.all(x == np.round(x))
        x_min = lo_r if lo_r is not None else x.min()
        x_max = hi_r if hi_r is not None else x.max()
        if integer:
            start = math.floor(min(x_min, x.min()))
            stop = math.ceil(max(x_max, x.max()))
            grid = np.arange(start, stop + 1, dtype=np.float64)
            idx = (x - start).astype(np.int64)
        else:
            grid, idx = np.unique(x, return_inverse=True)
    counts = np.bincount(idx, minlength=grid.size).astype(np.float64)
    # nu[k]: fraction of the volume with intensity >= grid[k]
    nu = np.cumsum(counts[::-1])[::-1] / x.size
    vals_on_grid = grid[idx]
    span = x_max - x_min
    out = {}
    for frac, name in ((0.1, "10"), (0.9, "90")):
        thr = x_min + frac * span
        out[f"ivh_v{name}"] = float(np.mean(vals_on_grid >= thr - 1e-9 * abs(span)))
    for frac, name in ((0.1, "10"), (0.9, "90")):
        ok = np.nonzero(nu <= frac + 1e-12)[0]
        out[f"ivh_i{name}"] = float(grid[ok[0]]) if ok.size else float(grid[-1])
    out["ivh_diff_v10_v90"] = out["ivh_v10"] - out["ivh_v90"]
    out["ivh_diff_i10_i90"] = out["ivh_i10"] - out["ivh_i90"]
    gamma = (grid - x_min) / span if span > 0 else np.zeros_like(grid)
    out["ivh_auc"] = float(np.trapezoid(nu, gamma)) if grid.size > 1 else 0.0
    order = ["v10", "v90", "i10", "i90", "diff_v10_v90", "diff_i10_i90", "auc"]
    return {f"ivh_{k}": out[f"ivh_{k}"] for k in order}


def _sphere_kernel(spacing, radius: float) -> np.ndarray:
    reach = [int(math.floor(radius / s)) for s in spacing]
    grids = np.meshgrid(
        *[np.arange(-r, r + 1) * s for r, s in zip(reach, spacing, strict=True)],
        indexing="ij",
    )
    dist2 = sum(g**2 for g in grids)
    return (dist2 <= radius**2 + 1e-9).astype(np.float64)


def local_intensity(
    image: np.ndarray, int_mask: np.ndarray, spacing, radius: float | None = None
) -> dict[str, float]:
    """IBSI local and global intensity peak (``loc_peak_loc``, ``loc_peak_glob``).

    The mean intensity in a 1 cm^3 sphere (voxel centres within ``radius`` of the
    centre, any voxel of the image) around: the ROI voxel(s) of maximum intensity
    (local peak; the highest such mean if several), every ROI voxel (global
    peak: the highest mean).
    """
    from radsarc.features.ibsi._preprocess import PEAK_RADIUS

    radius = PEAK_RADIUS if radius is None else radius
    kernel = _sphere_kernel(spacing, radius)
    reach = [k // 2 for k in kernel.shape]
    nz = [
        np.nonzero(int_mask.any(axis=tuple(a for a in range(3) if a != ax)))[0]
        for ax in range(3)
    ]
    sl = tuple(
        slice(max(0, n[0] - r), min(s, n[-1] + r + 1))
        for n, r, s in zip(nz, reach, image.shape, strict=True)
    )
    img = image[sl]
    roi = int_mask[sl]
    total = signal.fftconvolve(img, kernel, mode="same")
    clipped = any(
        n[0] - r < 0 or n[-1] + r + 1 > s
        for n, r, s in zip(nz, reach, image.shape, strict=True)
    )
    if clipped:  # spheres cut by the image border: mean of the voxels inside
        count = np.round(signal.fftconvolve(np.ones_like(img), kernel, mode="same"))
        means = total / np.maximum(count, 1.0)
    else:
        means = total / kernel.sum()
    vals = img[roi]
    loc_means = means[roi]
    top = vals == vals.max()
    return {
        "loc_peak_loc": float(loc_means[top].max()),
        "loc_peak_glob": float(loc_means.max()),
    }
