"""Saved models: CLI and Python API agree, cut-off from training data, safe loading."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from radsarc import __version__
from radsarc.cli import main
from radsarc.deploy import FORMAT_VERSION, RadiomicsModel, load_model
from radsarc.evaluation import youden_threshold
from radsarc.feature_selection import ICCFilter
from radsarc.features import extract_features
from radsarc.images import Cohort
from tests.conftest import rewrite_model


def test_cli_fit_predict_equals_the_python_api(fitted_model, tmp_path):
    model_path, cohort, params = fitted_model
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(
        main, ["predict", str(model_path), cohort.source, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out)
    assert list(cli.columns) == ["case_id", "probability", "class"]
    assert cli["case_id"].tolist() == cohort.case_ids
    # The saved model, used from Python.
    loaded = load_model(model_path).predict_cohort(cohort)
    assert_allclose(cli["probability"], loaded.predictions["probability"], rtol=1e-15)
    assert (cli["class"] == loaded.predictions["class"]).all()
    # The same model fitted from Python (same seed, folds, settings).
    api = RadiomicsModel(preset="peeken2019", settings=params, cv=3).fit(cohort)
    again = api.predict_cohort(cohort).predictions
    assert_allclose(cli["probability"], again["probability"], rtol=1e-12)
    assert api.threshold_ == pytest.approx(loaded.threshold, rel=1e-12)
    assert (cli["class"] == (cli["probability"] >= loaded.threshold).astype(int)).all()


def test_cutoff_is_youden_on_out_of_fold_training_probabilities(fitted_model):
    model_path, cohort, params = fitted_model
    model = load_model(model_path)
    X = extract_features(cohort, params)
    y = cohort.labels.loc[X.index].astype(int).to_numpy()
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    oof = cross_val_predict(
        clone(model.pipeline_), X, y, cv=folds, method="predict_proba"
    )[:, 1]
    assert model.threshold_ == pytest.approx(youden_threshold(y, oof), rel=1e-12)
    summary = model.training_summary_
    assert summary["n_cases"] == 12
    assert summary["n_positive"] == int(y.sum())
    assert 0.5 <= summary["oof_auc"] <= 1.0


def test_model_file_holds_versions_settings_and_preprocessing(fitted_model):
    model_path, _, _ = fitted_model
    with zipfile.ZipFile(model_path) as archive:
        header = json.loads(archive.read("radsarc-model.json"))
    assert header["format"] == "radsarc-model"
    assert header["format_version"] == FORMAT_VERSION
    assert header["radsarc_version"] == __version__
    assert header["settings"]["setting"] == {"binWidth": 25.0}
    assert header["preprocessing"] == {}
    assert header["preset"] == "peeken2019"
    assert len(header["feature_names"]) > 20


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda h: h.update(radsarc_version="9.3.0"),
            r"written by radsarc 9\.3\.0; this is radsarc .* loads models of radsarc "
            r"0\.1\.x only",
        ),
        (
            lambda h: h.update(format_version=FORMAT_VERSION + 1),
            f"uses model format {FORMAT_VERSION + 1}",
        ),
        (lambda h: h.update(format="something-else"), "is not a radsarc model"),
    ],
    ids=["radsarc-version", "format-version", "not-a-model"],
)
def test_incompatible_files_are_refused(fitted_model, tmp_path, edit, match):
    path = rewrite_model(fitted_model[0], tmp_path / "m.radsarc", edit)
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_a_patch_release_loads(fitted_model, tmp_path):
    major_minor = ".".join(__version__.split(".")[:2])
    path = rewrite_model(
        fitted_model[0],
        tmp_path / "m.radsarc",
        lambda h: h.update(radsarc_version=f"{major_minor}.99"),
    )
    assert load_model(path).radsarc_version_ == f"{major_minor}.99"


def test_modified_pipeline_fails_the_checksum(fitted_model, tmp_path):
    with zipfile.ZipFile(fitted_model[0]) as archive:
        payload = bytearray(archive.read("pipeline.skops"))
    payload[-100] ^= 0xFF
    path = rewrite_model(
        fitted_model[0], tmp_path / "m.radsarc", pipeline=bytes(payload),
        fix_checksum=False,
    )  # fmt: skip
    with pytest.raises(ValueError, match="does not match the checksum"):
        load_model(path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: h.update(threshold=0.01),
        lambda h: h["feature_names"].reverse(),
        lambda h: h["settings"]["setting"].update(binWidth=5.0),
    ],
    ids=["cut-off", "feature-names", "settings"],
)
def test_an_edited_header_fails_the_checksum(fitted_model, tmp_path, edit):
    """The checksum covers the whole file, the header (settings, feature names,
    cut-off) as well as the pipeline."""
    path = rewrite_model(
        fitted_model[0], tmp_path / "m.radsarc", edit, fix_checksum=False
    )
    with pytest.raises(
        ValueError,
        match=r"its header \(settings, feature names, cut-off\) "
        r"\(radsarc-model\.json\) does not match the checksum recorded",
    ):
        load_model(path)


def test_a_model_file_without_checksums_or_with_extra_members(fitted_model, tmp_path):
    src = fitted_model[0]
    with zipfile.ZipFile(src) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    bare = tmp_path / "bare.radsarc"
    with zipfile.ZipFile(bare, "w") as archive:
        for name in ("radsarc-model.json", "pipeline.skops"):
            archive.writestr(name, members[name])
    with pytest.raises(ValueError, match="has no checksum member"):
        load_model(bare)
    extra = tmp_path / "extra.radsarc"
    with zipfile.ZipFile(extra, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("payload.py", "import os")
    with pytest.raises(ValueError, match=r"never has: \['payload\.py'\]"):
        load_model(extra)


def test_missing_feature_columns_are_named(fitted_model):
    model = load_model(fitted_model[0])
    X = pd.DataFrame(
        np.zeros((2, len(model.feature_names_))), columns=model.feature_names_
    ).drop(columns=model.feature_names_[:2])
    with pytest.raises(ValueError, match=r"lacks 2 column\(s\) the model was trained"):
        model.predict_features(X)


def test_harmonised_model_with_stability_filter_round_trips(fitted_model, tmp_path):
    _, cohort, params = fitted_model
    names = extract_features(cohort.subset(cohort.case_ids[:2]), params).columns
    icc = pd.DataFrame(
        {"ICC(2,1)": np.where(np.arange(len(names)) % 4 == 0, 0.5, 0.9)}, index=names
    )
    model = RadiomicsModel(
        preset="peeken2019",
        settings=params,
        cv=3,
        harmonise=True,
        params={"stability": ICCFilter(icc=icc)},
    ).fit(cohort)
    assert model.feature_names_[-1] == "group"
    stability = model.pipeline_.named_steps["stability"]
    assert stability.support_.sum() == len(names) - len(names[::4])
    path = model.save(tmp_path / "harmonised.radsarc")
    # A new case from an unseen centre is reported; the others are scored.
    table = pd.read_csv(cohort.source, dtype=str)
    table.loc[0, "group"] = "centre-Z"
    new = Cohort.from_frame(table, root=cohort.source.rsplit("/", 1)[0])
    result = load_model(path).predict_cohort(new)
    assert result.errors["case_id"].tolist() == [cohort.case_ids[0]]
    assert result.errors["stage"].tolist() == ["harmonise"]
    assert "group 'centre-Z' was not seen in training" in result.errors["message"][0]
    expected = model.predict_cohort(cohort).predictions.iloc[1:]
    assert_allclose(
        result.predictions["probability"], expected["probability"], rtol=1e-12
    )


def test_fit_tunes_the_preset_grid_on_the_training_folds(fitted_model):
    from radsarc.evaluation._tuning import grid_search
    from radsarc.presets import get_preset, make_preset

    model_path, cohort, params = fitted_model
    model = load_model(model_path)
    best = model.training_summary_["best_params"]
    grid = get_preset("peeken2019").param_grid
    assert set(best) == set(grid)
    # The same search, done by hand on the same features and folds.
    X = extract_features(cohort, params)
    y = cohort.labels.loc[X.index].astype(int).to_numpy()
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(X, y))
    search = grid_search(make_preset("peeken2019"), grid, X, y, folds)
    assert best == search.best_params
    assert model.pipeline_.get_params()["classifier__C"] == best["classifier__C"]
    untuned = RadiomicsModel(preset="peeken2019", settings=params, cv=3, tuning=False)
    assert untuned.fit(cohort).training_summary_["best_params"] == {}


def test_fit_and_predict_take_roi_for_rtstruct_cases_and_the_model_keeps_it(
    tmp_path,
):
    """--roi in a cohort mixing RTSTRUCT and NIfTI masks (real TCIA patients);
    the model saves it and uses it for new cases; predict --roi overrides it."""
    import yaml

    from tests.conftest import FIT_PARAMS, shared_data

    rows = []
    for patient in ("STS_001", "STS_002", "STS_003"):
        t1 = shared_data("sts-tcia-sample", patient, "MR_T1")
        rows.append(
            {
                "case_id": f"{patient}_rt",
                "image": t1 / "dicom" / "image",
                "mask": t1 / "dicom" / "mask" / "RS.dcm",
                "label": 1,
            }
        )
        rows.append(
            {
                "case_id": f"{patient}_nii",
                "image": t1 / "nifti" / "image" / "image.nii.gz",
                "mask": t1 / "nifti" / "mask" / "mask.nii.gz",
                "label": 0,
            }
        )
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(FIT_PARAMS), encoding="utf-8")
    model_path = tmp_path / "model.radsarc"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "fit", str(manifest), "--preset", "peeken2019", "--params", str(params),
            "--cv", "3", "--no-tuning", "--roi", "gtv_mass.*", "--out",
            str(model_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fitted on 6 cases (3 positive)" in result.output
    model = load_model(model_path)
    assert model.roi == ["gtv_mass.*"]
    assert model.training_errors_.empty
    # Scoring: the saved roi applies to the RTSTRUCT cases only.
    out = tmp_path / "pred.csv"
    result = runner.invoke(
        main, ["predict", str(model_path), str(manifest), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out)
    assert pred["case_id"].tolist() == [r["case_id"] for r in rows]
    # DICOM + RTSTRUCT and NIfTI image + mask of a patient: the same features.
    by_case = pred.set_index("case_id")["probability"]
    for patient in ("STS_001", "STS_002", "STS_003"):
        assert by_case[f"{patient}_rt"] == pytest.approx(
            by_case[f"{patient}_nii"], abs=1e-6
        )
    # predict --roi overrides the saved structure: a name the RTSTRUCTs lack
    # fails their cases (named), the NIfTI cases are still scored.
    result = runner.invoke(
        main,
        [
            "predict",
            str(model_path),
            str(manifest),
            "--roi",
            "Bladder",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "failed: STS_001_rt" in result.output
    assert "no structure matching 'Bladder'" in result.output
    assert pd.read_csv(out)["case_id"].tolist() == [
        f"{p}_nii" for p in ("STS_001", "STS_002", "STS_003")
    ]
    # The saved roi is what predict uses without --roi.
    forged = rewrite_model(
        model_path, tmp_path / "forged.radsarc", lambda h: h.update(roi=["Bladder"])
    )
    result = runner.invoke(
        main, ["predict", str(forged), str(manifest), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "failed: STS_002_rt" in result.output
