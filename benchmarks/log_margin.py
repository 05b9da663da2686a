"""How far outside the ROI the image still changes pyradiomics' LoG inside it.

SimpleITK's ``LaplacianRecursiveGaussianImageFilter`` (pyradiomics' LoG) is a
recursive (IIR) filter: in principle every voxel of a line reaches every output.
This script filters the whole volume of extraction_speed.py's large case
(474k-voxel ROI in 60x320x320 voxels, 0.8x0.8x3 mm) and crops of it reaching
``k`` sigma beyond the ROI's bounding box, and prints, for each sigma and k, the
largest change inside the ROI relative to the largest |LoG| there. radsarc's
engine filters the box plus ``LOG_MARGIN_SIGMAS`` (20) sigma.

Usage::

    python benchmarks/log_margin.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).parent))
import extraction_speed  # noqa: E402


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        image_path, mask_path, n = extraction_speed.make_case(
            Path(tmp), "large", (19.5, 78, 73), seed=0
        )
        image = sitk.ReadImage(image_path)
        roi = sitk.GetArrayFromImage(sitk.ReadImage(mask_path)).astype(bool)
    z, y, x = np.where(roi)
    box = [(int(a.min()), int(a.max())) for a in (z, y, x)]
    size = roi.shape
    spacing = np.array(image.GetSpacing()[::-1])
    for sigma in (1.0, 2.0, 3.0):
        log = sitk.LaplacianRecursiveGaussianImageFilter()
        log.SetNormalizeAcrossScale(True)
        log.SetSigma(sigma)
        start = time.perf_counter()
        whole = sitk.GetArrayFromImage(log.Execute(image))
        t_whole = time.perf_counter() - start
        scale = np.abs(whole[roi]).max()
        for k in (4, 8, 12, 16, 20):
            margin = np.ceil(k * sigma / spacing).astype(int)
            lo = [max(0, b[0] - m) for b, m in zip(box, margin, strict=True)]
            hi = [
                min(s - 1, b[1] + m) for b, m, s in zip(box, margin, size, strict=True)
            ]
            lower = [int(v) for v in lo[::-1]]
            upper = [int(s - 1 - h) for s, h in zip(size[::-1], hi[::-1], strict=True)]
            start = time.perf_counter()
            crop = sitk.GetArrayFromImage(log.Execute(sitk.Crop(image, lower, upper)))
            t_crop = time.perf_counter() - start
            region = tuple(slice(a, b + 1) for a, b in zip(lo, hi, strict=True))
            inside = roi[region]
            change = np.abs(crop[inside] - whole[region][inside]).max() / scale
            rows.append(
                {
                    "sigma mm": sigma,
                    "margin (sigma)": k,
                    "crop voxels": crop.size,
                    "max change / max|LoG|": change,
                    "whole s": t_whole,
                    "crop s": t_crop,
                }
            )
    print(f"ROI {n} voxels in {size}, spacing {spacing.tolist()} mm (z, y, x)")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
