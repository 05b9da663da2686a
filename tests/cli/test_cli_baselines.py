"""``radsarc evaluate``: baselines on the same splits, options, failed presets."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from radsarc.cli import main


@pytest.fixture
def table_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    y = np.repeat([0, 1], n // 2)
    table = pd.DataFrame(
        {
            "outcome": y,
            "age": 50 + 12 * y + rng.normal(0, 6, n),
            "sex": rng.choice(["F", "M"], n),
            "T1_original_shape_MeshVolume": np.exp(10 + 1.2 * y + rng.normal(0, 1, n)),
            **{f"T1_original_firstorder_f{i}": rng.normal(size=n) for i in range(5)},
        },
        index=pd.Index([f"case{i:02d}" for i in range(n)], name="case_id"),
    )
    path = tmp_path / "features.csv"
    table.to_csv(path)
    return path


def _evaluate(path, out, *extra):
    args = [
        "evaluate", str(path), "--label", "outcome", "--preset", "peeken2019",
        "--n-splits", "3", "--n-repeats", "1", "--out", str(out), *extra,
    ]  # fmt: skip
    return CliRunner().invoke(main, args)


def test_volume_and_clinical_baselines_in_results_report_and_output(
    table_csv, tmp_path
):
    out = tmp_path / "out"
    res = _evaluate(table_csv, out, "--clinical", "age,sex", "--no-tuning")
    assert res.exit_code == 0, res.output
    assert "peeken2019 does not beat tumour volume: ΔAUC" in res.output or (
        "peeken2019 is worse than tumour volume: ΔAUC" in res.output
    )
    assert "baseline tumour volume (T1_original_shape_MeshVolume): mean AUC" in (
        res.output
    )
    assert "baseline clinical (age, sex): mean AUC" in res.output
    table = pd.read_csv(out / "results.csv")
    auc = table[table.metric == "auc"].set_index("model")
    assert auc.loc["peeken2019", "role"] == "model"
    assert auc.loc["tumour volume", "role"] == "baseline"
    assert auc.loc["clinical", "role"] == "baseline"
    verdict = auc.loc["peeken2019", "verdict_vs_volume"]
    assert verdict.startswith("peeken2019 ")
    assert "tumour volume: ΔAUC" in verdict
    delta = auc.loc["peeken2019", "delta_auc_vs_volume"]
    np.testing.assert_allclose(
        delta,
        auc.loc["peeken2019", "mean"] - auc.loc["tumour volume", "mean"],
        atol=1e-9,
    )
    assert auc.loc["peeken2019", "verdict_vs_clinical"].startswith("peeken2019 ")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Against the baselines" in html
    assert "tumour volume: ΔAUC" in html
    assert (out / "baselines.png").is_file()
    # The covariates are the clinical model's, not radiomic features.
    assert "5 features" not in res.output
    assert "6 features;" in res.output  # volume + 5 first-order


def test_named_baseline_and_no_baseline(table_csv, tmp_path):
    res = _evaluate(
        table_csv, tmp_path / "a", "--baseline", "T1_original_firstorder_f0",
        "--no-tuning",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "baseline tumour volume (T1_original_firstorder_f0)" in res.output
    res = _evaluate(table_csv, tmp_path / "b", "--no-baseline", "--no-tuning")
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "b" / "results.csv")
    assert set(table.role) == {"model"}
    assert "verdict_vs_volume" not in table.columns
    res = _evaluate(table_csv, tmp_path / "c", "--baseline", "nope")
    assert res.exit_code == 2
    assert "The baseline column 'nope' is not in the feature table" in res.output
    res = _evaluate(table_csv, tmp_path / "d", "--clinical", "age,weight")
    assert res.exit_code == 2
    assert "--clinical 'weight' is not a column of" in res.output


def test_delta_and_voxel_presets_are_refused(table_csv, tmp_path):
    for name, kind in (("peeken2021", "delta"), ("blackledge2019", "voxels")):
        res = CliRunner().invoke(
            main,
            [
                "evaluate", str(table_csv), "--label", "outcome", "--preset", name,
                "--out", str(tmp_path / name),
            ],
        )  # fmt: skip
        assert res.exit_code == 2
        assert f"Preset {name!r} takes {kind} input" in res.output
        assert not (tmp_path / name / "results.csv").exists()


def test_a_failing_preset_is_a_failed_row_and_the_others_finish(
    table_csv, tmp_path, monkeypatch
):
    import radsarc.evaluation as evaluation

    real = evaluation.evaluate

    def flaky(name, *args, **kwargs):
        if name == "gitto2023":
            raise ValueError("gitto2023, split 0: the selector kept no feature")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate", flaky)
    out = tmp_path / "out"
    res = _evaluate(table_csv, out, "--preset", "gitto2023", "--no-tuning")
    assert res.exit_code == 0, res.output
    assert "gitto2023: FAILED - ValueError: gitto2023, split 0" in res.output
    table = pd.read_csv(out / "results.csv")
    failed = table[table.role == "failed"]
    assert failed.model.tolist() == ["gitto2023"]
    assert failed.message.iloc[0].endswith("the selector kept no feature")
    assert "peeken2019" in set(table.model)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<b>gitto2023</b> failed: ValueError" in html
