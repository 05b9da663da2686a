"""The bad-input catalogue (docs/bad_input.md), tried through the CLI as a new user.

Every case gives either exit code 0 with the bad case in the errors table (naming
the case, the file and what was expected) and every other case predicted, or exit
code 2 with one ``radsarc: error:`` line naming the problem. Never a traceback.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import shutil
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
from tests.conftest import rewrite_model

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


def _manifest_with(cohort, ids, row, path):
    """Write a manifest of the cases ``ids`` and the bad ``row``; returns ``path``."""
    table = pd.concat([_rows(cohort, ids), row.to_frame().T], ignore_index=True)
    table.to_csv(path, index=False)
    return path


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


def _zero_byte_file(dst, row):
    path = dst / "T1.nii.gz"
    path.write_bytes(b"")
    return path, r"image file is empty \(0 bytes\); expected an image file"


def _nii_gz_not_gzip(dst, row):
    path = dst / "T1.nii.gz"
    path.write_bytes(gzip.decompress(path.read_bytes()))
    return path, (
        "image file is named .nii.gz but is not gzip-compressed; it is an "
        "uncompressed NIfTI file: rename it to .nii"
    )


def _nii_that_is_gzip(dst, row):
    path = dst / "T1.nii"
    (dst / "T1.nii.gz").rename(path)
    row["image_T1"] = str(path)
    return path, "image file is named .nii but is gzip-compressed; rename it to .nii.gz"


def _broken_symlink(dst, row):
    path = dst / "link.nii.gz"
    path.symlink_to(dst / "gone.nii.gz")
    row["image_T1"] = str(path)
    return path, "image file does not exist: it is a broken symbolic link to "


def _float_mask(dst, row):
    path = dst / "mask.nii.gz"
    mask = _arr(path).astype(np.float32)
    mask[mask == 1] = 0.5  # a partial-volume mask
    mask[mask.shape[0] // 2, 20, 20] = 1.0
    _write_like(mask, path, path)
    return path, r"mask holds \d+ voxel\(s\) with non-integer values \(e\.g\. 0\.5\)"


PER_CASE = {
    "missing file": _missing_file,
    "empty (0-byte) file": _zero_byte_file,
    ".nii.gz that is not gzip": _nii_gz_not_gzip,
    ".nii that is gzip": _nii_that_is_gzip,
    "broken symbolic link": _broken_symlink,
    "float mask with partial-volume values": _float_mask,
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
    manifest = _manifest_with(cohort, GOOD, row, tmp_path / "new.csv")
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
    assert f"failed: BAD [T1] ({errors['stage'].iloc[0]}): {bad_file}:" in (
        result.output
    ) or f"failed: BAD [T2FS] ({errors['stage'].iloc[0]}): {bad_file}:" in (
        result.output
    )
    assert "predicted: 3 cases, 1 failed" in result.output


@pytest.mark.parametrize(
    "case",
    ["empty (0-byte) file", ".nii.gz that is not gzip", ".nii that is gzip",
     "broken symbolic link", "float mask with partial-volume values"],
)  # fmt: skip
def test_validate_and_extract_give_the_same_verdict(case, fitted_model, tmp_path):
    _, cohort, params = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    bad_file, expected = PER_CASE[case](dst, row)
    manifest = _manifest_with(cohort, GOOD[:1], row, tmp_path / "new.csv")
    validated = _run("validate", manifest)
    assert validated.exit_code == 1
    lines = [line for line in validated.output.splitlines() if "'BAD'" in line]
    assert lines, validated.output
    assert all(str(bad_file) in line for line in lines), validated.output
    verdict = re.search(f"{expected}.*", lines[0]).group(0)
    extracted = _run(
        "extract", manifest, "--params", params, "--out", tmp_path / "f.csv",
        "--no-cache", "-q",
    )  # fmt: skip
    assert extracted.exit_code == 0, extracted.output
    errors = pd.read_csv(tmp_path / "f.errors.csv", keep_default_na=False)
    assert errors["message"].tolist()[0] == verdict
    assert "Unable to determine ImageIO reader" not in validated.output
    assert "truncated" not in validated.output + extracted.output


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
    manifest = _manifest_with(cohort, ["STS-004"], row, tmp_path / "new.csv")
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


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            {"filter": [{"name": "laws", "kernal": "L5E5E5"}]},
            "filter[0]: Unknown parameter 'kernal' of filter 'laws'. Did you mean "
            "'kernel'?",
            id="misspelled_filter_parameter",
        ),
        pytest.param(
            {"setting": {"engine": "ibsi", "ibsi": {"bin_widht": 25}}},
            "Unknown IBSI setting 'bin_widht'. Did you mean 'bin_width'?",
            id="misspelled_ibsi_engine_setting",
        ),
        pytest.param(
            {"setting": {"engine": "ibsi", "binWidth": 25}},
            "Setting 'binWidth' is a pyradiomics setting and is not used by the IBSI "
            "engine",
            id="pyradiomics_setting_with_the_ibsi_engine",
        ),
    ],
)
def test_bad_settings_file_of_extract(fitted_model, tmp_path, settings, message):
    _, cohort, _ = fitted_model
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    result = _run("extract", cohort.source, "--params", params,
                  "--out", tmp_path / "f.csv")  # fmt: skip
    assert result.exit_code == 2
    assert f"radsarc: error: In settings file {params}: {message}" in result.output


def test_a_3d_filter_in_mm_on_thick_slices(fitted_model, tmp_path):
    """A 3D LoG (sigma in mm) on 3 mm x 1 mm x 1 mm voxels: each case is refused
    naming the filter, the spacing and the two ways out."""
    _, cohort, _ = fitted_model
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump({"featureClass": {"firstorder": ["Mean"]},
                        "filter": [{"name": "log", "sigma": 2.0}]}),
        encoding="utf-8",
    )  # fmt: skip
    result = _run("extract", cohort.source, "--params", params, "--no-cache",
                  "--out", tmp_path / "f.csv")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert (
        "Filter ibsi2-log-sigma-2-0-mm-3D: This filter needs isotropic voxels over "
        "its axes; got spacing (3.0, 1.0, 1.0) mm. Resample the image first (or "
        "filter in-plane: dimensions 2)." in result.output
    )


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


def _evaluate_table(tmp_path, table, *options):
    """``radsarc evaluate`` of ``table`` (label 'outcome', preset peeken2019) with
    ``options``; returns the result and the --out folder."""
    path = tmp_path / "features.csv"
    table.to_csv(path)
    out = tmp_path / "eval"
    result = _run(
        "evaluate", path, "--label", "outcome", "--preset", "peeken2019",
        *options, "--out", out,
    )  # fmt: skip
    return result, out


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
    result, out = _evaluate_table(
        tmp_path, table, "--cv", "external", "site", "--test-centre", "B"
    )
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv")
    auc = results.loc[results.metric == "auc", "mean"].iloc[0]
    assert auc > 0.7


def test_more_folds_than_minority_cases(tmp_path):
    """evaluate with more folds than the minority class has cases is refused
    before any work (it used to report the mean AUC of the folds that happened
    to hold a positive case)."""
    rng = np.random.default_rng(0)
    n = 30
    y = np.r_[np.ones(4, int), np.zeros(n - 4, int)]
    table = pd.DataFrame(
        {"outcome": y, "f0": y + rng.normal(0, 1, n), "f1": rng.normal(size=n)},
        index=pd.Index([f"case{i:02d}" for i in range(n)], name="case_id"),
    )
    result, out = _evaluate_table(tmp_path, table, "--n-splits", "5")
    assert result.exit_code == 2
    assert (
        "radsarc: error: n_splits=5 (--n-splits) folds but the smallest class, "
        "label 1, has only 4 cases (26 of label 0)" in result.output
    )
    assert "The largest valid n_splits (--n-splits) is 4." in result.output
    assert not (out / "results.csv").exists()


def test_tampered_model_file(fitted_model, tmp_path):
    """A model whose pipeline was swapped for one holding an injected type."""
    model, cohort, _ = fitted_model
    # A careful forger: the header's pipeline digest and the checksums match.
    tampered = rewrite_model(
        model,
        tmp_path / "tampered.radsarc",
        pipeline=sio.dumps(FunctionTransformer(func=os.system)),
    )
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


# -- nothing on disk is lost -----------------------------------------------------
def test_an_output_that_is_an_input_is_refused(fitted_model, tmp_path):
    model, cohort, params = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).to_csv(manifest, index=False)
    before = manifest.read_bytes()
    for args in (
        ("extract", manifest, "--params", params, "--out", manifest),
        ("predict", model, manifest, "--out", manifest),
        ("fit", manifest, "--preset", "peeken2019", "--out", manifest),
        ("predict", model, manifest, "--out", tmp_path / "." / "new.csv"),
    ):
        result = _run(*args)
        assert result.exit_code == 2, result.output
        assert f"is the manifest ({manifest}); writing it would destroy an input" in (
            result.output
        )
    assert manifest.read_bytes() == before
    model_before = Path(model).read_bytes()
    result = _run("predict", model, manifest, "--out", model)
    assert result.exit_code == 2
    assert f"--out {model} is the model file" in result.output
    assert Path(model).read_bytes() == model_before
    # An image of the cohort is an input too.
    image = Path(_rows(cohort, GOOD)["image_T1"].iloc[0])
    result = _run("predict", model, manifest, "--out", image)
    assert result.exit_code == 2
    assert "is the image of case 'STS-001' [T1]" in result.output
    # The feature table given to evaluate, as --out's results.csv.
    table = tmp_path / "eval" / "results.csv"
    table.parent.mkdir()
    table.write_text("case_id,x,y\na,1,0\n")
    result = _run(
        "evaluate", table, "--label", "y", "--preset", "peeken2019",
        "--out", tmp_path / "eval",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is the feature table" in result.output
    assert table.read_text() == "case_id,x,y\na,1,0\n"


def test_disk_full_while_writing_keeps_the_previous_output(
    fitted_model, tmp_path, monkeypatch
):
    """ENOSPC half-way through the table: the previous table stays, no partial
    file is left, and the message names the path."""
    model, cohort, _ = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).to_csv(manifest, index=False)
    out = tmp_path / "pred.csv"
    out.write_text("case_id,probability,class\nOLD,0.5,1\n")
    (tmp_path / "pred.errors.csv").write_text("case_id\nOLD\n")
    real = pd.DataFrame.to_csv

    def full_disk(frame, path=None, *args, **kwargs):
        text = real(frame, None, *args, **kwargs)
        with open(path, "w") as handle:
            handle.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    result = _run("predict", model, manifest, "--out", out)
    assert result.exit_code == 2
    assert f"radsarc: error: Cannot write {out}: No space left on device." in (
        result.output
    )
    assert "a previous file at that path is unchanged" in result.output
    assert out.read_text() == "case_id,probability,class\nOLD,0.5,1\n"
    assert (tmp_path / "pred.errors.csv").read_text() == "case_id\nOLD\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "new.csv", "pred.csv", "pred.errors.csv",
    ]  # fmt: skip


def test_disk_full_while_saving_a_model_keeps_the_previous_model(
    fitted_model, tmp_path, monkeypatch
):
    import zipfile as zf

    _, cohort, params = fitted_model
    out = tmp_path / "m.radsarc"
    out.write_bytes(b"previous model")
    real = zf.ZipFile.writestr

    def full_disk(self, name, data, *args, **kwargs):
        if name == "pipeline.skops":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zf.ZipFile, "writestr", full_disk)
    result = _run(
        "fit", cohort.source, "--preset", "peeken2019", "--params", params,
        "--cv", 3, "--no-tuning", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"Cannot write {out}: No space left on device." in result.output
    assert out.read_bytes() == b"previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.radsarc"]


def test_every_case_failed_exits_non_zero_and_keeps_the_previous_output(
    fitted_model, tmp_path
):
    model, cohort, params = fitted_model
    table = _rows(cohort, GOOD)
    table["image_T1"] = [str(tmp_path / f"gone{i}.nii.gz") for i in range(3)]
    manifest = tmp_path / "new.csv"
    table.to_csv(manifest, index=False)
    for command in (
        ("predict", model, manifest),
        ("extract", manifest, "--params", params, "--no-cache"),
    ):
        out = tmp_path / f"{command[0]}.csv"
        out.write_text("previous\n")
        result = _run(*command, "--out", out)
        assert result.exit_code == 1, result.output
        assert f"every case of {manifest} failed" in result.output or (
            f"no case of {manifest} could be scored" in result.output
        )
        assert f"failed: STS-001 [T1] (read): {tmp_path / 'gone0.nii.gz'}:" in (
            result.output
        )
        assert out.read_text() == "previous\n"
        assert not (tmp_path / f"{command[0]}.errors.csv").exists()


def test_a_manifest_with_no_rows(fitted_model, tmp_path):
    model, cohort, _ = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).iloc[:0].to_csv(manifest, index=False)
    out = tmp_path / "p.csv"
    out.write_text("previous\n")
    result = _run("predict", model, manifest, "--out", out)
    assert result.exit_code == 2
    assert f"radsarc: error: Manifest {manifest} has no rows; expected one row" in (
        result.output
    )
    assert out.read_text() == "previous\n"


def test_an_unwritable_output_folder_fails_before_the_work(fitted_model, tmp_path):
    """(A read-only folder cannot be tested as root; a path below a file fails
    the same check.)"""
    _, cohort, params = fitted_model
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _run(
        "extract", cohort.source, "--params", params,
        "--out", blocker / "features.csv",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"Cannot write the feature table in folder {blocker}" in result.output
    assert "nothing was computed" in result.output
    assert "extracted:" not in result.output


def test_a_cache_that_cannot_be_written_is_a_warning(fitted_model, tmp_path):
    _, cohort, params = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).to_csv(manifest, index=False)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "STS-002").write_text("a file where the case's folder should be")
    out = tmp_path / "f.csv"
    result = _run(
        "extract", manifest, "--params", params, "--out", out,
        "--cache-dir", cache, "--n-jobs", 2, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "radsarc: warning: Could not write 2 result(s) to the extraction cache" in (
        result.output
    )
    assert "case 'STS-002'" in result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD


def test_case_ids_never_make_paths_outside_the_cache(fitted_model, tmp_path):
    _, cohort, params = fitted_model
    table = _rows(cohort, GOOD)
    table["case_id"] = ["..", ".", "../../escape"]
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    manifest = work / "new.csv"
    table.to_csv(manifest, index=False)
    cache = work / "cache"
    result = _run(
        "extract", manifest, "--params", params, "--out", work / "f.csv",
        "--cache-dir", cache, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.json"))
    assert len(written) == 6
    assert all(p.startswith("a/b/cache/") for p in written), written


# -- tables that must be refused ------------------------------------------------
def _features(tmp_path, n=40):
    rng = np.random.default_rng(1)
    y = np.arange(n) % 2
    table = pd.DataFrame(
        {"f1": y + rng.normal(0, 0.5, n), "f2": rng.normal(size=n), "outcome": y},
        index=pd.Index([f"c{i:02d}" for i in range(n)], name="case_id"),
    )
    path = tmp_path / "features.csv"
    table.to_csv(path)
    return path


def _evaluate(path, tmp_path, *extra):
    return _run(
        "evaluate", path, "--label", "outcome", "--preset", "peeken2019",
        "--out", tmp_path / "eval", *extra,
    )  # fmt: skip


def test_a_feature_table_cut_off_mid_row(tmp_path):
    path = _features(tmp_path)
    text = path.read_text()
    path.write_text(text[: text.rindex(",") - 3])  # the last row loses its end
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert f"radsarc: error: Feature table {path}, line 41: 3 field(s) where the " in (
        result.output
    )
    assert not (tmp_path / "eval" / "results.csv").exists()
    # Cut inside the last value (f2, a float with many digits): the row has
    # every field but no line break.
    table = pd.read_csv(path, index_col=0)[["outcome", "f1", "f2"]]
    table.to_csv(path)
    path.write_text(path.read_text()[:-6])
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert "does not end with a line break: its last row may be cut off" in (
        result.output
    )


def test_ragged_rows_and_repeated_columns(tmp_path):
    path = _features(tmp_path)
    lines = path.read_text().splitlines()
    lines[5] += ",7"
    path.write_text("\n".join(lines) + "\n")
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert f"Feature table {path}, line 6: 5 field(s) where the header has 4" in (
        result.output
    )
    lines = _features(tmp_path).read_text().splitlines()
    lines[0] = "case_id,f1,f1,outcome"
    path.write_text("\n".join(lines) + "\n")
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert f"Feature table {path} has repeated column names ['f1']" in result.output


def test_infinity_in_a_feature_table_names_case_and_column(tmp_path):
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0)
    table.loc["c07", "f2"] = np.inf
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"Feature table {path} holds 1 infinite value(s): case 'c07' column 'f2'."
        in result.output
    )


def test_cv_external_as_one_quoted_argument(tmp_path):
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0)
    table["centre"] = np.where(np.arange(len(table)) % 3 == 0, "B", "A")
    table.to_csv(path)
    result = _evaluate(path, tmp_path, "--cv", "external centre", "--test-centre", "B")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "eval" / "results.csv").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: pd.concat([t, t[["image_T1"]]], axis=1),
            "repeated column names ['image_T1']",
        ),
        (
            lambda t: t.assign(image_quality="good"),
            "column 'image_quality': none of its values is a path (e.g. 'good'",
        ),
        (
            lambda t: t.assign(image_score=3),
            "column 'image_score': every value is a number (e.g. '3'), not an image",
        ),
    ],
    ids=["repeated column", "covariate image_quality", "numeric image_ column"],
)
def test_manifest_columns_that_must_be_refused(fitted_model, tmp_path, edit, expected):
    result, manifest = _manifest_error(fitted_model, tmp_path, edit)
    assert result.exit_code == 2, result.output
    assert f"radsarc: error: Manifest {manifest}" in result.output
    assert expected in result.output
    if "image_" in expected and "repeated" not in expected:
        assert (
            "column names starting with 'image_', 'mask_', 'roi_' or 'reference_' are"
            in (result.output)
        )


def test_a_semicolon_separated_manifest_is_named(fitted_model, tmp_path):
    model, cohort, _ = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).to_csv(manifest, index=False, sep=";")
    result = _run("predict", model, manifest, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert f"radsarc: error: Manifest {manifest} is semicolon-separated" in (
        result.output
    )
    folder = _run("predict", model, tmp_path, "--out", tmp_path / "p.csv")
    assert folder.exit_code == 2


def test_cohort_from_csv_given_a_folder(tmp_path):
    from radsarc.images import Cohort

    with pytest.raises(IsADirectoryError, match=f"Manifest {tmp_path} is a folder"):
        Cohort.from_csv(tmp_path)


def test_predict_names_the_missing_sequence(fitted_model, tmp_path):
    model, cohort, _ = fitted_model
    manifest = tmp_path / "new.csv"
    _rows(cohort, GOOD).drop(columns="image_T2FS").to_csv(manifest, index=False)
    result = _run("predict", model, manifest, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Manifest {manifest} lacks the sequence(s) ['T2FS'] the "
        "model needs (columns ['image_T2FS']); it has ['T1']." in result.output
    )


_EVALUATE = ("evaluate", "F", "--label", "y", "--preset", "p", "--out", "o")


@pytest.mark.parametrize(
    "args",
    [
        (*_EVALUATE, "--n-repeats", 0),
        (*_EVALUATE, "--n-splits", 1),
        (*_EVALUATE, "--n-jobs", -3),
        (*_EVALUATE, "--min-sensitivity", 1.5),
        ("extract", "M", "--out", "o.csv", "--n-jobs", 0),
        ("fit", "M", "--preset", "p", "--out", "m", "--cv", 1),
        ("fit", "M", "--preset", "p", "--out", "m", "--seed", -1),
        ("predict", "MODEL", "M", "--out", "o.csv", "--n-jobs", -2),
        ("validate", "M", "--label", 0),
        ("validate", "M", "--tolerance", -0.1),
        ("synthetic", "o", "--n-cases", 0),
        ("synthetic", "o", "--positive-fraction", 1),
        ("benchmark", "--out", "o", "--splits", 0),
    ],  # fmt: skip
    ids=lambda a: f"{a[0]} {' '.join(map(str, a[-2:]))}",
)
def test_nonsensical_numbers_are_refused(args, tmp_path):
    result = _run(*args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[-2]}'" in result.output


def test_intensities_too_large_for_the_bin_width(fitted_model, tmp_path):
    """Intensities of 1e9 with binWidth 25 would need texture matrices of 4e7
    grey levels: the case is refused naming the range and binWidth."""
    _, cohort, _ = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    path = dst / "T2FS.nii.gz"
    _write_like(_arr(path).astype(np.float64) * 1e7, path, path)
    manifest = _manifest_with(cohort, GOOD[:2], row, tmp_path / "new.csv")
    params = tmp_path / "glcm.yaml"
    params.write_text(
        yaml.safe_dump({"featureClass": {"glcm": None}, "setting": {"binWidth": 25}})
    )
    out = tmp_path / "f.csv"
    result = _run(
        "extract", manifest, "--params", params, "--out", out, "--no-cache", "-q"
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD[:2]
    errors = pd.read_csv(tmp_path / "f.errors.csv")
    assert errors["case_id"].tolist() == ["BAD"]
    assert errors["file"].tolist() == [str(path)]
    message = errors["message"].iloc[0]
    assert re.match(
        r"intensities inside the mask range from [\d.e+]+ to [\d.e+]+; with binWidth "
        r"25 that is [\d,]+ grey levels \(at most 10,000 can be held",
        message,
    ), message
    assert "use a larger binWidth" in message
    # validate --settings refuses the same case, with the same message.
    checked = _run("validate", manifest, "--settings", params)
    assert checked.exit_code == 1, checked.output
    assert f"case 'BAD', sequence 'T2FS', file {path}: {message}" in checked.output
    assert f"case '{GOOD[0]}'" not in checked.output


def test_harmonise_with_a_single_case_in_a_centre(fitted_model, tmp_path):
    """The message offers what the CLI has (not a Python-only parameter), and
    comes before any extraction."""
    result, manifest = _fit_with_labels(
        fitted_model,
        tmp_path,
        lambda t: ["1", "0"] * (len(t) // 2),
        "--harmonise",
        "--cv",
        3,
    )
    assert result.exit_code == 0, result.output  # two centres of >= 2 cases
    table = pd.read_csv(manifest, dtype=str)
    table.loc[0, "group"] = "centre-Z"
    table.to_csv(manifest, index=False)
    result = _run(
        "fit", manifest, "--preset", "peeken2019", "--params", fitted_model[2],
        "--out", tmp_path / "m2.radsarc", "--harmonise", "--cv", 3,
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        "radsarc: error: Harmonisation by centre (--harmonise): centre 'centre-Z' "
        f"(1 case(s)) of manifest {manifest} is missing from a training part"
    ) in result.output
    assert "or fit without --harmonise." in result.output
    assert "unseen_batch" not in result.output
    assert not (tmp_path / "m2.radsarc").exists()


# -- found by the independent check of issue 13 (helper qa1113) ----------------
def test_every_preset_failed_exits_non_zero_and_keeps_the_previous_report(tmp_path):
    n = 30
    table = pd.DataFrame(
        {"f1": np.full(n, 3.0), "f2": np.nan, "outcome": np.arange(n) % 2},
        index=pd.Index([f"c{i:02d}" for i in range(n)], name="case_id"),
    )  # no feature varies: every preset's variance step keeps nothing
    path = tmp_path / "features.csv"
    table.to_csv(path)
    out = tmp_path / "eval"
    out.mkdir()
    (out / "results.csv").write_text("previous results\n")
    (out / "report.html").write_text("previous report")
    result = _evaluate(
        path, tmp_path, "--preset", "xu2020", "--n-repeats", "1", "--no-tuning"
    )
    assert result.exit_code == 2
    assert "peeken2019: FAILED - ValueError: peeken2019, split 0" in result.output
    assert (
        "radsarc: error: Every preset failed (peeken2019, xu2020); nothing was "
        f"written ({out / 'results.csv'} and {out / 'report.html'} are unchanged)."
    ) in result.output
    assert "Wrote" not in result.output
    assert (out / "results.csv").read_text() == "previous results\n"
    assert (out / "report.html").read_text() == "previous report"


def test_evaluate_refuses_a_single_class_and_empty_labels_naming_the_file(tmp_path):
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0)
    table["outcome"] = 1
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"Label column 'outcome' of {path} holds one class only: every one of its "
        "40 cases is positive (outcome = 1); an evaluation needs cases of both "
        "classes."
    ) in result.output
    table["outcome"] = np.arange(40) % 2
    table.loc[["c03", "c10"], "outcome"] = np.nan
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"Label column 'outcome' of {path} is empty for cases ['c03', 'c10'] (2 of 40)"
    ) in result.output
    assert not (tmp_path / "eval").exists()


def test_text_in_a_column_of_numbers_is_refused_not_dropped(tmp_path):
    """One text cell (or a decimal comma) used to turn the whole feature column
    "non-numeric": it was left out and the AUC reported without it."""
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0).astype(object)
    table.loc["c05", "f1"] = "1,5"
    table.loc["c07", "f1"] = "high"
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"Feature table {path}, column 'f1' holds numbers but 2 cell(s) that are "
        "not (case 'c05': '1,5'; case 'c07': 'high'); expected a number, or an "
        "empty cell for a missing value."
    ) in result.output
    table = pd.read_csv(_features(tmp_path), index_col=0)
    table["f1"] = [f"{v:.3f}".replace(".", ",") for v in table["f1"]]
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"Feature table {path}, column 'f1': numbers written with a decimal comma "
        f"or a thousands separator (case 'c00': {table.loc['c00', 'f1']!r}); "
        "radsarc reads CSV files with '.' as the decimal mark"
    ) in result.output
    table["f1"] = [f"{1000 * v + 5000:,.1f}" for v in range(40)]  # 5,000.0 ...
    table.to_csv(path)
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert "column 'f1': numbers written with a decimal comma or a thousands " in (
        result.output
    )
    assert "(case 'c00': '5,000.0')" in result.output
    # A column of text only (e.g. a diagnostics string) is still left out.
    table["f1"] = pd.read_csv(_features(tmp_path), index_col=0)["f1"]
    table["note"] = "reviewed"
    table.to_csv(path)
    result = _evaluate(path, tmp_path, "--n-repeats", "1", "--no-tuning")
    assert result.exit_code == 0, result.output
    assert "Ignoring 1 non-numeric column(s): note" in result.output
    assert not [p for p in tmp_path.rglob("*") if ".radsarc-tmp" in p.name]


def test_nan_voxels_outside_the_mask_are_refused_when_filters_read_them(
    fitted_model, tmp_path
):
    """A NaN voxel beside the region silently changed 128 of 144 wavelet features
    (and made LoG or resampling fail with 'arange: cannot compute length')."""
    _, cohort, _ = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    path = dst / "T1.nii.gz"
    image = _arr(path).astype(np.float32)
    outside = np.argwhere(_arr(dst / "mask.nii.gz") != 1)[0]
    image[tuple(outside)] = np.nan
    _write_like(image, path, path)
    manifest = _manifest_with(cohort, GOOD[:1], row, tmp_path / "new.csv")
    params = tmp_path / "wavelet.yaml"
    params.write_text(
        "imageType:\n  Original: {}\n  Wavelet: {}\nfeatureClass:\n  firstorder:\n"
        "setting:\n  binWidth: 25\n"
    )
    out = tmp_path / "f.csv"
    result = _run("extract", manifest, "--params", params, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD[:1]
    errors = pd.read_csv(tmp_path / "f.errors.csv", keep_default_na=False)
    assert errors[["case_id", "sequence", "stage", "file"]].values.tolist() == [
        ["BAD", "T1", "validate", str(path)]
    ]
    index = tuple(int(i) for i in outside[::-1])
    assert errors["message"].iloc[0] == (
        f"image holds 1 NaN or infinite voxel(s) outside the mask (the first at "
        f"voxel index {index}); image type(s) Wavelet use voxels outside the mask, "
        "so they would reach the region's values. Expected finite intensities in "
        "the whole image: replace them (e.g. by 0), or extract features of the "
        "original image only"
    )
    # validate --settings gives the same verdict before any extraction.
    checked = _run("validate", manifest, "--settings", params)
    assert checked.exit_code == 1, checked.output
    assert f"case 'BAD', sequence 'T1', file {path}: image holds 1 NaN" in (
        checked.output
    )
    assert f"case '{GOOD[0]}'" not in checked.output
    # Features of the original image use the region's voxels only: extracted.
    params.write_text("featureClass:\n  firstorder:\nsetting:\n  binWidth: 25\n")
    result = _run("extract", manifest, "--params", params, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == [*GOOD[:1], "BAD"]
    assert _run("validate", manifest, "--settings", params).exit_code == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty (or holds only comments); expected a parameter file with "
         "sections such as 'setting', 'imageType' and 'featureClass'. For "
         "pyradiomics' defaults, give no settings file."),
        ("# binWidth: 5\n", "is empty (or holds only comments)"),
        ("setting:\n  binWidth: 25\n  binWidth: 5\n",
         "is not valid YAML: found the key 'binWidth' twice in one section (lines "
         "2 and 3); each setting may be given once"),
        ("setting:\n  resampledPixelSpacing: [1, 1]\n",
         "Setting 'resampledPixelSpacing' must be 3 spacings in mm (x, y, z), 0 to "
         "keep an axis; got [1, 1] instead."),
        ("setting:\n\tbinWidth: 25\n",
         "is not valid YAML: while scanning for the next token\nfound character "
         "'\\t' that cannot start any token"),
    ],
    ids=["empty", "comments only", "a key twice", "2-D spacing", "tabs"],
)  # fmt: skip
def test_settings_files_that_must_be_refused(text, expected, fitted_model, tmp_path):
    """An empty file used to mean the defaults, a repeated key its last value and
    two spacings an AssertionError in every case; now refused before any work."""
    _, cohort, _ = fitted_model
    params = tmp_path / "params.yaml"
    params.write_text(text, encoding="utf-8")
    out = tmp_path / "f.csv"
    out.write_text("previous\n")
    result = _run("extract", cohort.source, "--params", params, "--out", out)
    assert result.exit_code == 2
    assert "radsarc: error: " in result.output
    assert str(params) in result.output
    assert expected in result.output
    assert out.read_text() == "previous\n"


def test_outputs_that_are_not_regular_files(fitted_model, tmp_path):
    """Renaming the finished table over --out replaced whatever was there: run as
    root, `--out /dev/full` turned the device into a CSV file."""
    model, cohort, params = fitted_model
    manifest = tmp_path / "m.csv"
    _rows(cohort, GOOD).to_csv(manifest, index=False)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for command in (
        ["extract", manifest, "--params", params, "--no-cache"],
        ["predict", model, manifest],
    ):
        result = _run(*command, "--out", fifo)
        assert result.exit_code == 2
        assert (
            f"radsarc: error: Cannot write {fifo}: it is not a regular file (a "
            "device, FIFO or socket); expected the path of a new or existing "
            "regular file. Nothing was written there."
        ) in result.output
        assert fifo.is_fifo()
        result = _run(*command, "--out", "")
        assert result.exit_code == 2
        assert "radsarc: error: --out '.' names no file; expected a file path." in (
            result.output
        )
        blocker = tmp_path / "a-file"
        blocker.write_text("keep")
        result = _run(*command, "--out", blocker / "sub" / "f.csv")
        assert result.exit_code == 2
        what = "feature table" if command[0] == "extract" else "predictions"
        assert (
            f"Cannot write the {what} in folder {blocker / 'sub'}: {blocker} is a "
            "file, not a folder."
        ) in result.output
        assert blocker.read_text() == "keep"
    # A symbolic link is written through: its target gets the table, the link stays.
    target = tmp_path / "shared" / "features.csv"
    target.parent.mkdir()
    target.write_text("previous\n")
    link = tmp_path / "features.csv"
    link.symlink_to(target)
    result = _run("extract", manifest, "--params", params, "--no-cache", "--out", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert link.resolve() == target.resolve()
    assert pd.read_csv(target)["case_id"].tolist() == GOOD
    assert (tmp_path / "features.columns.yaml").is_file()  # beside the name given


def test_concurrent_commits_of_one_output_set_do_not_mix(tmp_path):
    """Two runs writing the same --out: each run's files are renamed into place
    under a lock on the folder, so the table and its side files come from the
    same run."""
    import threading

    from radsarc._files import OutputSet

    names = [tmp_path / f"out{i}.csv" for i in range(12)]
    barrier = threading.Barrier(2)

    def run(tag):
        with OutputSet() as outputs:
            for name in names:
                outputs.add_text(name, tag)
            barrier.wait()
            outputs.commit()

    for _ in range(10):
        threads = [threading.Thread(target=run, args=(t,)) for t in "AB"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({n.read_text() for n in names}) == 1
    assert not [p for p in tmp_path.iterdir() if ".radsarc-tmp" in p.name]


@pytest.mark.parametrize("threshold", [7.5, "abc", None])
def test_a_forged_cut_off_is_refused(threshold, fitted_model, tmp_path):
    """A header edited with matching checksums (the checksum is no signature): a
    cut-off of 7.5 classed every case negative, "abc" failed naming no file."""
    model, cohort, _ = fitted_model
    forged = rewrite_model(
        model,
        tmp_path / "forged.radsarc",
        edit_header=lambda header: header.update(threshold=threshold),
    )
    result = _run("predict", forged, cohort.source, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Model file {forged}: its cut-off (header field "
        f"'threshold') is {threshold!r}; expected a probability between 0 and 1."
    ) in result.output
    assert not (tmp_path / "p.csv").exists()


def test_rows_of_empty_cells_below_a_spreadsheet_table_are_no_cases(
    fitted_model, tmp_path
):
    """Excel saves ",,,,," rows below the table; they were 'empty case_id' errors
    that stopped the run. A row with any content still needs its case id."""
    _, cohort, params = fitted_model
    lines = _rows(cohort, GOOD).to_csv(index=False).splitlines()
    manifest = tmp_path / "m.csv"
    manifest.write_text("\r\n".join([*lines, ",,,,,,,", ",,,,,,,"]) + "\r\n")
    result = _run("extract", manifest, "--params", params, "--out",
                  tmp_path / "f.csv", "--no-cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "f.csv")["case_id"].tolist() == GOOD
    lines.insert(2, ",,,,,,,")
    lines.insert(4, ",STS-009/T1.nii.gz,,,,,,")
    manifest.write_text("\n".join(lines) + "\n")
    result = _run("extract", manifest, "--params", params, "--out",
                  tmp_path / "f.csv", "--no-cache")  # fmt: skip
    assert result.exit_code == 2
    assert f"- case '<row 5>', file {manifest}: row 5 has an empty case_id" in (
        result.output
    )
    manifest.write_text(lines[0] + "\n,,,,,,,\n")
    result = _run("extract", manifest, "--params", params, "--out",
                  tmp_path / "f.csv", "--no-cache")  # fmt: skip
    assert result.exit_code == 2
    assert f"Manifest {manifest} has no rows" in result.output


def test_huge_intensities_with_first_order_features_only(fitted_model, tmp_path):
    """First-order features alone: intensities of 1e9 failed with numpy's
    'Maximum allowed size exceeded' (naming nothing), and a constant 1e300 gave
    an infinite Energy written to the table as a number."""
    _, cohort, params = fitted_model  # params: firstorder and shape, binWidth 25
    row, dst = _copy_case(cohort, tmp_path)
    path = dst / "T1.nii.gz"
    roi = _arr(dst / "mask.nii.gz") == 1
    spread = np.where(
        roi, 1e9 * (1 + np.linspace(0, 1, roi.size).reshape(roi.shape)), 0
    )
    _write_like(spread, path, path)
    manifest = _manifest_with(cohort, GOOD[:1], row, tmp_path / "new.csv")
    out = tmp_path / "f.csv"
    result = _run("extract", manifest, "--params", params, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD[:1]
    errors = pd.read_csv(tmp_path / "f.errors.csv", keep_default_na=False)
    assert errors[["case_id", "sequence", "stage"]].values.tolist() == [
        ["BAD", "T1", "validate"]
    ]
    assert re.fullmatch(
        r"intensities inside the mask range from \S+ to \S+; with binWidth 25 that "
        r"is [\d,]+ grey levels \(at most 10,000,000 bins can be held in a "
        r"histogram\)\. Expected intensities on a smaller scale: .*",
        errors["message"].iloc[0],
    ), errors["message"].iloc[0]
    _write_like(np.where(roi, 1e300, 0.0), path, path)
    result = _run("extract", manifest, "--params", params, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD[:1]
    errors = pd.read_csv(tmp_path / "f.errors.csv", keep_default_na=False)
    assert errors["stage"].tolist() == ["extract"]
    message = errors["message"].iloc[0]
    assert message.startswith(
        "4 feature(s) are infinite (original_firstorder_Energy, original_firstorder_"
        "RootMeanSquared, original_firstorder_TotalEnergy, ...): the intensities are "
        "too large for the features' sums of squares"
    ), message


@pytest.mark.parametrize("fault", ["missing slice", "slice copied twice"])
def test_a_dicom_series_with_a_missing_or_repeated_slice(fault, tmp_path):
    """SimpleITK read such a series with the mean spacing (slices after the gap
    at the wrong place) and no error: the RTSTRUCT then seemed 'drawn on another
    grid', and a mask on the same faulty grid extracted a wrong volume."""
    from tests.conftest import shared_data

    case = shared_data("sts-tcia-sample", "STS_002", "MR_T1", "dicom")
    series = tmp_path / "image"
    shutil.copytree(case / "image", series)
    if fault == "missing slice":
        (series / "000017.dcm").unlink()
        expected = (
            "slices 000016.dcm and 000018.dcm are 6.54 mm apart where the others "
            "are 3.27 mm apart (a missing slice?); 1 of its 33 slice steps differ."
        )
    else:
        shutil.copy(series / "000017.dcm", series / "copy.dcm")
        expected = (
            "slices 000017.dcm and copy.dcm are at the same position (a file copied "
            "twice?); 1 of its 35 slice steps differ."
        )
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        f"case_id,image,mask\nSTS_002,{series},{case / 'mask' / 'RS.dcm'}\n"
    )
    message = (
        f"DICOM series in {series} is not evenly spaced: {expected} Expected one "
        "complete series of evenly spaced slices"
    )
    result = _run("validate", manifest)
    assert result.exit_code == 1
    assert f"- case 'STS_002', file {series}: {message}" in result.output
    result = _run("extract", manifest, "--out", tmp_path / "f.csv", "--no-cache")
    assert result.exit_code == 1
    assert f"failed: STS_002 (read): {series}: {message}" in result.output


