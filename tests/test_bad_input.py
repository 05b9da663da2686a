"""The bad-input catalogue (docs/bad_input.md), tried through the CLI as a new user.

Every case gives either exit code 0 with the bad case in the errors table (naming
the case, the file and what was expected) and every other case predicted, or exit
code 2 with one ``radsarc: error:`` line naming the problem. Never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import skops.io as sio
import yaml
from click.testing import CliRunner
from sklearn.preprocessing import FunctionTransformer

from radsarc.cli import main

GOOD = ["STS-001", "STS-002", "STS-003"]


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def _rows(cohort, ids):
    """Manifest rows of ``ids`` with absolute paths."""
    manifest = pd.read_csv(cohort.source, dtype=str)
    root = Path(cohort.source).parent
    for col in ("image_T1", "image_T2FS", "mask"):
        manifest[col] = [str(root / p) for p in manifest[col]]
    return manifest.set_index("case_id").loc[ids].reset_index()


def _copy_case(cohort, tmp_path, source="STS-004"):
    """A copy of a training case's files under tmp_path/BAD/; returns its row."""
    src = Path(cohort.source).parent / source
    dst = tmp_path / "BAD"
    shutil.copytree(src, dst)
    row = _rows(cohort, [source]).iloc[0].copy()
    row["case_id"] = "BAD"
    for col in ("image_T1", "image_T2FS", "mask"):
        row[col] = str(dst / Path(row[col]).name)
    return row, dst


def _arr(path):
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def _write_like(array, like_path, path, **geometry):
    image = sitk.GetImageFromArray(array)
    like = sitk.ReadImage(str(like_path))
    image.SetSpacing(geometry.get("spacing", like.GetSpacing()))
    image.SetOrigin(like.GetOrigin())
    sitk.WriteImage(image, str(path))


# -- per-case problems: exit 0, the case in the errors table, the others scored --
def _missing_file(dst, row):
    (dst / "T1.nii.gz").unlink()
    return dst / "T1.nii.gz", "image file does not exist"


def _truncated_file(dst, row):
    path = dst / "T2FS.nii.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path, "expected a readable, complete NIfTI file; it is truncated"


def _two_d_image(dst, row):
    path = dst / "T1.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(_arr(path)[4]), str(path))
    return path, "image is 2-D .*expected a 3-D scalar volume"


def _geometry_mismatch(dst, row):
    path = dst / "mask.nii.gz"
    _write_like(_arr(path), path, path, spacing=(2.0, 2.0, 3.0))
    return path, "mask does not match the image grid .*spacing"


def _empty_mask(dst, row):
    path = dst / "mask.nii.gz"
    _write_like(np.zeros_like(_arr(path)), path, path)
    return path, r"mask has no voxels with label 1 \(values present: 0\)"


def _label_absent(dst, row):
    path = dst / "mask.nii.gz"
    _write_like(_arr(path) * 2, path, path)
    return path, r"no voxels with label 1 \(values present: 0, 2\)"


def _nan_voxels(dst, row):
    path = dst / "T1.nii.gz"
    image = _arr(path).astype(np.float32)
    roi = _arr(dst / "mask.nii.gz") == 1
    values = image[roi]
    values[:3] = np.nan
    values[3] = np.inf
    image[roi] = values
    _write_like(image, path, path)
    return path, "voxels inside the mask are NaN or infinite; expected finite"


def _unreadable_dicom(dst, row):
    folder = dst / "T1_dicom"
    folder.mkdir()
    for i in range(3):
        (folder / f"IM{i}.dcm").write_bytes(b"DICM" + bytes(range(256)) * 4)
    row["image_T1"] = str(folder)
    return folder, "holds no readable DICOM series"


PER_CASE = {
    "missing file": _missing_file,
    "corrupt or truncated file": _truncated_file,
    "2-D image": _two_d_image,
    "image-mask geometry mismatch": _geometry_mismatch,
    "empty mask": _empty_mask,
    "requested label absent": _label_absent,
    "NaN or infinite voxels": _nan_voxels,
    "unreadable DICOM folder": _unreadable_dicom,
}


@pytest.mark.parametrize("case", list(PER_CASE), ids=list(PER_CASE))
def test_bad_case_is_recorded_and_the_others_predicted(case, fitted_model, tmp_path):
    model, cohort, _ = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    bad_file, expected = PER_CASE[case](dst, row)
    manifest = tmp_path / "new.csv"
    table = pd.concat([_rows(cohort, GOOD), row.to_frame().T], ignore_index=True)
    table.to_csv(manifest, index=False)
    out = tmp_path / "pred.csv"
    result = _run("predict", model, manifest, "--out", out)
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    assert predictions["case_id"].tolist() == GOOD
    assert predictions["probability"].between(0, 1).all()
    errors = pd.read_csv(tmp_path / "pred.errors.csv", keep_default_na=False)
    assert set(errors["case_id"]) == {"BAD"}
    assert str(bad_file) in errors["file"].tolist()
    assert errors["message"].str.contains(expected).any(), errors["message"].tolist()
    assert "failed: BAD" in result.output
    assert "predicted: 3 cases, 1 failed" in result.output


def test_several_labels_extract_the_requested_one(fitted_model, tmp_path):
    """Decision: the requested label (setting ``label``) is extracted, the others
    ignored, as pyradiomics does; ``radsarc validate`` passes such a mask."""
    model, cohort, _ = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    path = dst / "mask.nii.gz"
    mask = _arr(path)
    mask[0, :5, :5] = 2  # a second structure away from the tumour
    mask[-1, -5:, -5:] = 3
    _write_like(mask, path, path)
    manifest = tmp_path / "new.csv"
    table = pd.concat([_rows(cohort, ["STS-004"]), row.to_frame().T], ignore_index=True)
    table.to_csv(manifest, index=False)
    out = tmp_path / "pred.csv"
    result = _run("predict", model, manifest, "--out", out)
    assert result.exit_code == 0, result.output
    p = pd.read_csv(out).set_index("case_id")["probability"]
    np.testing.assert_allclose(p["BAD"], p["STS-004"], rtol=1e-12)
    assert _run("validate", manifest).exit_code == 0


