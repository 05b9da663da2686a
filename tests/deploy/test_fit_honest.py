"""radsarc fit: the reported out-of-fold AUC is nested, folds keep a patient's
lesions together, and presets for other inputs are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from radsarc.cli import main
from radsarc.deploy import RadiomicsModel, load_model
from radsarc.evaluation import auc_score, positive_scores
from radsarc.evaluation._cv import inner_cv
from radsarc.evaluation._tuning import grid_search
from radsarc.features import extract_features
from radsarc.images import Cohort
from radsarc.presets import get_preset, make_preset


def test_reported_auc_is_nested_not_the_tuned_candidates_own(fitted_model):
    model_path, cohort, params = fitted_model
    summary = load_model(model_path).training_summary_
    assert summary["oof_auc_method"].startswith("nested")
    X = extract_features(cohort, params)
    y = cohort.labels.loc[X.index].astype(int).to_numpy()
    grid = get_preset("peeken2019").param_grid
    outer = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(X, y))
    # What the model was tuned on: the selected candidate's own inner AUC.
    search = grid_search(make_preset("peeken2019"), grid, X, y, outer)
    assert_allclose(
        summary["tuned_inner_auc"], search.mean_scores[search.best_index], rtol=1e-12
    )
    # The nested figure, by hand: tuned again inside every training part.
    scores = np.full(len(y), np.nan)
    for i, (train, test) in enumerate(outer):
        k = int(min(3, np.bincount(y[train]).min()))
        inner = list(inner_cv(k, None, i).split(X.iloc[train], y[train]))
        s = grid_search(make_preset("peeken2019"), grid, X.iloc[train], y[train], inner)
        m = clone(make_preset("peeken2019")).set_params(**s.best_params)
        m.fit(X.iloc[train], y[train])
        scores[test] = positive_scores(m, X.iloc[test])
    assert_allclose(summary["oof_auc"], auc_score(y, scores), rtol=1e-12)


@pytest.fixture(scope="module")
def paired_cohort(fitted_model):
    """The 12-case cohort as 6 patients with two lesions each."""
    _, cohort, params = fitted_model
    table = pd.read_csv(cohort.source)
    table["patient"] = [f"P{i // 2}" for i in range(len(table))]
    # Beside the original manifest, so that relative image paths stay valid.
    path = Path(cohort.source).with_name("manifest_paired.csv")
    table.to_csv(path, index=False)
    return Cohort.from_csv(path), params


def test_folds_keep_a_patients_lesions_together(paired_cohort):
    cohort, params = paired_cohort
    y_all = cohort.labels.astype(int)
    patients = cohort.clinical()["patient"].astype(str)
    # Labels per patient must allow 2 group folds of each class.
    counts = {c: patients[y_all == c].nunique() for c in (0, 1)}
    cv = int(min(3, *counts.values()))
    model = RadiomicsModel(
        preset="peeken2019",
        settings=params,
        cv=cv,
        tuning=False,
        group_column="patient",
    ).fit(cohort)
    assert model.training_summary_["group_column"] == "patient"
    X = extract_features(cohort, params)
    y = y_all.loc[X.index].to_numpy()
    g = patients.loc[X.index].to_numpy()
    folds = list(
        StratifiedGroupKFold(n_splits=cv, shuffle=True, random_state=0).split(X, y, g)
    )
    for train, test in folds:
        assert not set(g[train]) & set(g[test])
    scores = np.full(len(y), np.nan)
    for train, test in folds:
        m = make_preset("peeken2019").fit(X.iloc[train], y[train])
        scores[test] = positive_scores(m, X.iloc[test])
    assert_allclose(model.training_summary_["oof_auc"], auc_score(y, scores))
    with pytest.raises(ValueError, match="group_column 'patient_id' \\(--group\\)"):
        RadiomicsModel(settings=params, cv=cv, group_column="patient_id").fit(cohort)


def test_fit_refuses_delta_and_voxel_presets(fitted_model, tmp_path):
    _, cohort, params = fitted_model
    with pytest.raises(ValueError, match="Preset 'peeken2021' takes delta input"):
        RadiomicsModel(preset="peeken2021", settings=params).fit(cohort)
    result = CliRunner().invoke(
        main,
        [
            "fit", cohort.source, "--preset", "blackledge2019", "--params",
            str(params), "--out", str(tmp_path / "m.radsarc"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Preset 'blackledge2019' takes voxels input" in result.output
