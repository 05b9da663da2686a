"""Presets: the public contract, and a fit on WORC-Lipo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterGrid

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.presets import Preset, get_preset, list_presets, make_preset

NAMES = [
    "auto",
    "blackledge2019",
    "gitto2023",
    "liang2022",
    "malinauskaite2020",
    "peeken2019",
    "peeken2021",
    "vallieres2015",
    "xu2020",
]
# keep the forest/bootstrap presets cheap in tests
FAST = {
    "gitto2023": {"classifier__n_estimators": 20},
    "xu2020": {"classifier__n_estimators": 20},
    "peeken2021": {"classifier__n_estimators": 20},
    "vallieres2015": {"classifier__n_bootstrap": 5},
    "auto": {
        "classifier__candidates": ["peeken2019", "volume", "kbest_lr"],
        "classifier__cv": 3,
    },
}
METRICS = {"auc", "sensitivity", "specificity", "accuracy"}


def test_list_presets():
    assert list_presets() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_preset_metadata_and_grid(name):
    preset = get_preset(name)
    assert isinstance(preset, Preset)
    assert preset.name == name
    assert preset.doi.startswith("10.")
    assert preset.citation
    assert preset.sequences
    assert preset.departures
    assert set(preset.reported_metrics) <= METRICS
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.name = "other"
    pipe = preset.make()
    assert isinstance(pipe, Pipeline)
    assert pipe.steps[-1][0] == "classifier"
    params = pipe.get_params()
    assert set(preset.param_grid) <= set(params)
    assert 1 <= len(ParameterGrid(preset.param_grid)) <= 6
    for point in ParameterGrid(preset.param_grid):
        pipe.set_params(**point)


#: Table 1 of Voigtlaender et al. (2025), copied from the seed review
#: (../shared/seed/voigtlander2025-mri-cnn-sts-review.txt) as printed.
TABLE1 = Path(__file__).parents[1] / "data" / "voigtlander2025_table1.tsv"
_AUTHORS = {
    "Gitto": "gitto2023",
    "Malinauskaite": "malinauskaite2020",
    "Peeken 2019": "peeken2019",
    "Xu": "xu2020",
    "Blackledge": "blackledge2019",
    "Peeken 2021": "peeken2021",
    "Liang": "liang2022",
}


def _review_rows() -> dict[str, dict]:
    table = pd.read_csv(TABLE1, sep="\t", dtype=str).fillna("")
    rows = {}
    for _, r in table.iterrows():
        author = r["Author"].split(" et al.")[0]
        key = f"{author} {r['Year']}" if author == "Peeken" else author
        if key in _AUTHORS:
            metrics = {
                m: float(r[col])
                for m, col in (
                    ("auc", "AUC"),
                    ("sensitivity", "Sensitivity"),
                    ("specificity", "Specificity"),
                    ("accuracy", "Accuracy"),
                )
                if r[col] not in ("", "\u2013")
            }
            rows[_AUTHORS[key]] = {
                "n": int(r["n"]),
                "model": r["Best performed CNN"],
                "metrics": metrics,
            }
    return rows


def test_review_figures_are_table_1_and_every_figure_names_its_source():
    rows = _review_rows()
    assert set(rows) == set(_AUTHORS.values())
    for name, row in rows.items():
        preset = get_preset(name)
        assert preset.review_metrics == row["metrics"], name
        assert preset.review_model == row["model"], name
        assert str(row["n"]) in preset.cohort or name in (
            "blackledge2019",
            "malinauskaite2020",
        ), name
    for name in list_presets():
        preset = get_preset(name)
        if preset.reported_metrics or preset.review_metrics:
            assert preset.reported_source, name
    # Where the preset's own figures differ from the review's, both are said.
    liang = get_preset("liang2022")
    assert liang.reported_metrics == {"auc": 0.799}
    assert "351" in liang.cohort
    assert "nomogram" in liang.reported_source
    assert get_preset("peeken2021").reported_metrics == {"auc": 0.75}
    assert "0.79" in get_preset("peeken2021").reported_source
    black = get_preset("blackledge2019")
    assert black.review_model == "RF"
    assert "naive Bayes" in black.reported_source
    assert "0.981" in black.reported_source
    assert "abstract" in " ".join(get_preset("xu2020").departures)
    for name in ("gitto2023", "malinauskaite2020", "peeken2019", "xu2020"):
        assert get_preset(name).reported_metrics == rows[name]["metrics"], name


def test_sampler_step_name():
    names = [name for name, _ in make_preset("liang2022").steps]
    assert names[-2:] == ["sampler", "classifier"]


def test_overrides_and_errors():
    pipe = make_preset("gitto2023", classifier__n_estimators=7)
    assert pipe.get_params()["classifier__n_estimators"] == 7
    with pytest.raises(
        ValueError,
        match=r"Unknown preset 'gito2023'; known presets: "
        r"\[.*'gitto2023'.*Did you mean 'gitto2023'\?",
    ):
        make_preset("gito2023")
    with pytest.raises(
        ValueError, match=r"Unknown parameter\(s\) \['classifier__nope'\]"
    ):
        make_preset("xu2020", classifier__nope=1)


@pytest.fixture(scope="module")
def lipo():
    X, y = load_worc_table("Lipo")
    train, test = load_worc_splits("Lipo")[0]
    return X, y, train, test


# blackledge2019 classifies voxels; tests/evaluation/test_voxel_lopo.py checks it.
@pytest.mark.parametrize("name", [n for n in NAMES if n != "blackledge2019"])
def test_preset_fits_worc_lipo(lipo, name):
    X, y, train, test = lipo
    model = make_preset(name, **FAST.get(name, {})).fit(X.loc[train], y.loc[train])
    proba = model.predict_proba(X.loc[test])[:, 1]
    assert proba.shape == (len(test),)
    # WORC-Lipo is learnable: every preset beats chance on split 0
    assert roc_auc_score(y.loc[test], proba) > 0.6


@pytest.mark.parametrize("name", NAMES)
def test_preset_nan_constant_and_string_labels(lipo, name):
    X, y, train, _ = lipo
    X = X.loc[train].iloc[:, :60].copy()
    X.iloc[::5, 3] = np.nan
    X.iloc[:, 7] = 1.0
    labels = y.loc[train].map({0: "lipoma", 1: "liposarcoma"})
    model = make_preset(name, **FAST.get(name, {})).fit(X, labels)
    assert set(model.predict(X)) <= {"lipoma", "liposarcoma"}


def test_list_presets_by_input_kind():
    from radsarc.presets import get_preset, list_presets

    tabular = list_presets("features")
    assert tabular == [
        "auto",
        "gitto2023",
        "liang2022",
        "malinauskaite2020",
        "peeken2019",
        "vallieres2015",
        "xu2020",
    ]
    assert list_presets("delta") == ["peeken2021"]
    assert list_presets("voxels") == ["blackledge2019"]
    assert sorted(tabular + ["peeken2021", "blackledge2019"]) == list_presets()
    assert get_preset("peeken2021").input == "delta"
    with pytest.raises(ValueError, match=r"input must be one of \['features', 'delta'"):
        list_presets("images")
