"""kill -9 of the main process ends its joblib workers, on every parallel path.

Extraction, maps and ``evaluate`` are covered in tests/cli/test_extract_cli.py;
here the other parallel loops: AutoEnsemble (preset ``auto``), voxel
leave-one-patient-out and survival cross-validation. Each task is replaced (in
the child process's ``__main__``, so that joblib ships it by value) by one that
says it started and then sleeps; the child is killed while every worker sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import alive, descendants

_COMMON = """
import os, sys, time
from pathlib import Path
import numpy as np
import pandas as pd

MARKS = Path(sys.argv[1])

def slow(*args, **kwargs):
    (MARKS / str(os.getpid())).write_text("started")
    time.sleep(120)
"""

_SCRIPTS = {
    "auto": """
import radsarc.model._auto as target
target._score_fold = slow
from radsarc.model._auto import AutoEnsemble
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4))
y = np.arange(40) % 2
AutoEnsemble(n_jobs=2, n_repeats=1).fit(X, y)
""",
    "voxel": """
import radsarc.evaluation._voxel as target
target._fold = slow
index = pd.MultiIndex.from_tuples(
    [(f"p{p}", 0, 0, i) for p in range(4) for i in range(5)],
    names=["case_id", "z", "y", "x"],
)
X = pd.DataFrame({"f": np.arange(20.0), "label": [1, 2, 1, 2, 1] * 4}, index=index)
from sklearn.tree import DecisionTreeClassifier
target.leave_one_patient_out(DecisionTreeClassifier(), X, n_jobs=2)
""",
    "survival": """
import radsarc.evaluation._survival as target
target._split = slow
from sksurv.util import Surv
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
y = Surv.from_arrays(np.arange(30) % 2 == 0, rng.uniform(1, 10, 30))
from sksurv.linear_model import CoxPHSurvivalAnalysis
target.evaluate_survival(CoxPHSurvivalAnalysis(), X, y, n_splits=3, n_repeats=1,
                         n_jobs=2)
""",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("path", sorted(_SCRIPTS))
def test_workers_end_with_a_killed_parent(path, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(_COMMON) + textwrap.dedent(_SCRIPTS[path]))
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marks)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(marks.iterdir())) < 2:
            if proc.poll() is not None:
                pytest.fail(f"{path}: ended early: {proc.stderr.read().decode()}")
            time.sleep(0.05)
        workers = {int(p.name) for p in marks.iterdir()}
        assert len(workers) >= 2, "two workers should be running tasks"
        assert workers <= descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(alive, workers)):
            time.sleep(0.1)
        assert not [p for p in workers if alive(p)], f"{path}: workers outlived"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # this test's own processes
        except ProcessLookupError:
            pass