# -- problems of the whole input: exit 2 with one clear message ------------------
def _manifest_error(fitted_model, tmp_path, edit):
    model, cohort, _ = fitted_model
    table = _rows(cohort, GOOD)
    manifest = tmp_path / "new.csv"
    edit(table).to_csv(manifest, index=False)
    return _run("predict", model, manifest, "--out", tmp_path / "p.csv"), manifest


def test_duplicate_case_ids(fitted_model, tmp_path):
    result, manifest = _manifest_error(
        fitted_model, tmp_path, lambda t: pd.concat([t, t.iloc[[1]]])
    )
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Case ids must be unique in {manifest}; duplicated: "
        "'STS-002'." in result.output
    )


def test_manifest_without_required_columns(fitted_model, tmp_path):
    result, manifest = _manifest_error(
        fitted_model, tmp_path, lambda t: t.drop(columns="mask")
    )
    assert result.exit_code == 2
    assert f"radsarc: error: Manifest {manifest} has no mask column" in result.output
    assert "expected 'mask_T1' or a shared 'mask'" in result.output


def test_unknown_setting(fitted_model, tmp_path):
    _, cohort, _ = fitted_model
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"setting": {"binWidht": 25}}), encoding="utf-8")
    result = _run(
        "fit", cohort.source, "--preset", "peeken2019", "--params", params,
        "--out", tmp_path / "m.radsarc",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"radsarc: error: In settings file {params}: Unknown setting " in (
        result.output
    )
    assert "'binWidht'. Did you mean 'binWidth'?" in result.output


def _fit_with_labels(fitted_model, tmp_path, labels, *extra):
    _, cohort, params = fitted_model
    table = _rows(cohort, [c.case_id for c in cohort])
    table["label"] = labels(table)
    manifest = tmp_path / "train.csv"
    table.to_csv(manifest, index=False)
    result = _run(
        "fit", manifest, "--preset", "peeken2019", "--params", params,
        "--out", tmp_path / "m.radsarc", *extra,
    )  # fmt: skip
    return result, manifest


def test_a_single_class_in_y(fitted_model, tmp_path):
    result, manifest = _fit_with_labels(fitted_model, tmp_path, lambda t: "1")
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Fitting needs both classes in 'label'; manifest {manifest} "
        "has only label 1 (12 cases)." in result.output
    )
    assert not (tmp_path / "m.radsarc").exists()


def test_fewer_samples_than_folds(fitted_model, tmp_path):
    result, manifest = _fit_with_labels(
        fitted_model, tmp_path, lambda t: ["1", "1"] + ["0"] * (len(t) - 2)
    )
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Fewer samples than folds: manifest {manifest} has 2 case(s) "
        "of label 1" in result.output
    )
    assert "Use more cases or a smaller cv (--cv)." in result.output


def test_constant_and_missing_feature_columns(tmp_path):
    """Constant, partly missing and all-missing feature columns are handled inside
    each training split (imputer, variance filter); the evaluation runs."""
    rng = np.random.default_rng(0)
    n = 60
    y = np.repeat([0, 1], n // 2)
    table = pd.DataFrame(
        {
            "signal": y + rng.normal(0, 0.7, n),
            "noise": rng.normal(size=n),
            "constant": 4.0,
            "partly_missing": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "all_missing": np.nan,
            "outcome": y,
            "site": np.where(np.arange(n) % 3 == 0, "B", "A"),
        },
        index=pd.Index([f"case{i:02d}" for i in range(n)], name="case_id"),
    )
    path = tmp_path / "features.csv"
    table.to_csv(path)
    out = tmp_path / "eval"
    result = _run(
        "evaluate", path, "--label", "outcome", "--preset", "peeken2019",
        "--cv", "external", "site", "--test-centre", "B", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv")
    auc = results.loc[results.metric == "auc", "mean"].iloc[0]
    assert auc > 0.7


def test_tampered_model_file(fitted_model, tmp_path):
    """A model whose pipeline was swapped for one holding an injected type."""
    model, cohort, _ = fitted_model
    tampered = tmp_path / "tampered.radsarc"
    with zipfile.ZipFile(model) as src:
        header = src.read("radsarc-model.json")
    payload = sio.dumps(FunctionTransformer(func=os.system))
    meta = json.loads(header)
    meta["pipeline_sha256"] = hashlib.sha256(payload).hexdigest()  # a careful forger
    with zipfile.ZipFile(tampered, "w") as dst:
        dst.writestr("radsarc-model.json", json.dumps(meta))
        dst.writestr("pipeline.skops", payload)
    result = _run("predict", tampered, cohort.source, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert f"radsarc: error: Model file {tampered} holds types that a radsarc " in (
        result.output
    )
    assert "'posix.system'" in result.output or "'nt.system'" in result.output
    assert "refusing to load it" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_truncated_model_file(fitted_model, tmp_path):
    model, cohort, _ = fitted_model
    broken = tmp_path / "broken.radsarc"
    broken.write_bytes(model.read_bytes()[:500])
    result = _run("predict", broken, cohort.source, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert f"radsarc: error: Model file {broken} is not a readable radsarc model" in (
        result.output
    )
