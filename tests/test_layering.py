"""The data flows one way: a stage may import an earlier stage, never a later one.

images -> features -> datasets -> feature_selection -> harmonisation -> model ->
evaluation -> report -> deploy (saved models); the CLI sits on top. ``datasets``
turns public data into cohorts and tables, so it may use images and features, and
every later stage may use it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "radsarc"
ORDER = [
    "images",
    "features",
    "datasets",
    "feature_selection",
    "harmonisation",
    "model",
    "presets",
    "evaluation",
    "report",
    "deploy",
    "cli",
]
# Modules every stage may use.
BASE = {
    "exceptions",
    "_version",
    "_parallel",
    "_files",
    "_progress",
    "_lazy",
    "__init__",
    "__main__",
}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "radsarc" or len(parts) < 2:
        return None
    return parts[1].removesuffix(".py")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        stage = rel.parts[0].removesuffix(".py")
        if stage in ORDER:
            yield pytest.param(path, stage, id=str(rel))


def test_every_stage_is_known():
    stages = {
        p.name.removesuffix(".py")
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"
    }
    assert stages - set(ORDER) - BASE == set()


@pytest.mark.parametrize(("path", "stage"), list(_modules()))
def test_no_import_of_a_later_stage(path, stage):
    rank = ORDER.index(stage)
    for module in _imports(path):
        target = _stage(module)
        if target is None or target in BASE or target == stage:
            continue
        assert target in ORDER, f"{path}: imports unknown radsarc part {module}"
        assert ORDER.index(target) <= rank, (
            f"{path.relative_to(PACKAGE)} (stage {stage!r}) imports {module} of the "
            f"later stage {target!r}"
        )


def test_pyradiomics_is_behind_one_module():
    users = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(m == "radiomics" or m.startswith("radiomics.") for m in _imports(path))
    ]
    # The extraction engine, and the voxel-based map engine, which runs
    # pyradiomics' own feature formulas on the matrices it computes.
    assert sorted(users) == ["features/_maps_engine.py", "features/_pyradiomics.py"]
