"""``radsarc extract`` / ``radsarc validate`` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from radsarc.cli import main
from tests.conftest import PYRADIOMICS_DATA, alive, descendants

PARAMS = {
    "featureClass": {"firstorder": None, "glcm": None, "glszm": None, "shape": None},
    "setting": {"binWidth": 10},
}


@pytest.fixture
def params(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(PARAMS))
    return path


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_extract_writes_features_diagnostics_errors_and_summary(
    tmp_path, params, small_cohort
):
    manifest = small_cohort.source
    out = tmp_path / "out" / "features.csv"
    result = _run(
        "extract", manifest, "--params", params, "--out", out, "--n-jobs", 2, "-q"
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[-1]
        == "extracted: 6 computed, 0 from cache, 0 failed"
    )
    table = pd.read_csv(out, index_col="case_id")
    assert table.shape[0] == 6
    assert (tmp_path / "out" / "features.diagnostics.csv").exists()
    from radsarc.features import ExtractionSettings

    written = ExtractionSettings.from_yaml(tmp_path / "out" / "features.settings.yaml")
    assert written.digest == ExtractionSettings.from_yaml(params).digest
    errors = pd.read_csv(tmp_path / "out" / "features.errors.csv")
    assert errors.empty
    assert list(errors.columns)[:3] == ["case_id", "sequence", "stage"]
    # The default cache lives beside the output: a second run reads it.
    again = _run("extract", manifest, "--params", params, "--out", out, "-q")
    assert (
        again.output.splitlines()[-1] == "extracted: 0 computed, 6 from cache, 0 failed"
    )
    assert_frame_equal(pd.read_csv(out, index_col="case_id"), table)


def test_failed_case_gives_exit_0_and_an_errors_table(tmp_path, params):
    manifest = tmp_path / "m.csv"
    pd.DataFrame(
        [
            {
                "case_id": "breast1",
                "image": PYRADIOMICS_DATA / "breast1_image.nrrd",
                "mask": PYRADIOMICS_DATA / "breast1_label.nrrd",
            },
            {
                "case_id": "ghost",
                "image": "ghost.nrrd",
                "mask": PYRADIOMICS_DATA / "breast1_label.nrrd",
            },
        ]
    ).to_csv(manifest, index=False)
    out = tmp_path / "f.csv"
    result = _run(
        "extract", manifest, "--params", params, "--out", out, "--no-cache", "-q"
    )
    assert result.exit_code == 0
    assert (
        result.output.splitlines()[-1]
        == "extracted: 1 computed, 0 from cache, 1 failed"
    )
    ghost = tmp_path / "ghost.nrrd"
    assert f"failed: ghost (read): {ghost}: image file does not exist" in result.output
    errors = pd.read_csv(tmp_path / "f.errors.csv")
    assert errors.to_dict("records")[0]["case_id"] == "ghost"
    assert errors.to_dict("records")[0]["file"].endswith("ghost.nrrd")


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (
            "bad_setting",
            r"radsarc: error: .*Unknown setting 'binwidth'\. Did you mean 'binWidth'",
        ),
        ("no_manifest", r"radsarc: error: Manifest .*nothing\.csv does not exist"),
        ("bad_columns", r"radsarc: error: Manifest .* has no 'case_id' column"),
        ("no_params", r"radsarc: error: Settings file .*none\.yaml does not exist"),
    ],
)
def test_bad_manifest_or_settings_exit_2_with_a_clear_message(
    tmp_path, params, setup, match
):
    manifest = tmp_path / "m.csv"
    pd.DataFrame([{"case_id": "a", "image": "a.nrrd", "mask": "m.nrrd"}]).to_csv(
        manifest, index=False
    )
    args = ["extract", manifest, "--params", params, "--out", tmp_path / "f.csv"]
    if setup == "bad_setting":
        params.write_text("setting:\n  binwidth: 3\n")
    elif setup == "no_manifest":
        args[1] = tmp_path / "nothing.csv"
    elif setup == "bad_columns":
        pd.DataFrame([{"id": "a", "image": "a.nrrd"}]).to_csv(manifest, index=False)
    elif setup == "no_params":
        args[3] = tmp_path / "none.yaml"
    result = _run(*args)
    assert result.exit_code == 2
    import re

    assert re.search(match, result.output), result.output
    assert "Traceback" not in result.output


def test_validate_command(tmp_path, small_cohort):
    ok = _run("validate", small_cohort.source)
    assert ok.exit_code == 0
    assert "6 case(s) checked, no problems." in ok.output
    manifest = tmp_path / "m.csv"
    pd.DataFrame([{"case_id": "x", "image": "x.nrrd", "mask": "y.nrrd"}]).to_csv(
        manifest, index=False
    )
    bad = _run("validate", manifest)
    assert bad.exit_code == 1
    assert "case 'x', file " in bad.output
    assert "x.nrrd: image file does not exist" in bad.output


def test_killed_run_resumes_from_cache_and_gives_the_same_table(
    tmp_path, params, small_cohort
):
    """SIGKILL part-way, run again: finished cases come from the cache."""
    manifest = small_cohort.source
    cache = tmp_path / "cache"
    out = tmp_path / "features.csv"
    # Wavelet filters make each case slow enough to be killed part-way.
    params.write_text(
        yaml.safe_dump({**PARAMS, "imageType": {"Original": {}, "Wavelet": {}}}),
        encoding="utf-8",
    )
    cmd = [
        sys.executable,
        "-m",
        "radsarc",
        "extract",
        manifest,
        "--params",
        str(params),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "-q",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = [p for p in cache.rglob("*.json") if not p.name.startswith(".tmp-")]
        if len(done) >= 2:
            break
        assert proc.poll() is None, "extraction ended before it could be killed"
        time.sleep(0.02)
    assert proc.poll() is None, "extraction ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    n_done = len([p for p in cache.rglob("*.json") if not p.name.startswith(".tmp-")])
    assert 2 <= n_done < 12  # 6 cases x 2 sequences

    resumed = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = resumed.stdout.strip().splitlines()[-1]
    counts = [int(w) for w in summary.replace(",", " ").split() if w.isdigit()]
    computed, cached, failed = counts
    assert failed == 0
    assert computed + cached == 6
    assert cached >= 1, summary
    assert computed >= 1, summary

    fresh = tmp_path / "fresh.csv"
    run = _run(
        "extract", manifest, "--params", params, "--out", fresh, "--no-cache", "-q"
    )
    assert run.exit_code == 0
    assert_frame_equal(
        pd.read_csv(out, index_col="case_id"),
        pd.read_csv(fresh, index_col="case_id"),
        check_exact=True,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_workers_end_with_a_killed_parent(tmp_path, params, small_cohort):
    """kill -9 of the main process: its joblib workers end within seconds
    (measured: without the watchdog they were all alive 30 s later)."""
    cache = tmp_path / "cache"
    params.write_text(
        yaml.safe_dump({**PARAMS, "imageType": {"Original": {}, "Wavelet": {}}}),
        encoding="utf-8",
    )
    cmd = [
        sys.executable, "-m", "radsarc", "extract", small_cohort.source,
        "--params", str(params), "--out", str(tmp_path / "f.csv"),
        "--cache-dir", str(cache), "--n-jobs", "2", "-q",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(list(cache.rglob("*.json"))) >= 2:
                break  # both workers have run tasks
            assert proc.poll() is None, "extraction ended before it could be killed"
            time.sleep(0.02)
        workers = descendants(proc.pid)
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)  # the main process only
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(alive, workers)):
            time.sleep(0.1)
        assert not [p for p in workers if alive(p)]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # this test's own processes
        except ProcessLookupError:
            pass
