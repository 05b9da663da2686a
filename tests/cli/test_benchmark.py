"""``radsarc benchmark`` on a small slice of the WORC protocol."""

import pandas as pd
from click.testing import CliRunner

from radsarc.cli import main
from radsarc.cli._benchmark import DEFAULT_SPLITS


def test_benchmark_small(tmp_path):
    out = tmp_path / "bench"
    res = CliRunner().invoke(
        main,
        [
            "benchmark",
            "--dataset",
            "worc-lipo",
            "--presets",
            "peeken2019",
            "--splits",
            "2",
            "--n-jobs",
            "1",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "WORC-Lipo (WORC published: 0.83)" in res.output
    table = pd.read_csv(out / "results.csv")
    auc = table[table.metric == "auc"].iloc[0]
    assert auc["dataset"] == "WORC-Lipo"
    assert auc["published"] == 0.83
    assert auc["n_splits"] == 2
    assert 0.6 < auc["mean"] <= 1.0
    # The tumour-volume baseline on the same splits, and the verdict.
    base = table[(table.metric == "auc") & (table.role == "baseline")]
    assert base.model.tolist() == ["tumour volume"]
    assert 0.5 < base["mean"].iloc[0] < 0.95
    assert auc["verdict_vs_volume"].startswith("peeken2019 ")
    assert "tumour volume: ΔAUC" in auc["verdict_vs_volume"]
    assert "baseline tumour volume (MR_original_shape_MeshVolume)" in res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 5
    assert "WORC&#x27;s splits 0-1 of 100" in html
    assert (out / "roc.png").is_file()


def test_benchmark_rejects_unknown_preset(tmp_path):
    res = CliRunner().invoke(
        main, ["benchmark", "--presets", "nope", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2
    assert "nope" in res.output


def test_default_splits_is_small():
    assert 1 <= DEFAULT_SPLITS <= 10


def test_every_preset_failed_keeps_the_previous_report(tmp_path, monkeypatch):
    """It used to replace results.csv and report.html by a failures-only report
    before exiting non-zero."""
    import radsarc.evaluation as evaluation

    def failing(name, *args, **kwargs):
        raise ValueError(f"{name}, split 0: the selector kept no feature")

    monkeypatch.setattr(evaluation, "evaluate", failing)
    out = tmp_path / "bench"
    out.mkdir()
    (out / "results.csv").write_text("previous\n")
    (out / "report.html").write_text("previous")
    res = CliRunner().invoke(
        main,
        ["benchmark", "--dataset", "worc-lipo", "--presets", "peeken2019",
         "--splits", "1", "--n-jobs", "1", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert (
        "radsarc: error: Every preset failed on every table; nothing was written "
        f"({out / 'results.csv'} and {out / 'report.html'} are unchanged)."
    ) in res.output
    assert (out / "results.csv").read_text() == "previous\n"
    assert (out / "report.html").read_text() == "previous"