@pytest.mark.parametrize(
    ("column", "options", "what"),
    [
        ("patient", ["--group", "patient"], "--group) of {path} is empty for cases "
         "['c03'] (1 of 40); expected a patient id for every case."),
        ("centre", ["--cv", "external", "centre"], "--cv external) of {path} is "
         "empty for cases ['c03'] (1 of 40); expected a centre for every case."),
    ],
)  # fmt: skip
def test_an_empty_patient_or_centre_cell(column, options, what, tmp_path):
    """An empty --group cell failed with "'<' not supported between instances of
    'float' and 'str'"; an empty centre became a centre 'nan' of one case whose
    split failed inside the imputer."""
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0)
    table["patient"] = [f"p{i // 2}" for i in range(40)]
    table["centre"] = ["A"] * 20 + ["B"] * 20
    table.loc["c03", column] = np.nan
    table.to_csv(path)
    result = _evaluate(path, tmp_path, *options)
    assert result.exit_code == 2
    assert f"radsarc: error: Column {column!r} (" + what.format(path=path) in (
        result.output
    )
    assert not (tmp_path / "eval").exists()


def test_synthetic_refuses_a_folder_that_holds_files(tmp_path):
    """`radsarc synthetic DIR` into an existing cohort replaced its manifest.csv
    (and its labels) and the images of the first cases, exit 0."""
    out = tmp_path / "cohort"
    out.mkdir()
    (out / "manifest.csv").write_text("case_id,image,mask,label\nmine,a,b,1\n")
    result = _run("synthetic", out, "--n-cases", 4)
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Folder {out} is not empty (it holds ['manifest.csv']); "
        "writing a synthetic cohort there would replace its manifest.csv and case "
        "folders. Choose a new or empty folder."
    ) in result.output
    assert (out / "manifest.csv").read_text().startswith("case_id,image,mask,label")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.csv"]


