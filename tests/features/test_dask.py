"""Extraction on a Dask distributed cluster gives the local result."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from radsarc.cli import main
from radsarc.features import extract_features
from radsarc.images import Cohort
from tests.conftest import PYRADIOMICS_DATA

distributed = pytest.importorskip("distributed")

FAST = {
    "featureClass": {"firstorder": None, "glcm": None, "shape": None},
    "setting": {"binWidth": 10},
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def test_dask_result_cache_and_errors_equal_local(small_cohort, cluster, tmp_path):
    local = extract_features(small_cohort, FAST, return_result=True)
    cache = tmp_path / "cache"
    with (
        distributed.Client(cluster.scheduler_address) as client,
        distributed.get_task_stream(client) as stream,
    ):
        remote = extract_features(
            small_cohort, FAST, cache_dir=cache, scheduler=client, return_result=True
        )
    # The cases ran on the cluster's two worker processes.
    n_tasks = len(small_cohort.case_ids) * len(small_cohort.sequences)
    assert len(stream.data) >= n_tasks
    assert len({task["worker"] for task in stream.data}) == 2
    assert_frame_equal(remote.features, local.features, check_exact=True)
    assert_frame_equal(remote.diagnostics, local.diagnostics, check_exact=True)
    assert remote.n_computed == len(small_cohort.case_ids)
    # The workers wrote the cache: a second run reads every case from it.
    again = extract_features(
        small_cohort,
        FAST,
        cache_dir=cache,
        scheduler=cluster.scheduler_address,
        return_result=True,
    )
    assert again.n_cached == len(small_cohort.case_ids)
    assert again.n_computed == 0
    assert_frame_equal(again.features, local.features, check_exact=True)


def test_dask_errors_table_equals_local(cluster, tmp_path):
    import SimpleITK as sitk

    label = sitk.ReadImage(str(PYRADIOMICS_DATA / "breast1_label.nrrd"))
    sitk.WriteImage(label * 0, str(tmp_path / "empty.nrrd"))
    image = str(PYRADIOMICS_DATA / "breast1_image.nrrd")
    frame = pd.DataFrame(
        {
            "case_id": ["breast1", "empty", "missing"],
            "image": [image, image, image],
            "mask": [
                str(PYRADIOMICS_DATA / "breast1_label.nrrd"),
                str(tmp_path / "empty.nrrd"),
                str(tmp_path / "nothing.nrrd"),
            ],
        }
    )
    cohort = Cohort.from_frame(frame)
    local = extract_features(cohort, FAST, return_result=True)
    remote = extract_features(
        cohort, FAST, scheduler=cluster.scheduler_address, return_result=True
    )
    assert list(remote.features.index) == ["breast1"]
    assert_frame_equal(remote.features, local.features, check_exact=True)
    assert_frame_equal(remote.errors, local.errors)
    assert set(remote.errors["case_id"]) == {"empty", "missing"}


def test_cli_scheduler_option(cluster, tmp_path):
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(
        {
            "case_id": ["breast1"],
            "image": [str(PYRADIOMICS_DATA / "breast1_image.nrrd")],
            "mask": [str(PYRADIOMICS_DATA / "breast1_label.nrrd")],
        }
    ).to_csv(manifest, index=False)
    out = tmp_path / "features.csv"
    args = ["extract", str(manifest), "--out", str(out), "--no-cache", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    local_out = tmp_path / "local.csv"
    args[args.index(str(out))] = str(local_out)
    assert CliRunner().invoke(main, args).exit_code == 0
    assert_frame_equal(pd.read_csv(out), pd.read_csv(local_out), check_exact=True)


def test_missing_distributed_is_a_clear_error(monkeypatch, small_cohort):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'radsarc\[dask\]'"):
        extract_features(small_cohort, FAST, scheduler="tcp://127.0.0.1:1")


def test_bad_scheduler_type_is_rejected(small_cohort):
    with pytest.raises(TypeError, match="scheduler must be a Dask scheduler address"):
        extract_features(small_cohort, FAST, scheduler=8786)
