"""Extraction speed and memory: radsarc against plain pyradiomics, side by side.

Builds synthetic sarcoma-sized cases (an irregular ellipsoid ROI of ~480k voxels
in a 60x320x320 volume at 0.8x0.8x3 mm, and an ~11k-voxel one), then

* reports radsarc's C texture kernels: the first use (compiling them into an
  empty cache) and the load in a later process; then fills the user's kernel
  cache if it is empty (what the first radsarc run after installing does once),
  so that the timed runs below all load the compiled kernels;
* times whole processes, start-up included, on the large case: a fresh
  ``python`` running pyradiomics against ``python -m radsarc extract ... --n-jobs
  2`` (each feature set; values compared through the written CSVs);

and for each case and feature set:

* times plain pyradiomics (``RadiomicsFeatureExtractor(params).execute(image,
  mask)``) and radsarc (``extract_features`` on a one-case cohort, one process),
  interleaved in the same run, best of ``--repeat``;
* compares every feature value (largest relative difference; the maximum
  diameters must be exactly equal);
* measures peak memory of each in a fresh subprocess (``ru_maxrss``);

and finally times a cohort: a plain pyradiomics loop against radsarc with
``n_jobs=2``.

Usage::

    python benchmarks/extraction_speed.py [--repeat 3] [--quick] [--whole-process-only]
        [--other-cases]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

CONFIGS = {
    "original (107)": {},
    "LoG+wavelet (1130)": {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0, 3.0]}, "Wavelet": {}}
    },
}


def make_case(
    folder: Path,
    name: str,
    radii,
    seed: int,
    shape=(60, 320, 320),
    spacing=(0.8, 0.8, 3.0),
    dtype=np.int16,
    suffix=".nrrd",
):
    """Irregular ellipsoid ROI with a textured image; returns (image, mask, n).

    ``spacing`` is (x, y, z) in mm; the image is written as ``dtype`` to a
    compressed ``suffix`` file (``.nrrd``, ``.nii.gz``).
    """
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    centre = [s / 2 + rng.uniform(-2, 2) for s in shape]
    dz, dy, dx = (
        (z - centre[0]) / radii[0],
        (y - centre[1]) / radii[1],
        (x - centre[2]) / radii[2],
    )
    r = np.sqrt(dz**2 + dy**2 + dx**2)
    theta = np.arctan2(dy, dx)
    phi = np.arctan2(dz, np.sqrt(dx**2 + dy**2))
    bumps = (
        1
        + 0.12 * np.sin(3 * theta + seed) * np.cos(2 * phi)
        + 0.08 * np.cos(5 * theta + 0.3 * seed)
    )
    mask = (r < bumps).astype(np.uint8)
    noise = ndimage.gaussian_filter(rng.normal(size=shape), (0.7, 2, 2))
    image = (
        400.0
        + 150.0 * mask
        + 300 * noise / noise.std()
        + rng.normal(scale=20, size=shape)
    ).astype(dtype)
    paths = []
    for array, kind in ((image, "image"), (mask, "mask")):
        img = sitk.GetImageFromArray(array)
        img.SetSpacing(tuple(float(v) for v in spacing))
        img.SetOrigin((-128.0, -128.0, -90.0))
        path = folder / f"{name}_{kind}{suffix}"
        sitk.WriteImage(img, str(path), True)
        paths.append(str(path))
    return paths[0], paths[1], int(mask.sum())


def run_pyradiomics(image, mask, params):
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    result = RadiomicsFeatureExtractor(params).execute(image, mask)
    return {k: float(v) for k, v in result.items() if not k.startswith("diagnostics")}


def _cohort(rows):
    from radsarc.images import Cohort

    return Cohort.from_frame(pd.DataFrame(rows, columns=["case_id", "image", "mask"]))


def run_radsarc(image, mask, params, n_jobs=1):
    from radsarc.features import extract_features

    table = extract_features(_cohort([("case", image, mask)]), params, n_jobs=n_jobs)
    return table.iloc[0].to_dict()


def compare(ref: dict, got: dict) -> tuple[float, bool, int]:
    """(largest relative difference, diameters exactly equal, n features)."""
    assert set(ref) == set(got), set(ref) ^ set(got)
    worst, diameters_equal = 0.0, True
    for name, value in ref.items():
        other = got[name]
        if "Diameter" in name and value != other:
            diameters_equal = False
        if value != other:
            worst = max(worst, abs(value - other) / max(abs(value), 1e-300))
    return worst, diameters_equal, len(ref)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux VmHWM, else ru_maxrss).

    VmHWM starts afresh at exec; ru_maxrss would include the parent's memory at
    fork time on Linux.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(engine: str, image: str, mask: str, config: str) -> float:
    """Peak RSS (MB) of one extraction in a fresh Python process."""
    folder = str(Path(__file__).parent)
    code = (
        f"import json, sys; sys.path.insert(0, {folder!r}); "
        "import extraction_speed as b; "
        f"f = b.run_{engine}({image!r}, {mask!r}, b.CONFIGS[{config!r}]); "
        "print(json.dumps(b._peak_rss_mb()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


_PYRADIOMICS_SCRIPT = """
import csv, logging, sys
import radiomics
from radiomics.featureextractor import RadiomicsFeatureExtractor
radiomics.setVerbosity(logging.ERROR)
image, mask, params, out = sys.argv[1:5]
result = RadiomicsFeatureExtractor(params).execute(image, mask)
row = {k: float(v) for k, v in result.items() if not k.startswith("diagnostics")}
with open(out, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(row)
    writer.writerow([repr(v) for v in row.values()])
"""


def whole_process(folder: Path, image: str, mask: str, config: str, n_jobs: int):
    """Wall time of one fresh process each, start-up included.

    pyradiomics: ``python -c <script>`` (import, extract one case, write a CSV);
    radsarc: ``python -m radsarc extract MANIFEST --params P --out F --n-jobs N
    --no-cache -q``. Returns (pyradiomics s, radsarc s, max rel diff).
    """
    import yaml

    params = folder / f"{abs(hash(config))}.yaml"
    params.write_text(yaml.safe_dump(CONFIGS[config]))
    manifest = folder / "whole.csv"
    manifest.write_text(f"case_id,image,mask\ncase,{image},{mask}\n")
    ref_csv, got_csv = folder / "ref.csv", folder / "got.csv"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            _PYRADIOMICS_SCRIPT,
            image,
            mask,
            str(params),
            str(ref_csv),
        ],
        check=True,
    )
    t_py = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "radsarc",
            "extract",
            str(manifest),
            "--params",
            str(params),
            "--out",
            str(got_csv),
            "--n-jobs",
            str(n_jobs),
            "--no-cache",
            "-q",
        ],
        check=True,
        capture_output=True,
    )
    t_rs = time.perf_counter() - start
    ref = pd.read_csv(ref_csv).iloc[0].to_dict()
    got = pd.read_csv(got_csv, index_col=0).iloc[0]
    got = {k: float(got[k]) for k in ref}
    return t_py, t_rs, compare(ref, got)[0]


def other_cases(folder: Path, repeat: int) -> str:
    """Whole-process original features of two other sarcoma-sized cases."""
    cases = {
        "float32 .nii.gz, 1 mm isotropic": make_case(
            folder,
            "iso",
            (38, 62, 52),
            seed=2,
            shape=(120, 200, 200),
            spacing=(1.0, 1.0, 1.0),
            dtype=np.float32,
            suffix=".nii.gz",
        ),
        "int16 .nrrd, 0.5 x 0.5 x 4 mm": make_case(
            folder,
            "thin",
            (14, 100, 90),
            seed=3,
            shape=(44, 384, 384),
            spacing=(0.5, 0.5, 4.0),
        ),
    }
    rows = []
    for name, (image, mask, n_vox) in cases.items():
        times = [
            whole_process(folder, image, mask, "original (107)", n_jobs=2)
            for _ in range(repeat)
        ]
        t_py = min(t[0] for t in times)
        t_rs = min(t[1] for t in times)
        rows.append(
            {
                "case": f"{name} ({n_vox} vox)",
                "pyradiomics s": t_py,
                "radsarc -j2 s": t_rs,
                "speed-up": t_py / t_rs,
                "max rel diff": max(t[2] for t in times),
            }
        )
    table = pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}")
    return (
        f"Whole process, original features, other cases, best of {repeat}; "
        f"load average {os.getloadavg()[0]:.2f}:\n{table}"
    )


def warm_kernel_cache() -> str:
    """Load radsarc's C texture kernels from the user's cache, compiling them
    there first if needed; says which."""
    code = (
        "from radsarc.features import _matrices, _native\n"
        "_matrices.warm_up()\n"
        "print(_matrices.backend(), _native.COMPILATIONS)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    backend, compiled = done.stdout.split()
    if backend != "c":
        return f"user kernel cache: {backend} kernels (no working C compiler)"
    return (
        "user kernel cache: compiled now (first radsarc run after installing)"
        if int(compiled)
        else "user kernel cache: already compiled"
    )


def kernel_report(folder: Path) -> str:
    """radsarc's C texture kernels in fresh processes: first use, then load.

    The first process compiles ``radsarc/features/_matrices.c`` into an empty
    kernel cache (``RADSARC_KERNEL_DIR``); the next one loads the cached library.
    Timed inside the processes, after the imports (numpy, radsarc's modules).
    """
    code = (
        "import time\n"
        "from radsarc.features import _matrices, _native\n"
        "t = time.perf_counter()\n"
        "_matrices.warm_up()\n"
        "print(_matrices.backend(), time.perf_counter() - t, _native.COMPILATIONS)\n"
    )
    env = {**os.environ, "RADSARC_KERNEL_DIR": str(folder / "kernels")}
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        backend, seconds, compiled = done.stdout.split()
        runs.append((backend, float(seconds), int(compiled)))
    (backend, first, compiled), (_, later, _) = runs
    if backend != "c":
        return f"texture kernels: {backend} (no working C compiler)"
    return (
        f"C texture kernels: first use {first:.2f} s ({compiled} compilation), "
        f"a later process loads them in {later * 1e3:.1f} ms"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument("--quick", action="store_true", help="original features only")
    parser.add_argument("--cohort", type=int, default=6, help="cases in the cohort")
    parser.add_argument(
        "--other-cases",
        action="store_true",
        help="also time the original features of two other large cases, whole "
        "process: a float32 .nii.gz image at 1 mm isotropic and an int16 "
        "0.5 x 0.5 x 4 mm one (~500k voxels each)",
    )
    parser.add_argument(
        "--whole-process-only",
        action="store_true",
        help="only the whole-process timings (large ROI, both feature sets)",
    )
    args = parser.parse_args(argv)
    configs = dict(list(CONFIGS.items())[:1]) if args.quick else CONFIGS

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = {
            "large": make_case(folder, "large", (19.5, 78, 73), seed=0),
            "small": make_case(folder, "small", (5, 26, 24), seed=1),
        }
        print(kernel_report(folder), flush=True)
        # The timed radsarc runs below use the user's kernel cache: compile
        # it now if it is empty (what the first radsarc run after installing
        # does once), so that no timed run includes that one-off step.
        print(warm_kernel_cache(), flush=True)
        # Whole process, start-up included: one fresh process each, the large
        # ROI, radsarc with --n-jobs 2 (the one case's feature classes and
        # filtered images are spread over two processes: docs/speed.md).
        rows = []
        load_before = os.getloadavg()[0]
        for config in configs:
            times = [
                whole_process(folder, *cases["large"][:2], config, n_jobs=2)
                for _ in range(args.repeat)
            ]
            t_py = min(t[0] for t in times)
            t_rs = min(t[1] for t in times)
            rows.append(
                {
                    "features": config,
                    "pyradiomics s": t_py,
                    "radsarc -j2 s": t_rs,
                    "speed-up": t_py / t_rs,
                    "max rel diff": max(t[2] for t in times),
                }
            )
        print(
            f"Whole process, large ROI ({cases['large'][2]} vox), best of "
            f"{args.repeat}; load average {os.getloadavg()[0]:.2f} "
            f"(at the start {load_before:.2f}):"
        )
        print(
            pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}")
        )
        if args.other_cases:
            print(other_cases(folder, args.repeat), flush=True)
        if args.whole_process_only:
            return
        # Warm both engines (imports, pyradiomics' class discovery).
        run_pyradiomics(*cases["small"][:2], {"featureClass": {"firstorder": None}})
        run_radsarc(*cases["small"][:2], {"featureClass": {"firstorder": None}})
        rows = []
        for case, (image, mask, n_vox) in cases.items():
            for config, params in configs.items():
                t_py, t_rs = [], []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    ref = run_pyradiomics(image, mask, params)
                    t_py.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    got = run_radsarc(image, mask, params)
                    t_rs.append(time.perf_counter() - start)
                worst, diam_ok, n_feat = compare(ref, got)
                mem_py = peak_memory("pyradiomics", image, mask, config)
                mem_rs = peak_memory("radsarc", image, mask, config)
                rows.append(
                    {
                        "case": f"{case} ({n_vox} vox)",
                        "features": config,
                        "pyradiomics s": min(t_py),
                        "radsarc s": min(t_rs),
                        "speed-up": min(t_py) / min(t_rs),
                        "max rel diff": worst,
                        "diameters equal": diam_ok,
                        "n": n_feat,
                        "pyradiomics MB": mem_py,
                        "radsarc MB": mem_rs,
                    }
                )
                print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
        table = pd.DataFrame(rows)
        print(f"\nPer case, one process (best of {args.repeat}):")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

        # Cohort: plain pyradiomics loop vs radsarc on 2 cores.
        cohort_cases = []
        for k in range(args.cohort):
            radii = (19.5, 78, 73) if k % 2 == 0 else (12, 50, 46)
            cohort_cases.append(make_case(folder, f"c{k}", radii, seed=10 + k)[:2])
        params = {}
        start = time.perf_counter()
        loop = {}
        for k, (image, mask) in enumerate(cohort_cases):
            loop[f"c{k}"] = run_pyradiomics(image, mask, params)
        t_loop = time.perf_counter() - start
        from radsarc.features import extract_features

        cohort = _cohort([(f"c{k}", i, m) for k, (i, m) in enumerate(cohort_cases)])
        start = time.perf_counter()
        table = extract_features(cohort, params, n_jobs=2)
        t_rs = time.perf_counter() - start
        worst = max(compare(loop[c], table.loc[c].to_dict())[0] for c in loop)
        print(
            f"\nCohort of {len(cohort_cases)} cases, original features: pyradiomics "
            f"loop {t_loop:.1f} s, radsarc n_jobs=2 {t_rs:.1f} s, speed-up "
            f"{t_loop / t_rs:.1f}x (max rel diff {worst:.1e})"
        )


if __name__ == "__main__":
    main()