def test_a_very_long_case_id_is_cached(fitted_model, tmp_path):
    """A case id of 300 characters made a cache folder name the file system
    refuses (a warning on every run, never cached)."""
    _, cohort, params = fitted_model
    table = _rows(cohort, GOOD[:2])
    table.loc[0, "case_id"] = "x" * 300
    manifest = tmp_path / "m.csv"
    table.to_csv(manifest, index=False)
    args = ("extract", manifest, "--params", params, "--cache-dir", tmp_path / "c")
    first = _run(*args, "--out", tmp_path / "f1.csv")
    assert first.exit_code == 0, first.output
    assert "Could not write" not in first.output
    second = _run(*args, "--out", tmp_path / "f2.csv")
    assert "extracted: 0 computed, 2 from cache, 0 failed" in second.output
    entries = [p.name for p in (tmp_path / "c").iterdir() if p.name.startswith("x")]
    assert len(entries) == 1
    assert len(entries[0]) == 120
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "f1.csv"), pd.read_csv(tmp_path / "f2.csv")
    )


def test_a_text_covariate_asked_for_as_a_feature_is_refused(tmp_path):
    """`--covariate sex` (M/F) was left out of the features without a word."""
    path = _features(tmp_path)
    table = pd.read_csv(path, index_col=0)
    table.insert(0, "sex", ["M", "F"] * 20)
    table.insert(1, "age", np.arange(40) + 30)
    table.to_csv(path)
    (tmp_path / "features.columns.yaml").write_text(
        "case_id: case_id\nclinical: [sex, age]\nn_features: 2\n"
    )
    result = _evaluate(path, tmp_path, "--covariate", "age", "--covariate", "sex")
    assert result.exit_code == 2
    assert (
        f"radsarc: error: --covariate 'sex' of {path} is not a number column "
        "(values ['F', 'M']); a covariate used as a feature must hold numbers"
    ) in result.output
    result = _evaluate(
        path, tmp_path, "--covariate", "age", "--n-repeats", "1", "--no-tuning"
    )
    assert result.exit_code == 0, result.output
    assert "40 cases (20 positive), 3 features;" in result.output


