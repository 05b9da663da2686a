"""README.md and .ci/run agree: CI installs and tests exactly as the README says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ci_command(marker: str) -> str:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return lines[lines.index(f"# README: {marker}") + 1].strip()


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", text, re.S)
        for line in block.splitlines()
    ]


def test_ci_installs_and_tests_as_the_readme_says():
    commands = _readme_blocks()
    assert _ci_command("install") == commands[0]
    assert _ci_command("test") in commands
    assert _ci_command("install").startswith("pip install")
    assert "pytest" in _ci_command("test")
