"""The command line answers ``--help`` and missing-file errors without loading
the scientific stack (issue 15: ``radsarc --help`` in well under a second).

Each case runs in a fresh interpreter and lists which heavy modules were
imported: a deterministic stand-in for start-up time (timings themselves are in
benchmarks/, never in tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = [
    "numpy",
    "pandas",
    "scipy",
    "sklearn",
    "imblearn",
    "radiomics",
    "SimpleITK",
    "matplotlib",
    "numba",
    "pydicom",
    "highdicom",
    "skops",
    "joblib",
]
PROBE = """
import json, sys
from click.testing import CliRunner
from radsarc.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
heavy = [m for m in json.loads(HEAVY) if m in sys.modules]
print(json.dumps({"code": result.exit_code, "output": result.output, "heavy": heavy}))
"""


def _probe(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = PROBE.replace("json.loads(HEAVY)", repr(HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--help"], "Commands:"),
        (["extract", "--help"], "--out"),
        (["evaluate", "--help"], "--preset"),
        (["extract", "absent.csv", "--out", "f.csv"], "Manifest absent.csv does not"),
        (["validate", "absent.csv"], "Manifest absent.csv does not exist."),
        (["fit", "absent.csv", "--preset", "gitto2023", "--out", "m"], "Manifest"),
        (["predict", "absent.model", "m.csv", "--out", "p.csv"], "Model file absent"),
        (["maps", "absent.csv", "--out", "maps"], "Manifest absent.csv does not"),
        (
            [
                "evaluate",
                "absent.csv",
                "--label",
                "y",
                "--preset",
                "xu2020",
                "--out",
                "r",
            ],
            "absent.csv",
        ),
        (["extract", "m.csv", "--n-jobs", "zero", "--out", "f.csv"], "Invalid value"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_answers_without_the_scientific_stack(args, message, tmp_path):
    got = _probe(args, tmp_path)
    assert message in got["output"]
    assert got["code"] == (0 if "--help" in args else 2)
    assert got["heavy"] == []


def test_a_command_imports_only_its_own_module(tmp_path):
    """``radsarc extract`` does not load (or compile) the other commands."""
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from radsarc.cli import main\n"
        "result = CliRunner().invoke(main, ['extract', '--help'])\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.startswith('radsarc.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        "radsarc.cli._extract",
        "radsarc.cli._main",
    ]


def test_the_command_table_names_every_command():
    import importlib

    from radsarc.cli import main
    from radsarc.cli._main import COMMAND_MODULES

    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(module)
    assert sorted(main.commands) == sorted(COMMAND_MODULES)
    for name, command in main.commands.items():
        assert command.callback.__module__ == COMMAND_MODULES[name], name