def test_an_image_given_as_the_mask(fitted_model, tmp_path):
    """The image as its own mask (or image and mask swapped): the voxels whose
    intensity equals 1 became the region, and their features were reported."""
    _, cohort, params = fitted_model
    row, dst = _copy_case(cohort, tmp_path)
    image = dst / "T1.nii.gz"
    original = _arr(image).astype(np.float32)
    spread = (np.arange(original.size) % 1500).reshape(original.shape)
    values = (original + spread).round()  # integer intensities, > 1000 of them
    _write_like(values, image, image)
    assert np.unique(values).size > 1000
    row["mask"] = str(image)
    manifest = _manifest_with(cohort, GOOD[:1], row, tmp_path / "new.csv")
    result = _run("validate", manifest)
    assert result.exit_code == 1
    assert (
        f"- case 'BAD', sequence 'T1', file {image}: mask is the image file itself: "
        "it looks like an image, not a segmentation. Check the manifest's mask "
        "column (image and mask swapped?)"
    ) in result.output
    n_values = np.unique(values).size
    assert (
        f"- case 'BAD', sequence 'T2FS', file {image}: mask holds {n_values:,} "
        "distinct values, more than a label image has (at most 1,000): it looks like "
        "an image"
    ) in result.output
    out = tmp_path / "f.csv"
    result = _run("extract", manifest, "--params", params, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["case_id"].tolist() == GOOD[:1]


def test_an_interrupted_run_leaves_the_previous_output(
    fitted_model, tmp_path, monkeypatch
):
    """Ctrl-C (KeyboardInterrupt) mid-run: exit 130, one line saying so, and the
    previous table and side files are untouched (click said only 'Aborted!')."""
    import radsarc.features

    _, cohort, params = fitted_model

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(radsarc.features, "extract_features", interrupted)
    out = tmp_path / "f.csv"
    out.write_text("previous\n")
    (tmp_path / "f.errors.csv").write_text("previous errors\n")
    result = _run("extract", cohort.source, "--params", params, "--out", out)
    assert result.exit_code == 130
    assert result.output == (
        "radsarc: interrupted; nothing was written (files from before the run are "
        "unchanged).\n"
    )
    assert out.read_text() == "previous\n"
    assert (tmp_path / "f.errors.csv").read_text() == "previous errors\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv", "f.errors.csv"]


def test_a_feature_table_with_no_rows(tmp_path):
    path = tmp_path / "features.csv"
    path.write_text("case_id,f1,outcome\n")
    result = _evaluate(path, tmp_path)
    assert result.exit_code == 2
    assert (
        f"radsarc: error: Feature table {path} has no rows; expected one row per "
        "case below the header ['case_id', 'f1', 'outcome']."
    ) in result.output
