"""Stage packages resolve their public names on first use (PEP 562)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = [
    "images",
    "features",
    "datasets",
    "feature_selection",
    "harmonisation",
    "model",
    "evaluation",
    "report",
    "deploy",
]


@pytest.mark.parametrize("stage", STAGES)
def test_every_public_name_resolves(stage):
    package = importlib.import_module(f"radsarc.{stage}")
    for name in package.__all__:
        value = getattr(package, name)
        assert value is not None, name
        assert name in dir(package)
    with pytest.raises(AttributeError, match=rf"radsarc.{stage}' has no attribute"):
        package.no_such_name  # noqa: B018


@pytest.mark.parametrize("stage", STAGES)
def test_names_are_listed_under_the_module_that_exports_them(stage):
    """A stage's table and its modules' ``__all__`` stay in step: every name a
    stage lists under one of its modules is in that module's ``__all__``."""
    package = importlib.import_module(f"radsarc.{stage}")
    for module, names in package.__getattr__.modules.items():
        if not module.startswith("radsarc."):
            continue
        exported = set(importlib.import_module(module).__all__)
        assert set(names) <= exported, (module, sorted(set(names) - exported))


def test_a_name_listed_under_two_modules_is_refused():
    from radsarc._lazy import lazy_attributes

    with pytest.raises(ValueError, match=r"pkg: 'f' is listed under 'pkg._a' and"):
        lazy_attributes("pkg", {"pkg._a": ["f", "g"], "pkg._b": ["f"]})
    _, _, names = lazy_attributes("pkg", {"pkg._b": ["z", "a"], "pkg._a": ["m"]})
    assert names == ["a", "m", "z"]


def test_importing_the_stages_loads_nothing_heavy():
    code = (
        "import json, sys\n"
        + "".join(f"import radsarc.{s}\n" for s in STAGES)
        + "print(json.dumps([m for m in ('numpy', 'pandas', 'scipy', 'sklearn', "
        "'radiomics', 'SimpleITK', 'matplotlib', 'numba') if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == []
