"""ExtractionResult's pandas-free CSV writers write pandas' text, byte for byte.

``radsarc extract`` writes its tables without importing pandas (start-up of a
one-case run); the files must stay exactly what ``to_frame().to_csv(path,
float_format="%.17g")``, ``diagnostics.to_csv(path)`` and
``errors.to_csv(path, index=False)`` wrote before.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from radsarc.features._extract import ExtractionResult, _Rows
from radsarc.images import Cohort
from radsarc.images._cohort import Case, _typed


def _cohort(rng, n=7):
    cases = []
    for k in range(n):
        covariates = {
            "age": int(rng.integers(20, 90)),
            "weight": float(rng.normal(70, 10)) if k != 3 else None,
            "ratio": [0.1, 1.0, 2.5, 1e-20, 3.0, 1 / 3, 7.0][k],
            "whole_or_missing": None if k == 5 else 2 * k,
            "sex": ["f", "m", None, "f", "m", "f", "x,y"][k],
            "mixed": [1, "a", 2.5, None, "b", 3, "c"][k],
            "flag": bool(k % 2),
            "empty": None,
            "quoted": 'say "hi"' if k == 0 else "line\nbreak" if k == 1 else "",
        }
        cases.append(
            Case(
                case_id=f"case{k:02d}" if k != 4 else "NA",
                images={"": f"/x/{k}.nii.gz"},
                masks={"": f"/x/{k}_mask.nii.gz"},
                label=[0, 1, None, 1, 0, 1, 0][k],
                group=None,
                covariates=covariates,
            )
        )
    return Cohort(cases)


def _rows(cohort, rng, failed=(2, 5)):
    index, features, diagnostics, errors = [], [], [], []
    names = ["original_firstorder_Mean", "original_shape_Sphericity", "b_only"]
    for k, case in enumerate(cohort):
        if k in failed:
            errors.append(
                {
                    "case_id": case.case_id,
                    "sequence": "",
                    "stage": "read",
                    "file": f"/x/{k}.nii.gz",
                    "message": f'cannot read, line {k}: "bad", expected a NIfTI',
                }
            )
            continue
        index.append(case.case_id)
        values = {
            names[0]: float(rng.normal()) * 10 ** int(rng.integers(-30, 30)),
            names[1]: [math.nan, 1.0, 0.5, np.float64(2.0) / 3, math.inf, -0.0, 1e300][
                k
            ],
        }
        if k % 3 == 0:
            values[names[2]] = float(k)
        features.append(values)
        diagnostics.append(
            {
                "diagnostics_Versions_PyRadiomics": "3.1.4",
                "diagnostics_Image-original_Spacing": "(0.8, 0.8, 3.0)",
                "diagnostics_Mask-original_VoxelNum": 1000 + k,
                "diagnostics_Image-original_Mean": float(rng.normal()) / 3,
                "diagnostics_Flag": bool(k % 2),
                "diagnostics_Missing": None,
            }
        )
    return _Rows(cohort, index, features, diagnostics, errors)


@pytest.mark.parametrize("seed", range(4))
def test_writers_write_pandas_text(tmp_path, seed):
    rng = np.random.default_rng(seed)
    cohort = _cohort(rng)
    rows = _rows(cohort, rng)
    light = ExtractionResult._from_rows(rows, n_computed=5, n_failed=2)
    light.write_csv(tmp_path / "light.csv")
    light.write_diagnostics_csv(tmp_path / "light.diag.csv")
    light.write_errors_csv(tmp_path / "light.err.csv")
    assert light._frames["features"] is None  # no table was built

    heavy = ExtractionResult._from_rows(rows, n_computed=5, n_failed=2)
    heavy.to_frame().to_csv(tmp_path / "pandas.csv", float_format="%.17g")
    heavy.diagnostics.to_csv(tmp_path / "pandas.diag.csv")
    heavy.errors.to_csv(tmp_path / "pandas.err.csv", index=False)
    for light_name, pandas_name in (
        ("light.csv", "pandas.csv"),
        ("light.diag.csv", "pandas.diag.csv"),
        ("light.err.csv", "pandas.err.csv"),
    ):
        assert (tmp_path / light_name).read_bytes() == (
            tmp_path / pandas_name
        ).read_bytes(), light_name
    # the features read back exactly, the failed cases are not rows
    back = pd.read_csv(tmp_path / "light.csv", index_col=0)
    assert list(back.index) == ["case00", "case01", "case03", "NA", "case06"] or (
        # pandas reads the case id "NA" as missing unless told otherwise
        back.index[3] != back.index[3]
    )
    np.testing.assert_array_equal(
        back["original_firstorder_Mean"].to_numpy(),
        [f["original_firstorder_Mean"] for f in rows.features],
    )
    # with the frames read first, the writers go through pandas: same text
    heavy.write_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (
        tmp_path / "light.csv"
    ).read_bytes()


def test_light_accessors_equal_the_frames():
    rng = np.random.default_rng(9)
    cohort = _cohort(rng)
    rows = _rows(cohort, rng)
    light = ExtractionResult._from_rows(rows)
    names = light.feature_names, light.clinical_names, light.case_ids
    records = light.error_records
    assert light._frames["features"] is None  # nothing built yet
    assert names[0] == list(light.features.columns)
    assert names[1] == list(light.clinical.columns)
    assert names[2] == list(light.features.index)
    assert records == light.errors.to_dict("records")
    # all-missing label/group columns are dropped, the rest kept in order
    assert names[1][0] == "label"
    assert "group" not in names[1]


def test_a_manifest_column_named_like_a_feature_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    cohort = Cohort(
        [
            Case("a", {"": "/a"}, {"": "/m"}, covariates={"b_only": 1}),
            Case("b", {"": "/b"}, {"": "/m"}, covariates={"b_only": 2}),
        ]
    )
    rows = _Rows(cohort, ["a", "b"], [{"b_only": 1.0}, {"b_only": 2.0}], [{}, {}], [])
    with pytest.raises(ValueError, match=r"\['b_only'\] have the name of feature"):
        ExtractionResult._from_rows(rows).write_csv(tmp_path / "x.csv")
    del rng


def _typed_with_pandas(values):
    """The typing of manifest text columns as it was done with pandas."""
    text = pd.Series(values, dtype=object).map(
        lambda v: v.strip() if isinstance(v, str) else v
    )
    na = {"", "NA", "N/A", "NaN", "nan", "null", "None", "<NA>"}
    missing = text.map(lambda v: v is None or (isinstance(v, str) and v in na))
    present = text[~missing]
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all():
        as_int = numbers.astype(float).map(float.is_integer).all()
        values = numbers.astype(int) if as_int else numbers.astype(float)
        out = pd.Series([None] * len(text), dtype=object)
        out[~missing.to_numpy()] = values.astype(object).to_numpy()
        return [
            None if v is None else v.item() if hasattr(v, "item") else v for v in out
        ]
    return [None if m else v for v, m in zip(text, missing, strict=True)]


@pytest.mark.parametrize(
    "column",
    [
        ["1", "2", " 3 "],
        ["1", "2.5", ""],
        ["1.0", "2", "NA"],
        ["1e3", "-2", "+4"],
        [".5", "5.", "inf"],
        ["-inf", "1", "nan"],
        ["1_000", "2", "3"],
        ["0x10", "1", "2"],
        ["a", "1", "2"],
        ["", "NA", "None"],
        ["yes", "no", ""],
        ["1.5e-3", "2E+2", "3"],
    ],
)
def test_manifest_typing_matches_pandas_to_numeric(column):
    got, want = _typed(column), _typed_with_pandas(column)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert got == want


def test_extract_imports_no_pandas_for_one_case(tmp_path):
    """The CLI's one-case extraction runs without importing pandas."""
    import SimpleITK as sitk

    arr = np.random.default_rng(0).normal(100, 20, (8, 16, 16)).astype(np.float32)
    mask = np.zeros(arr.shape, np.uint8)
    mask[2:6, 4:12, 4:12] = 1
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(tmp_path / "img.nrrd"))
    sitk.WriteImage(sitk.GetImageFromArray(mask), str(tmp_path / "mask.nrrd"))
    (tmp_path / "m.csv").write_text(
        "case_id,image,mask,age\nc1,img.nrrd,mask.nrrd,61\n"
    )
    script = (
        "import sys\n"
        "from radsarc.cli import main\n"
        "try:\n"
        "    main(['extract', sys.argv[1], '--out', sys.argv[2], '--no-cache', '-q'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "m.csv"),
            str(tmp_path / "f.csv"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr
    table = pd.read_csv(tmp_path / "f.csv", index_col=0)
    assert table.loc["c1", "age"] == 61
    assert table.shape == (1, 1 + 107)
