"""``radsarc evaluate`` with click's CliRunner on small data."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_classification

from radsarc.cli import main
from radsarc.datasets import load_worc_table


def _evaluate(features, label, preset, out, *options):
    """``radsarc evaluate FEATURES --label LABEL --preset PRESET OPTIONS --out OUT``."""
    return CliRunner().invoke(
        main,
        [
            "evaluate",
            str(features),
            "--label",
            label,
            "--preset",
            preset,
            *options,
            "--out",
            str(out),
        ],
    )


@pytest.fixture
def features_csv(tmp_path):
    X, y = make_classification(
        n_samples=60, n_features=8, n_informative=3, class_sep=2.0, random_state=0
    )
    table = pd.DataFrame(
        X,
        columns=[f"f{i}" for i in range(8)],
        index=pd.Index([f"case{i:02d}" for i in range(60)], name="case_id"),
    )
    table.insert(0, "outcome", y)
    table["site"] = np.where(np.arange(60) < 40, "A", "B")
    path = tmp_path / "features.csv"
    table.to_csv(path)
    return path


def test_evaluate_writes_report_and_results(features_csv, tmp_path):
    out = tmp_path / "out"
    res = _evaluate(
        features_csv,
        "outcome",
        "malinauskaite2020",
        out,
        "--n-splits",
        "3",
        "--n-repeats",
        "1",
    )
    assert res.exit_code == 0, res.output
    assert "Ignoring 1 non-numeric column(s): site" in res.output
    table = pd.read_csv(out / "results.csv")
    assert set(table.metric) >= {"auc", "sensitivity", "specificity", "brier"}
    assert (table.model == "malinauskaite2020").all()
    assert table.loc[table.metric == "auc", "mean"].iloc[0] > 0.6
    assert "data:image/png;base64," in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("form", [["external", "site"], ["external=site"]])
def test_external_validation_two_word_cv(features_csv, tmp_path, form):
    out = tmp_path / "ext"
    res = _evaluate(
        features_csv, "outcome", "peeken2019", out, "--cv", *form, "--test-centre", "B"
    )
    assert res.exit_code == 0, res.output
    assert "external validation" in res.output
    table = pd.read_csv(out / "results.csv")
    assert (table.loc[table.metric == "auc", "ci_method"] == "bootstrap").all()


def test_fixed_splits_file(features_csv, tmp_path):
    ids = [f"case{i:02d}" for i in range(60)]
    splits = pd.DataFrame(
        {
            "0_train": ids[:45],
            "0_test": ids[45:] + [None] * 30,
            "1_train": ids[15:],
            "1_test": ids[:15] + [None] * 30,
        }
    )
    spath = tmp_path / "splits.csv"
    splits.to_csv(spath)
    res = _evaluate(
        features_csv,
        "outcome",
        "peeken2019",
        tmp_path / "o",
        "--cv",
        "splits",
        str(spath),
    )
    assert res.exit_code == 0, res.output
    assert "2 fixed train/test splits" in res.output


def test_user_errors_exit_2(features_csv, tmp_path):
    runner = CliRunner()
    base = [
        "evaluate",
        str(features_csv),
        "--preset",
        "peeken2019",
        "--out",
        str(tmp_path / "e"),
    ]
    res = runner.invoke(main, [*base, "--label", "nope"])
    assert res.exit_code == 2
    assert "has no column 'nope'" in res.output
    res = runner.invoke(main, [*base, "--label", "site"])
    assert res.exit_code == 2
    assert "give --positive VALUE" in res.output
    res = runner.invoke(main, [*base, "--label", "outcome", "--cv", "bootstrap"])
    assert res.exit_code == 2
    assert "--cv must be 'nested', 'repeated'" in res.output


def test_shuffled_worc_lipo_labels_give_chance_auc(tmp_path):
    """Null test on WORC-Lipo: mean AUC of 3 label shuffles (5-fold CV each) is
    within 0.50 +- 0.05."""
    X, y = load_worc_table("Lipo")
    aucs = []
    for seed in range(3):
        table = X.copy()
        table.insert(0, "label", np.random.default_rng(seed).permutation(y.to_numpy()))
        path = tmp_path / f"lipo_{seed}.csv"
        table.to_csv(path)
        out = tmp_path / f"null_{seed}"
        res = _evaluate(path, "label", "peeken2019", out, "--n-repeats", "1")
        assert res.exit_code == 0, res.output
        r = pd.read_csv(out / "results.csv")
        aucs.append(r.loc[r.metric == "auc", "mean"].iloc[0])
    assert abs(np.mean(aucs) - 0.5) < 0.05
