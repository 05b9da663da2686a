"""``radsarc evaluate`` and ``radsarc benchmark`` on a Dask cluster (127.0.0.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from sklearn.datasets import make_classification

from radsarc.cli import main

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


def _results(out):
    table = pd.read_csv(out / "results.csv")
    return table.sort_values(list(table.columns[:2])).reset_index(drop=True)


def _local_and_on_dask(args, tmp_path, scheduler):
    """``radsarc ARGS`` run here and on the cluster: both succeed and write the
    same results table, which is returned."""
    local = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "local")])
    remote = CliRunner().invoke(
        main, [*args, "--out", str(tmp_path / "dask"), "--scheduler", scheduler]
    )
    assert local.exit_code == 0, local.output
    assert remote.exit_code == 0, remote.output
    assert_frame_equal(_results(tmp_path / "local"), _results(tmp_path / "dask"))
    return _results(tmp_path / "dask")


# ``radsarc benchmark`` of one preset on WORC-Lipo (add --splits N).
_BENCHMARK = ("benchmark", "--dataset", "worc-lipo", "--presets", "peeken2019")


def test_evaluate_on_dask_equals_local(tmp_path, scheduler):
    X, y = make_classification(
        n_samples=60, n_features=8, n_informative=3, class_sep=1.5, random_state=1
    )
    table = pd.DataFrame(
        X,
        columns=[f"f{i}" for i in range(8)],
        index=pd.Index([f"c{i:02d}" for i in range(60)], name="case_id"),
    )
    table.insert(0, "outcome", y)
    path = tmp_path / "features.csv"
    table.to_csv(path)
    args = [
        "evaluate",
        str(path),
        "--label",
        "outcome",
        "--preset",
        "peeken2019",
        "--n-splits",
        "3",
        "--n-repeats",
        "2",
    ]
    results = _local_and_on_dask(args, tmp_path, scheduler)
    auc = results.query("metric == 'auc'")["mean"].iloc[0]
    assert auc > 0.7


def test_benchmark_on_dask_equals_local(tmp_path, scheduler):
    results = _local_and_on_dask([*_BENCHMARK, "--splits", "2"], tmp_path, scheduler)
    assert np.isfinite(results["mean"]).any()


def test_unreachable_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("radsarc._parallel.CONNECT_TIMEOUT", "2s")
    res = CliRunner().invoke(
        main,
        [
            *_BENCHMARK,
            "--splits",
            "1",
            "--out",
            str(tmp_path),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert res.exit_code == 2
    assert "radsarc: error: Cannot connect to the Dask scheduler at" in res.output
    assert "Traceback" not in res.output
