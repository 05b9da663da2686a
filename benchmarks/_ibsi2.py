"""IBSI-2 conformance: phase 1 (response maps) and phase 2 (CT phantom features).

Used by ``benchmarks/ibsi.py`` (:func:`run`); run alone with
``python benchmarks/_ibsi2.py --out DIR [--phase 1|2]``.

Phase 1 writes ``DIR/ibsi2_phase1/<test id>.nii.gz`` (the response map of every
test, on the reference map's grid) and compares each with the consensus map:
the IBSI criterion is ``max |ours - reference| <= 1 %`` of the reference map's
intensity range. Phase 2 writes ``DIR/ibsi2_phase2.csv``
(``filter_id,feature_tag,value``): intensity statistics of the filtered CT
phantom for the 18 configurations 1.A-9.B, and compares them with the
reference values and tolerances.

The test settings are those of the IBSI-2 reference manual (Depeursinge et al.,
arXiv:2006.05470, chapter "Benchmarking"): phase 1 on the 64^3 digital phantoms
(2 mm voxels, no interpolation), phase 2 on the IBSI-1 CT phantom.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radsarc.images._filters import ImageFilter  # noqa: E402


def _default_data() -> Path:
    """``$RADSARC_SHARED_DATA/ibsi``, else the nearest ``shared/data/ibsi`` above."""
    root = os.environ.get("RADSARC_SHARED_DATA")
    if root:
        return Path(root) / "ibsi"
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "shared" / "data" / "ibsi").is_dir():
            return parent / "shared" / "data" / "ibsi"
    return here.parents[2] / "shared" / "data" / "ibsi"


DATA = _default_data()

# test id -> (phantom, filter name, parameters). 2D filters act in axial planes.
PHASE1: dict[str, tuple[str, str, dict]] = {
    "1_a_1": ("checkerboard", "mean", {"support": 15, "boundary": "zero"}),
    "1_a_2": ("checkerboard", "mean", {"support": 15, "boundary": "nearest"}),
    "1_a_3": ("checkerboard", "mean", {"support": 15, "boundary": "periodic"}),
    "1_a_4": ("checkerboard", "mean", {"support": 15, "boundary": "mirror"}),
    "1_b_1": ("impulse", "mean", {"support": 15, "boundary": "zero", "dimensions": 2}),
    "2_a": ("impulse", "log", {"sigma": 3.0, "truncate": 4.0, "boundary": "zero"}),
    "2_b": (
        "checkerboard",
        "log",
        {"sigma": 5.0, "truncate": 4.0, "boundary": "mirror"},
    ),
    "2_c": (
        "checkerboard",
        "log",
        {"sigma": 5.0, "truncate": 4.0, "boundary": "mirror", "dimensions": 2},
    ),
    "3_a_1": ("impulse", "laws", {"kernel": "E5L5S5", "boundary": "zero"}),
    "3_a_2": (
        "impulse",
        "laws",
        {
            "kernel": "E5L5S5",
            "boundary": "zero",
            "rotation_invariance": True,
            "pooling": "max",
        },
    ),
    "3_a_3": (
        "impulse",
        "laws",
        {
            "kernel": "E5L5S5",
            "boundary": "zero",
            "rotation_invariance": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "3_b_1": ("checkerboard", "laws", {"kernel": "E3W5R5", "boundary": "mirror"}),
    "3_b_2": (
        "checkerboard",
        "laws",
        {
            "kernel": "E3W5R5",
            "boundary": "mirror",
            "rotation_invariance": True,
            "pooling": "max",
        },
    ),
    "3_b_3": (
        "checkerboard",
        "laws",
        {
            "kernel": "E3W5R5",
            "boundary": "mirror",
            "rotation_invariance": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "3_c_1": (
        "checkerboard",
        "laws",
        {"kernel": "L5S5", "boundary": "mirror", "dimensions": 2},
    ),
    "3_c_2": (
        "checkerboard",
        "laws",
        {
            "kernel": "L5S5",
            "boundary": "mirror",
            "dimensions": 2,
            "rotation_invariance": True,
            "pooling": "max",
        },
    ),
    "3_c_3": (
        "checkerboard",
        "laws",
        {
            "kernel": "L5S5",
            "boundary": "mirror",
            "dimensions": 2,
            "rotation_invariance": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "4_a_1": (
        "impulse",
        "gabor",
        {
            "sigma": 10.0,
            "wavelength": 4.0,
            "gamma": 0.5,
            "theta": 60.0,
            "boundary": "zero",
        },
    ),
    "4_a_2": (
        "impulse",
        "gabor",
        {
            "sigma": 10.0,
            "wavelength": 4.0,
            "gamma": 0.5,
            "theta": 0.0,
            "boundary": "zero",
            "rotation_invariance": True,
            "theta_step": 45.0,
            "pooling": "mean",
            "orthogonal_planes": True,
        },
    ),
    "4_b_1": (
        "sphere",
        "gabor",
        {
            "sigma": 20.0,
            "wavelength": 8.0,
            "gamma": 2.5,
            "theta": 225.0,
            "boundary": "mirror",
        },
    ),
    "4_b_2": (
        "sphere",
        "gabor",
        {
            "sigma": 20.0,
            "wavelength": 8.0,
            "gamma": 2.5,
            "theta": 0.0,
            "boundary": "mirror",
            "rotation_invariance": True,
            "theta_step": 22.5,
            "pooling": "mean",
            "orthogonal_planes": True,
        },
    ),
    "5_a_1": (
        "impulse",
        "wavelet",
        {"wavelet": "db2", "subband": "LHL", "boundary": "zero"},
    ),
    "5_a_2": (
        "impulse",
        "wavelet",
        {
            "wavelet": "db2",
            "subband": "LHL",
            "boundary": "zero",
            "rotation_invariance": True,
        },
    ),
    "6_a_1": (
        "sphere",
        "wavelet",
        {"wavelet": "coif1", "subband": "HHL", "boundary": "periodic"},
    ),
    "6_a_2": (
        "sphere",
        "wavelet",
        {
            "wavelet": "coif1",
            "subband": "HHL",
            "boundary": "periodic",
            "rotation_invariance": True,
        },
    ),
    "7_a_1": (
        "checkerboard",
        "wavelet",
        {
            "wavelet": "haar",
            "subband": "LLL",
            "level": 2,
            "boundary": "mirror",
            "rotation_invariance": True,
        },
    ),
    "7_a_2": (
        "checkerboard",
        "wavelet",
        {
            "wavelet": "haar",
            "subband": "HHH",
            "level": 2,
            "boundary": "mirror",
            "rotation_invariance": True,
        },
    ),
    "8_a_1": ("checkerboard", "simoncelli", {"level": 1, "boundary": "periodic"}),
    "8_a_2": ("checkerboard", "simoncelli", {"level": 2, "boundary": "periodic"}),
    "8_a_3": ("checkerboard", "simoncelli", {"level": 3, "boundary": "periodic"}),
    "9_a": (
        "impulse",
        "log",
        {"sigma": 3.0, "truncate": 4.0, "boundary": "zero", "riesz_order": [1, 0, 0]},
    ),
    "9_b_1": (
        "sphere",
        "log",
        {"sigma": 3.0, "truncate": 4.0, "boundary": "zero", "riesz_order": [0, 2, 0]},
    ),
    "10_b_1": (
        "pattern_1",
        "simoncelli",
        {"level": 1, "boundary": "nearest", "riesz_order": [0, 2, 0]},
    ),
}


# Phase 2: filter id -> (filter name or None, parameters). "A" configurations are
# 2D (no interpolation, filters in-plane slice by slice), "B" 3D (1 mm isotropic
# tricubic interpolation, 3D filters). Boundary: mirror, except the Simoncelli
# wavelets, defined in the Fourier domain and periodic (with mirror padding 8.A
# misses 2 of 18 values; periodic matches all). Re-segmentation of the
# intensity mask to [-1000, 400] HU; features: IBSI-1 intensity statistics.
PHASE2: dict[str, tuple[str | None, dict]] = {
    "1.A": (None, {}),
    "1.B": (None, {}),
    "2.A": ("mean", {"support": 5, "dimensions": 2}),
    "2.B": ("mean", {"support": 5}),
    "3.A": ("log", {"sigma": 1.5, "truncate": 4.0, "dimensions": 2}),
    "3.B": ("log", {"sigma": 1.5, "truncate": 4.0}),
    "4.A": (
        "laws",
        {
            "kernel": "L5E5",
            "dimensions": 2,
            "rotation_invariance": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "4.B": (
        "laws",
        {
            "kernel": "L5E5E5",
            "rotation_invariance": True,
            "pooling": "max",
            "energy_distance": 7,
        },
    ),
    "5.A": (
        "gabor",
        {
            "sigma": 5.0,
            "wavelength": 2.0,
            "gamma": 1.5,
            "rotation_invariance": True,
            "theta_step": 22.5,
            "pooling": "mean",
        },
    ),
    "5.B": (
        "gabor",
        {
            "sigma": 5.0,
            "wavelength": 2.0,
            "gamma": 1.5,
            "rotation_invariance": True,
            "theta_step": 22.5,
            "pooling": "mean",
            "orthogonal_planes": True,
        },
    ),
    "6.A": (
        "wavelet",
        {
            "wavelet": "db3",
            "subband": "LH",
            "level": 1,
            "dimensions": 2,
            "rotation_invariance": True,
        },
    ),
    "6.B": (
        "wavelet",
        {"wavelet": "db3", "subband": "LLH", "level": 1, "rotation_invariance": True},
    ),
    "7.A": (
        "wavelet",
        {
            "wavelet": "db3",
            "subband": "HH",
            "level": 2,
            "dimensions": 2,
            "rotation_invariance": True,
        },
    ),
    "7.B": (
        "wavelet",
        {"wavelet": "db3", "subband": "HHH", "level": 2, "rotation_invariance": True},
    ),
    "8.A": ("simoncelli", {"level": 1, "dimensions": 2, "boundary": "periodic"}),
    "8.B": ("simoncelli", {"level": 1, "boundary": "periodic"}),
    "9.A": ("simoncelli", {"level": 2, "dimensions": 2, "boundary": "periodic"}),
    "9.B": ("simoncelli", {"level": 2, "boundary": "periodic"}),
}
PHASE2_BOUNDARY = "mirror"
PHASE2_RANGE = (-1000.0, 400.0)


def _read(path: Path) -> tuple[np.ndarray, sitk.Image]:
    img = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(img).astype(np.float64), img


def phantom(name: str) -> tuple[np.ndarray, sitk.Image]:
    return _read(
        DATA / "ibsi2_digital_phantoms" / "nifti" / name / "image" / f"{name}.nii.gz"
    )


def reference_map(test_id: str) -> tuple[np.ndarray, sitk.Image]:
    return _read(DATA / "ibsi2_reference_response_maps" / f"{test_id}-ValidCRM.nii.gz")


def response_map(test_id: str) -> np.ndarray:
    name, filt, params = PHASE1[test_id]
    image, img = phantom(name)
    spacing = img.GetSpacing()[::-1]
    return ImageFilter(filt, params)(image, spacing)


def run_phase1(out_dir) -> list[dict]:
    """Write every phase-1 response map and return one conformance row per test."""
    out = Path(out_dir) / "ibsi2_phase1"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for test_id in sorted(PHASE1, key=_sort_key):
        ref, ref_img = reference_map(test_id)
        t0 = time.perf_counter()
        ours = response_map(test_id)
        seconds = time.perf_counter() - t0
        written = sitk.GetImageFromArray(ours.astype(np.float32))
        written.CopyInformation(ref_img)
        sitk.WriteImage(written, str(out / f"{test_id}.nii.gz"))
        span = float(ref.max() - ref.min())
        diff = float(np.max(np.abs(ours - ref)))
        rel = diff / span if span > 0 else diff
        rows.append(
            {
                "phase": "IBSI-2 phase 1",
                "test": test_id,
                "filter": _label(test_id),
                "max_abs_diff": diff,
                "range": span,
                "relative": rel,
                "passed": rel <= 0.01,
                "seconds": seconds,
            }
        )
    return rows


def reference_values():
    """The phase-2 reference table: filter_id, feature_tag -> (value, tolerance)."""
    import pandas as pd

    ref = pd.read_csv(DATA / "ibsi2_reference_values" / "reference_values.csv", sep=";")
    return {
        (r.filter_id, r.feature_tag): (float(r.consensus_value), float(r.tolerance))
        for r in ref.itertuples()
    }


def _ct_phantom():
    root = DATA / "ibsi1_ct_radiomics_phantom" / "nifti"
    image = sitk.ReadImage(str(root / "image" / "phantom.nii.gz"))
    mask = sitk.ReadImage(str(root / "mask" / "mask.nii.gz"))
    return image, mask


_PREPROCESSED: dict = {}


def phase2_features(filter_id: str) -> dict:
    """Intensity statistics of the CT phantom for one phase-2 configuration.

    The image and mask go through the IBSI engine's processing chain
    (:func:`radsarc.features.ibsi.preprocess`): for "B" configurations 1 mm
    isotropic tricubic interpolation (mask: linear, partial-volume threshold 0.5),
    rounding to integers (CT); re-segmentation of the intensity mask to
    [-1000, 400] HU. The filter acts on the whole processed image (boundary:
    mirror; only the ROI's box plus the filter's reach is computed); the
    statistics (:func:`radsarc.features.ibsi.intensity_statistics`) are those of
    the response in the re-segmented mask.
    """
    from radsarc.features.ibsi import IBSIConfig, intensity_statistics, preprocess

    three_d = filter_id.endswith("B")
    key = three_d
    if key not in _PREPROCESSED:
        image, mask = _ct_phantom()
        config = IBSIConfig(
            spacing=(1.0, 1.0, 1.0) if three_d else None,
            interpolation="cubic",
            round_intensities=True,
            resegment_range=PHASE2_RANGE,
        )
        _PREPROCESSED[key] = preprocess(image, mask, config, crop=False)
    pre = _PREPROCESSED[key]
    name, params = PHASE2[filter_id]
    if name is None:
        response = pre.image
    else:
        f = ImageFilter(name, {"boundary": PHASE2_BOUNDARY, **params})
        response = f.apply(pre.image, pre.spacing, pre.int_mask)
    return intensity_statistics(response[pre.int_mask])


def run_phase2(out_dir) -> list[dict]:
    """Write ``ibsi2_phase2.csv`` and return one conformance row per feature."""
    import pandas as pd

    reference = reference_values()
    rows, written = [], []
    for filter_id in PHASE2:
        t0 = time.perf_counter()
        values = phase2_features(filter_id)
        seconds = time.perf_counter() - t0
        for tag, value in values.items():
            written.append({"filter_id": filter_id, "feature_tag": tag, "value": value})
            if (filter_id, tag) not in reference:
                continue
            ref, tol = reference[(filter_id, tag)]
            if not (np.isfinite(ref) and np.isfinite(tol)):
                continue  # no consensus value (8.B quartile coefficient)
            rows.append(
                {
                    "phase": "IBSI-2 phase 2",
                    "test": filter_id,
                    "feature": tag,
                    "value": value,
                    "reference": ref,
                    "tolerance": tol,
                    "passed": abs(value - ref) <= tol,
                    "seconds": seconds,
                }
            )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(written).to_csv(out / "ibsi2_phase2.csv", index=False)
    return rows


def _label(test_id: str) -> str:
    _, name, params = PHASE1[test_id]
    return f"riesz-{name}" if params.get("riesz_order") else name


def _sort_key(test_id: str):
    return [int(p) if p.isdigit() else p for p in test_id.split("_")]


def run(data=None, out=".") -> list[tuple[str, int, int]]:
    """Both phases, for ``benchmarks/ibsi.py``: writes the maps and the CSV.

    Prints the per-test detail and returns ``(label, n within tolerance, n with
    a reference)`` rows: phase 1 per filter (maps within 1 % of the range),
    phase 2 per configuration (values within tolerance).
    """
    global DATA
    if data is not None:
        DATA = Path(data)
    out_rows: list[tuple[str, int, int]] = []
    phase1 = run_phase1(out)
    print("IBSI-2 phase 1: max |ours - reference| / reference range (pass <= 1 %)")
    for r in phase1:
        print(
            f"  {r['test']:7s} {r['filter']:10s} {r['relative'] * 100:7.3f} % "
            f"{'pass' if r['passed'] else 'FAIL'}"
        )
    for name in dict.fromkeys(r["filter"] for r in phase1):
        rs = [r for r in phase1 if r["filter"] == name]
        out_rows.append((f"P1 {name}", sum(r["passed"] for r in rs), len(rs)))
    phase2 = run_phase2(out)
    for fid in PHASE2:
        rs = [r for r in phase2 if r["test"] == fid]
        for r in rs:
            if not r["passed"]:
                print(
                    f"  phase 2 {fid} {r['feature']}: {r['value']:.4g} vs "
                    f"{r['reference']:.4g} +- {r['tolerance']:.2g}"
                )
        out_rows.append((f"P2 {fid}", sum(r["passed"] for r in rs), len(rs)))
    return out_rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--phase", choices=("1", "2", "both"), default="both")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    global DATA
    if args.data is not None:
        DATA = args.data
    if args.only:
        for k in list(PHASE1):
            if k not in args.only:
                del PHASE1[k]
    print("load", os.getloadavg())
    if args.phase in ("1", "both"):
        rows = run_phase1(args.out)
        for r in rows:
            print(
                f"{r['test']:7s} {r['filter']:10s} {r['relative'] * 100:8.3f} % "
                f"{'PASS' if r['passed'] else 'FAIL'} {r['seconds']:.2f}s"
            )
        print(f"phase 1: {sum(r['passed'] for r in rows)}/{len(rows)} maps within 1 %")
    if args.phase in ("2", "both"):
        rows = run_phase2(args.out)
        by_id: dict = {}
        for r in rows:
            by_id.setdefault(r["test"], []).append(r)
        for fid, rs in by_id.items():
            bad = [
                f"{r['feature']}={r['value']:.4g} (ref {r['reference']:.4g}"
                f"+-{r['tolerance']:.2g})"
                for r in rs
                if not r["passed"]
            ]
            print(
                f"{fid:4s} {sum(r['passed'] for r in rs):2d}/{len(rs)} "
                f"{rs[0]['seconds']:6.1f}s {'; '.join(bad)}"
            )
        print(f"phase 2: {sum(r['passed'] for r in rows)}/{len(rows)} within tolerance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
