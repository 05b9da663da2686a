"""IBSI conformance of radsarc's IBSI engine, and its speed beside pyradiomics.

Writes, under ``--out DIR``:

* ``ibsi1_digital_phantom.csv`` and ``ibsi1_config_<A..E>.csv`` (columns
  ``tag,value``; tags as in the IBSI-1 reference tables): the IBSI engine
  (:mod:`radsarc.features.ibsi`) on the IBSI-1 digital phantom and on the CT
  radiomics phantom with configurations A-E (``PHANTOM_CONFIGS``), including the
  diagnostic values of the tables;
* the IBSI-2 outputs (``ibsi2_phase1/<test id>.nii.gz``, ``ibsi2_phase2.csv``),
  written by ``benchmarks/_ibsi2.py`` when that module is present;

and prints a conformance table (per configuration: values within tolerance / values
with a reference value) and the time of a default IBSI extraction of a ~480k-voxel
ROI beside radsarc's pyradiomics engine, in the same run.

Values are written at the 3 significant digits IBSI reports (integers exactly):
the reference values are given so, and a tolerance of 0 means "equal at 3
significant digits". The table counts a value as conformant when
``|written value - reference| <= tolerance``.

Usage::

    python benchmarks/ibsi.py --out results/ibsi [--data ../shared/data/ibsi]
        [--skip-speed] [--repeat 2]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import SimpleITK as sitk

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from radsarc.features.ibsi import PHANTOM_CONFIGS, compute_features  # noqa: E402

CONFIG_NAMES = ("A", "B", "C", "D", "E")


def default_data() -> Path:
    """``$RADSARC_SHARED_DATA/ibsi``, else the nearest ``shared/data/ibsi`` above."""
    root = os.environ.get("RADSARC_SHARED_DATA")
    if root:
        return Path(root) / "ibsi"
    for parent in HERE.parents:
        if (parent / "shared" / "data" / "ibsi").is_dir():
            return parent / "shared" / "data" / "ibsi"
    return HERE.parents[1] / "shared" / "data" / "ibsi"


def fmt(value: float) -> str:
    """3 significant digits (IBSI's reporting), integers exactly, NaN empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{float(value):.3g}"


def reference(data: Path, name: str) -> pd.DataFrame:
    path = data / "ibsi1_reference_values" / f"ibsi_1_reference_values_{name}.csv"
    return pd.read_csv(path, encoding="utf-8-sig")


def conformance(values: dict[str, str], ref: pd.DataFrame) -> tuple[int, int, list]:
    """(n within tolerance, n with a reference value, failures)."""
    ok, n, failures = 0, 0, []
    for row in ref.itertuples(index=False):
        target = row._4  # "reference value"
        tol = row.tolerance
        if pd.isna(target):
            continue
        n += 1
        got = values.get(row.tag, "")
        good = got != "" and abs(float(got) - target) <= tol + 1e-12 * abs(target)
        ok += good
        if not good:
            failures.append((row.tag, got, target, tol))
    return ok, n, failures


def run_ibsi1(data: Path, out: Path) -> list[tuple[str, int, int, list, float]]:
    rows = []
    cases = [("digital_phantom", data / "ibsi1_digital_phantom" / "nifti")]
    cases += [(c, data / "ibsi1_ct_radiomics_phantom" / "nifti") for c in CONFIG_NAMES]
    loaded: dict[Path, tuple] = {}
    for name, folder in cases:
        if folder not in loaded:
            image = next((folder / "image").glob("*.nii.gz"))
            mask = next((folder / "mask").glob("*.nii.gz"))
            loaded[folder] = (sitk.ReadImage(str(image)), sitk.ReadImage(str(mask)))
        image, mask = loaded[folder]
        start = time.perf_counter()
        values = compute_features(
            image, mask, PHANTOM_CONFIGS[name], crop=False, diagnostics=True
        )
        elapsed = time.perf_counter() - start
        written = {tag: fmt(v) for tag, v in values.items()}
        file = (
            "ibsi1_digital_phantom.csv"
            if name == "digital_phantom"
            else (f"ibsi1_config_{name}.csv")
        )
        pd.DataFrame({"tag": list(written), "value": list(written.values())}).to_csv(
            out / file, index=False
        )
        ref_name = name if name == "digital_phantom" else f"config_{name}"
        ok, n, failures = conformance(written, reference(data, ref_name))
        rows.append((name, ok, n, failures, elapsed))
    return rows


def run_ibsi2(data: Path, out: Path) -> list[tuple[str, int, int]]:
    """IBSI-2 (phase 1 response maps, phase 2 features): ``_ibsi2.run``.

    Contract: ``benchmarks/_ibsi2.py`` defines ``run(data: Path, out: Path) ->
    list[tuple[str, int, int]]`` that writes ``out/ibsi2_phase1/<test id>.nii.gz``
    and ``out/ibsi2_phase2.csv`` and returns conformance rows (label, n within
    tolerance, n with a reference).
    """
    try:
        import _ibsi2
    except ModuleNotFoundError:
        print("IBSI-2: benchmarks/_ibsi2.py is not present; skipped.")
        return []
    return list(_ibsi2.run(data=data, out=out))


def run_speed(repeat: int) -> dict[str, dict[str, float]]:
    """Best-of-``repeat`` CPU and wall seconds of radsarc's pyradiomics engine
    (default settings) and of the IBSI engine (default ``IBSIConfig``) on one
    ~480k-voxel case, interleaved. CPU time (this process) is what an extraction
    costs; wall time on a shared machine also counts the waits for a core."""
    import extraction_speed as es

    with tempfile.TemporaryDirectory() as tmp:
        image, mask, n_voxels = es.make_case(Path(tmp), "large", (19.5, 78, 73), seed=0)
        engines = (("pyradiomics", {}), ("ibsi", {"setting": {"engine": "ibsi"}}))
        for _, params in engines:  # warm up: imports, mesh tables
            es.run_radsarc(image, mask, params)
        best = {name: {"cpu": math.inf, "wall": math.inf} for name, _ in engines}
        for _ in range(repeat):
            for name, params in engines:
                cpu, wall = time.process_time(), time.perf_counter()
                es.run_radsarc(image, mask, params)
                best[name]["cpu"] = min(best[name]["cpu"], time.process_time() - cpu)
                best[name]["wall"] = min(best[name]["wall"], time.perf_counter() - wall)
    best["n_voxels"] = {"cpu": n_voxels, "wall": n_voxels}
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-ibsi2", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="list failures")
    args = parser.parse_args(argv)
    data = args.data or default_data()
    if not (data / "ibsi1_reference_values").is_dir():
        parser.error(f"IBSI reference data not found in {data} (use --data).")
    args.out.mkdir(parents=True, exist_ok=True)

    rows = run_ibsi1(data, args.out)
    print("IBSI-1 conformance (|value - reference| <= tolerance)")
    print(
        f"{'configuration':<18} {'within':>7} {'with ref':>9} {'share':>7} {'time':>7}"
    )
    for name, ok, n, failures, elapsed in rows:
        print(f"{name:<18} {ok:>7} {n:>9} {ok / n:>7.1%} {elapsed:>6.1f}s")
        if args.verbose:
            for tag, got, target, tol in failures:
                print(f"    {tag}: {got} vs {target} +- {tol}")
    if not args.skip_ibsi2:
        extra = run_ibsi2(data, args.out)
        if extra:
            print("IBSI-2 conformance")
            for label, ok, n in extra:
                print(f"{label:<18} {ok:>7} {n:>9} {ok / max(n, 1):>7.1%}")
    if not args.skip_speed:
        best = run_speed(args.repeat)
        py, ib = best["pyradiomics"], best["ibsi"]
        print(
            f"Speed, one {best['n_voxels']['cpu']}-voxel ROI, default features, "
            f"best of {args.repeat}: CPU time pyradiomics engine {py['cpu']:.2f} s, "
            f"IBSI engine {ib['cpu']:.2f} s, ratio IBSI/pyradiomics "
            f"{ib['cpu'] / py['cpu']:.2f}; wall time {py['wall']:.2f} s and "
            f"{ib['wall']:.2f} s, ratio {ib['wall'] / py['wall']:.2f} "
            f"(load {os.getloadavg()[0]:.1f})"
        )
    print(f"Written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
