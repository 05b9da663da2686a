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


def _python_block(section: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert len(blocks) == 1, f"expected one python block under '## {section}'"
    return blocks[0]


def test_the_readme_script_runs_as_written(tmp_path, monkeypatch, capsys):
    """The "In a script" example, run verbatim in an empty folder."""
    code = _python_block("In a script")
    assert '"mri"' in code  # the bundled settings, usable from any folder
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    result, res = namespace["result"], namespace["res"]
    assert result.features.shape[0] == 20
    assert result.errors.empty
    assert list(result.to_frame().columns[:4]) == ["label", "group", "age", "sex"]
    assert 0.0 <= res.mean_auc <= 1.0
    assert "mean" in capsys.readouterr().out
    assert (tmp_path / "demo" / "manifest.csv").is_file()
    assert (tmp_path / "cache").is_dir()


def test_the_readme_cli_example_uses_existing_options():
    """Every `radsarc` line of the README parses (its --help runs)."""
    from click.testing import CliRunner

    from radsarc.cli import main

    lines = [c for c in _readme_blocks() if c.startswith("radsarc ")]
    assert any("--settings mri" in c for c in lines)
    for line in lines:
        args = line.split()[1:]
        command = main.get_command(None, args[0])
        assert command is not None, line
        ctx = command.make_context(args[0], args[1:], resilient_parsing=True)
        names = {o for p in command.params for o in getattr(p, "opts", [])}
        used = {a for a in args[1:] if a.startswith("--")}
        assert used <= names, (line, used - names)
        assert ctx is not None
    assert CliRunner().invoke(main, ["presets"]).exit_code == 0
