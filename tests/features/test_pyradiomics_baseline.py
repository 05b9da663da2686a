"""radsarc extraction reproduces pyradiomics' own regression baselines.

Tolerances: every non-shape feature within 1e-6 relative (measured: < 1e-12);
shape features within pyradiomics' own test tolerance of 3 % relative
(tests/testUtils.py upstream; brain1's mesh-based shape values moved by < 0.1 %
since the 2018 baseline when pyradiomics changed its marching-cubes code).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from radsarc.cli import main
from radsarc.features import extract_features
from radsarc.images import Cohort
from tests.conftest import PYRADIOMICS_DATA, SHARED_DATA

CLASSES = ["firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm", "shape"]
NON_SHAPE_RTOL = 1e-6
SHAPE_RTOL = 0.03


def _case_files(case: str):
    local = PYRADIOMICS_DATA / f"{case}_image.nrrd"
    if local.exists():
        return local, PYRADIOMICS_DATA / f"{case}_label.nrrd"
    shared = SHARED_DATA / "pyradiomics-testcases"
    if not (shared / f"{case}_image.nrrd").exists():
        pytest.skip(f"{case} is only in ../shared/data (not present here)")
    return shared / f"{case}_image.nrrd", shared / f"{case}_label.nrrd"


def _baseline(cls: str) -> pd.DataFrame:
    return pd.read_csv(
        PYRADIOMICS_DATA / "baseline" / f"baseline_{cls}.csv", index_col=0
    )


def _compare(values: pd.Series, column: str, classes) -> int:
    """Assert every baseline feature of ``column``; return how many were checked."""
    checked = 0
    for cls in classes:
        base = _baseline(cls)
        rtol = SHAPE_RTOL if cls == "shape" else NON_SHAPE_RTOL
        for name in base.index:
            if not name.startswith("original_"):
                continue
            expected = float(base.loc[name, column])
            got = float(values[name])
            if expected == 0:
                assert got == 0, f"{column} {name}: expected 0, got {got}"
            else:
                assert abs(got - expected) <= rtol * abs(expected), (
                    f"{column} {name}: {got!r} vs baseline {expected!r} (rtol {rtol})"
                )
            checked += 1
    return checked


def test_default_configuration_through_cli(tmp_path):
    """`radsarc extract` with the baseline parameter file reproduces the baseline."""
    cases = ["brain1", "breast1", "lung1"]
    rows = []
    for case in cases:
        try:
            image, mask = _case_files(case)
        except pytest.skip.Exception:
            continue
        rows.append({"case_id": case, "image": str(image), "mask": str(mask)})
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(
        main,
        [
            "extract",
            str(manifest),
            "--params",
            str(PYRADIOMICS_DATA / "params" / "baseline_default.yaml"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"extracted: {len(rows)} computed, 0 from cache, 0 failed"
    )
    table = pd.read_csv(out, index_col="case_id")
    assert list(table.index) == [r["case_id"] for r in rows]
    # 107 features: 18 firstorder, 24 glcm, 14 gldm, 16 glrlm, 16 glszm,
    # 5 ngtdm, 14 shape.
    assert table.shape[1] == 107
    assert not any(c.startswith("diagnostics_") for c in table.columns)
    for case in table.index:
        assert _compare(table.loc[case], case, CLASSES) == 107


def _configurations():
    spec = json.loads(
        (PYRADIOMICS_DATA / "params" / "baseline_configurations.json").read_text(
            encoding="utf-8"
        )
    )["configurations"]
    params = []
    for name, entries in spec.items():
        if name in ("default", "shape2D"):
            # default: covered through the CLI above. shape2D: the upstream baseline
            # was computed on a single-slice crop made by its test harness, not on
            # these 3-D masks, so there is nothing to compare it with here.
            continue
        for entry in entries:
            classes = sorted(
                {
                    c.split(":")[0][len("baseline_") : -len(".csv")]
                    for c in entry["columns"]
                }
            )
            for column in sorted({c.split(":")[1] for c in entry["columns"]}):
                if column.split("_")[0] in ("brain1", "breast1"):
                    params.append(pytest.param(entry, classes, column, id=column))
    return params


@pytest.mark.parametrize("matrices", ["pyradiomics", "compiled"])
@pytest.mark.parametrize(("entry", "classes", "column"), _configurations())
def test_other_configurations(entry, classes, column, matrices, monkeypatch):
    """FBN, 2-D, normalisation, resampling, resegmentation, weighting, flat region.

    With pyradiomics' C texture matrices and with radsarc's compiled ones
    (:mod:`radsarc.features._matrices`).
    """
    from radsarc.features import _pyradiomics

    calls = []
    if matrices == "compiled":
        from radsarc.features import _matrices

        monkeypatch.setattr(_pyradiomics, "COMPILED_MIN_WORK", 0)
        region = _matrices.Region
        monkeypatch.setattr(
            _matrices, "Region", lambda *a: calls.append(1) or region(*a)
        )
    else:
        monkeypatch.setattr(_pyradiomics, "COMPILED_MIN_WORK", float("inf"))
        monkeypatch.setattr(_pyradiomics, "_matrices_loaded", lambda: False)
    case = column.split("_")[0]
    image, mask = _case_files(case)
    settings = {
        "imageType": entry["enabledImageTypes"],
        "featureClass": dict.fromkeys(classes),
        "setting": {k: v for k, v in entry["settings"].items() if v is not None},
    }
    cohort = Cohort.from_frame(
        pd.DataFrame({"case_id": [case], "image": [str(image)], "mask": [str(mask)]})
    )
    result = extract_features(cohort, settings, return_result=True)
    assert result.errors.empty, result.errors.to_dict("records")
    assert _compare(result.features.loc[case], column, classes) > 0
    assert np.isfinite(result.features.to_numpy()).all()
    if matrices == "compiled" and set(classes) - {"firstorder", "shape"}:
        assert calls, "the compiled matrices were not used"
