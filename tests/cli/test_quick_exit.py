"""``radsarc`` (``radsarc.cli.run``) ends with a quick exit that loses nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from click.testing import CliRunner

from radsarc.cli import main


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_atexit_functions_run_and_output_is_flushed():
    out = _python(
        """
        import atexit, sys
        from radsarc.cli import run
        atexit.register(lambda: print("atexit ran"))
        sys.stdout.write("buffered, no newline")
        run(["presets"])
        """
    )
    assert out.returncode == 0, out.stderr
    listed = CliRunner().invoke(main, ["presets"]).output
    assert out.stdout.startswith("buffered, no newline" + listed)
    assert out.stdout.endswith("atexit ran\n")


def test_exit_codes_and_messages_are_kept(tmp_path):
    missing = tmp_path / "missing.csv"
    out = subprocess.run(
        [sys.executable, "-m", "radsarc", "extract", str(missing), "--out", "f.csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "missing.csv" in out.stderr
    out = _python("from radsarc.cli import run; run(['no-such-command'])")
    assert out.returncode == 2
    assert "No such command" in out.stderr
    out = _python("from radsarc.cli import run; run(['--version'])")
    assert out.returncode == 0
    assert out.stdout.startswith("radsarc, version")


def test_running_threads_get_the_usual_exit(tmp_path):
    """A thread still running at the end is waited for, as Python does."""
    flag = tmp_path / "thread.txt"
    out = _python(
        """
        import sys, threading, time
        from pathlib import Path
        from radsarc.cli import run
        def late():
            time.sleep(0.3)
            Path(sys.argv[1]).write_text("done")
        threading.Thread(target=late).start()
        run(["--version"])
        """,
        str(flag),
    )
    assert out.returncode == 0, out.stderr
    assert flag.read_text() == "done"
