"""RadiomicsModel predicts like a scikit-learn classifier; progress bars; old names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from radsarc.deploy import RadiomicsModel, load_model
from radsarc.features import extract_features
from radsarc.images import Cohort


def test_predict_proba_and_predict_on_cohort_manifest_and_features(fitted_model):
    model_path, cohort, params = fitted_model
    model = load_model(model_path)
    expected = model.predict_cohort(cohort).predictions
    assert_array_equal(model.classes_, [0, 1])
    for X in (cohort, cohort.source, str(cohort.source)):
        proba = model.predict_proba(X)
        assert proba.shape == (len(cohort), 2)
        assert_allclose(proba[:, 1], expected["probability"], rtol=1e-15)
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    # A feature table, here with the manifest columns radsarc extract writes and
    # the rows in another order: rows follow X, columns are picked by name.
    result = extract_features(cohort, params, return_result=True)
    table = result.to_frame().iloc[::-1]
    proba = model.predict_proba(table)
    assert_allclose(proba[:, 1], expected["probability"].to_numpy()[::-1], rtol=1e-15)
    classes = model.predict(table)
    assert classes.dtype.kind == "i"
    assert_array_equal(classes, expected["class"].to_numpy()[::-1])
    assert_array_equal(classes, (proba[:, 1] >= model.threshold_).astype(int))


def test_predict_proba_names_a_case_that_cannot_be_scored(fitted_model, tmp_path):
    model_path, cohort, _ = fitted_model
    table = pd.read_csv(cohort.source, dtype=str)
    table.loc[1, "image_T1"] = "missing/T1.nii.gz"
    manifest = Path(cohort.source).parent / "broken.csv"
    table.to_csv(manifest, index=False)
    model = load_model(model_path)
    bad = table.loc[1, "case_id"]
    with pytest.raises(
        ValueError, match=rf"1 case\(s\) could not be scored: case '{bad}'"
    ):
        model.predict_proba(manifest)
    # predict_cohort keeps the others.
    assert len(model.predict_cohort(manifest).predictions) == len(cohort) - 1
    with pytest.raises(TypeError, match="X must be a feature DataFrame"):
        model.predict(np.zeros((2, 3)))


def test_fit_and_predict_show_progress_bars_on_stderr(fitted_model, capsys):
    _, cohort, params = fitted_model
    quiet = RadiomicsModel(
        preset="peeken2019", settings=params, cv=3, tuning=False
    ).fit(cohort)
    assert capsys.readouterr().err == ""
    model = RadiomicsModel(
        preset="peeken2019", settings=params, cv=3, tuning=False, progress=True
    ).fit(cohort)
    err = capsys.readouterr().err
    assert "extract" in err
    assert f"/{2 * len(cohort)} [" in err
    assert "choose the cut-off" in err
    assert "/3 [" in err
    assert model.threshold_ == quiet.threshold_
    model.predict_proba(cohort)
    assert "extract" in capsys.readouterr().err
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        RadiomicsModel(preset="peeken2019", progress="yes").fit(cohort)


def test_tune_is_a_deprecated_alias_of_tuning(fitted_model):
    _, cohort, params = fitted_model
    old = RadiomicsModel(preset="peeken2019", settings=params, cv=3, tune=False)
    with pytest.warns(FutureWarning, match=r"tune=\.\.\.\) is deprecated; use tuning"):
        old.fit(cohort)
    assert old.training_summary_["best_params"] == {}


def test_cohort_object_and_manifest_give_the_same_prediction(fitted_model):
    model_path, cohort, _ = fitted_model
    model = load_model(model_path)
    again = Cohort.from_csv(cohort.source)
    assert_allclose(model.predict_proba(again), model.predict_proba(cohort))
