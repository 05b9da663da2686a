"""Voxel-based texture maps: radsarc vs pyradiomics ``voxelBased``, side by side.

One synthetic sarcoma-like ROI (a lobulated ellipsoid with a necrotic core, a
rim, smooth heterogeneity and noise on anisotropic 0.8 x 0.8 x 3 mm voxels), every
feature class with maps (first order, GLCM, GLRLM, GLSZM, GLDM, NGTDM; 93
features), kernel radius 1. Both run in this process on the same images and
settings; radsarc's compiled kernels are loaded (or compiled, timed apart) on a
tiny image first. Prints both times, the ratio, the load average, and the
maximum relative difference of every feature inside the mask.

Usage::

    python benchmarks/maps_speed.py                 # 30k voxels
    python benchmarks/maps_speed.py --voxels 4000   # quick
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np
import SimpleITK as sitk


def sarcoma_roi(n_voxels: int, seed: int = 0):
    """Image and mask with about ``n_voxels`` voxels in the ROI."""
    rng = np.random.default_rng(seed)
    spacing = np.array([3.0, 0.8, 0.8])  # z, y, x (mm)
    # Semi-axes (mm) of an ellipsoid of volume n_voxels * voxel volume.
    volume = n_voxels * spacing.prod()
    axes = np.array([1.0, 1.3, 1.1])
    scale = (volume / (4 / 3 * np.pi * axes.prod())) ** (1 / 3)
    semi = axes * scale
    shape = tuple(int(2 * s / d) + 8 for s, d in zip(semi, spacing, strict=True))
    grids = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    centre = np.array(shape) / 2
    mm = [(g - c) * d for g, c, d in zip(grids, centre, spacing, strict=True)]
    radius = np.sqrt(sum((m / s) ** 2 for m, s in zip(mm, semi, strict=True)))
    lobes = 0.12 * np.sin(mm[1] / semi[1] * 5) * np.cos(mm[2] / semi[2] * 4)
    mask = radius < 1 + lobes
    smooth = sum(np.sin(m / (3 + 4 * k) + rng.uniform(0, 6)) for k, m in enumerate(mm))
    image = 300 + 60 * smooth + 40 * rng.standard_normal(shape)
    image[radius < 0.45] = 150 + 25 * rng.standard_normal((radius < 0.45).sum())
    rim = (radius > 0.85) & mask
    image[rim] += 120
    img = sitk.GetImageFromArray(image.astype(np.float32))
    img.SetSpacing(tuple(float(s) for s in spacing[::-1]))
    msk = sitk.GetImageFromArray(mask.astype(np.uint8))
    msk.CopyInformation(img)
    return img, msk


def pyradiomics_maps(image, mask, params):
    import radiomics
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.CRITICAL)
    extractor = featureextractor.RadiomicsFeatureExtractor(params)
    out = extractor.execute(image, mask, voxelBased=True)
    shape = sitk.GetArrayViewFromImage(mask).shape
    maps = {}
    for name, value in out.items():
        if name.startswith("diagnostics"):
            continue
        arr = sitk.GetArrayFromImage(value)
        z, y, x = mask.TransformPhysicalPointToIndex(value.GetOrigin())[::-1]
        grid = np.zeros(shape)
        grid[z : z + arr.shape[0], y : y + arr.shape[1], x : x + arr.shape[2]] = arr
        maps[name] = grid
    return maps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxels", type=int, default=30000)
    parser.add_argument("--bin-count", type=int, default=16)
    parser.add_argument(
        "--voxel-batch",
        type=int,
        default=5000,
        help="pyradiomics voxelBatch (both tools; bounds pyradiomics' memory)",
    )
    args = parser.parse_args()

    from radsarc.features._maps_engine import _extractor, compute_maps

    params = {
        "setting": {"binCount": args.bin_count},
        "featureClass": dict.fromkeys(
            ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]
        ),
        "voxelSetting": {"kernelRadius": 1, "voxelBatch": args.voxel_batch},
    }
    image, mask = sarcoma_roi(args.voxels)
    inside = sitk.GetArrayViewFromImage(mask) == 1
    print(f"ROI: {int(inside.sum())} voxels, image {image.GetSize()}, kernel radius 1")
    print(f"load average before: {os.getloadavg()}")

    from radsarc.features._kernels import warm_up

    tiny_img, tiny_mask = sarcoma_roi(200, seed=1)
    t = time.perf_counter()
    warm_up()
    compute_maps(tiny_img, tiny_mask, params, None)
    warm = time.perf_counter() - t
    print(f"radsarc kernels loaded (compiled the first time), tiny ROI: {warm:.1f} s")

    _extractor.cache_clear()  # settings validated again inside the timing
    t = time.perf_counter()
    ours, _ = compute_maps(image, mask, params, None)
    t_ours = time.perf_counter() - t
    print(f"radsarc, 1 thread:  {t_ours:8.2f} s  load {os.getloadavg()}")
    _extractor.cache_clear()
    t = time.perf_counter()
    ours2, _ = compute_maps(image, mask, params, None, threads=2)
    t_ours2 = time.perf_counter() - t
    print(f"radsarc, 2 threads: {t_ours2:8.2f} s  load {os.getloadavg()}")
    assert all(np.array_equal(ours[k], ours2[k], equal_nan=True) for k in ours)
    t = time.perf_counter()
    ref = pyradiomics_maps(image, mask, params)
    t_ref = time.perf_counter() - t
    print(f"pyradiomics:        {t_ref:8.2f} s  load {os.getloadavg()}")
    print(
        f"ratio: {t_ref / t_ours:.1f}x (1 thread), {t_ref / t_ours2:.1f}x "
        f"(2 threads, as --n-jobs 2 on one case)  ({len(ref)} features)"
    )

    worst = 0.0
    print(f"\n{'feature':50s} {'max rel diff':>12s} {'NaN same':>8s}")
    for name in sorted(ref):
        a, b = ref[name][inside], ours[name][inside]
        same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
        ok = ~np.isnan(a) & ~np.isnan(b)
        denom = np.maximum(np.abs(a[ok]), 1e-300)
        rel = np.abs(a[ok] - b[ok]) / denom
        # Values that are zero up to rounding (|x| < 1e-9) compare absolutely.
        rel = np.where(np.abs(a[ok]) < 1e-9, np.abs(a[ok] - b[ok]), rel)
        top = float(rel.max()) if rel.size else 0.0
        worst = max(worst, top if same_nan else np.inf)
        print(f"{name:50s} {top:12.2e} {str(same_nan):>8s}")
    print(f"\nworst relative difference over {len(ref)} features: {worst:.2e}")


if __name__ == "__main__":
    main()
