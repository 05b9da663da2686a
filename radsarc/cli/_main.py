"""The click group every sub-command registers on, and shared CLI helpers."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from radsarc._version import __version__

#: Each sub-command and the module that defines it (and registers it on
#: :data:`main` when imported): a command's module is imported only when that
#: command runs (or ``--help`` lists them all), so that ``radsarc extract``
#: does not load (or, without bytecode files, compile) the others.
COMMAND_MODULES = {
    "benchmark": "radsarc.cli._benchmark",
    "evaluate": "radsarc.cli._evaluate",
    "extract": "radsarc.cli._extract",
    "fetch": "radsarc.cli._fetch",
    "fit": "radsarc.cli._fit",
    "maps": "radsarc.cli._maps",
    "predict": "radsarc.cli._fit",
    "presets": "radsarc.cli._presets",
    "synthetic": "radsarc.cli._synthetic",
    "validate": "radsarc.cli._extract",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMAND_MODULES` on use."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            import importlib

            importlib.import_module(COMMAND_MODULES[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="radsarc")
def main() -> None:
    """radsarc: radiomics and machine learning for soft-tissue-sarcoma MRI."""


def run(args=None) -> None:
    """The ``radsarc`` program: :data:`main`, then a quick exit.

    When the command has finished (``SystemExit`` from click, which always
    ends that way), the ``atexit`` functions run (logging's flush, temporary
    folders, a Dask client's shutdown), the standard streams are flushed and
    the process ends with ``os._exit``: the interpreter's own teardown of
    numpy, SimpleITK and pyradiomics (50-70 ms, a tenth of a one-case
    ``radsarc extract``) is skipped. Every output file is complete and on disk
    by then (written, flushed and renamed before the command returns). With
    other threads still running, or an error that is not a ``SystemExit`` (a
    bug's traceback), Python exits as usual.
    """
    try:
        main(args=args, prog_name="radsarc")
    except SystemExit as exc:
        _quick_exit(exc.code)
        raise


def _quick_exit(code) -> None:
    """End the process now with ``code`` (``sys.exit``'s meaning), after the
    ``atexit`` functions; returns (to exit as usual) if threads are running."""
    import atexit
    import os
    import threading

    if threading.active_count() > 1:
        return
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code & 0xFF
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(status)


def user_errors(func):
    """Turn the errors a user can act on into one message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, TypeError, FileNotFoundError, KeyError, OSError) as exc:
            click.echo(f"radsarc: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            # Outputs are renamed into place only when complete: nothing half done.
            click.echo(
                "radsarc: interrupted; nothing was written (files from before the "
                "run are unchanged).",
                err=True,
            )
            sys.exit(130)

    return wrapper


class _NJobs(click.ParamType):
    """``--n-jobs``: a positive number of processes, or -1 for every core."""

    name = "integer"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a valid integer.", param, ctx)
        if number < 1 and number != -1:
            self.fail(
                f"{number} is not a number of processes; expected 1 or more, or -1 "
                "for all cores.",
                param,
                ctx,
            )
        return number


#: ``--n-jobs``: >= 1, or -1 (all cores).
N_JOBS = _NJobs()
#: ``--seed``: what numpy accepts as a seed.
SEED = click.IntRange(0, 2**32 - 1)


def refuse_overwriting_inputs(outputs, inputs) -> None:
    """Refuse an output path that is one of the run's inputs.

    Parameters
    ----------
    outputs : dict of str to path-like
        What each output is (e.g. ``"--out"``) -> the path it would write.
    inputs : dict of str to path-like
        What each input is (e.g. ``"the manifest"``) -> its path. Missing ones
        (None) are skipped.

    Raises
    ------
    ValueError
        Naming both, before anything is computed or written.
    """
    from radsarc._files import output_target, same_file

    for out_name, out in outputs.items():
        if not str(out).strip() or not Path(out).name:
            raise ValueError(f"{out_name} is empty; expected the path of a file.")
        output_target(out)  # an existing folder, device or FIFO: refused now
        for in_name, path in inputs.items():
            if path is not None and same_file(out, path):
                raise ValueError(
                    f"{out_name} {out} is {in_name} ({path}); writing it would "
                    "destroy an input of this run. Choose another output path."
                )


def cohort_files(cohort) -> dict[str, object]:
    """Every image and mask file of a cohort, as inputs for the check above."""
    files = {}
    for case in cohort:
        for seq in cohort.sequences:
            name = f" [{seq}]" if seq else ""
            files[f"the image of case {case.case_id!r}{name}"] = case.images[seq]
            files[f"the mask of case {case.case_id!r}{name}"] = case.masks[seq]
            if seq in getattr(case, "references", {}):
                files[f"the reference series of case {case.case_id!r}{name}"] = (
                    case.references[seq]
                )
    return files


def require_inputs(*inputs: tuple[str, object]) -> None:
    """Refuse a missing input file before the command imports its libraries.

    ``inputs`` are ``(what, path)`` pairs (``("Manifest", manifest)``); the
    message is the one the library gives for the same file, but it comes at
    once instead of after seconds of imports.
    """
    import os

    for what, path in inputs:
        if path is not None and not os.path.lexists(path):
            raise FileNotFoundError(f"{what} {path} does not exist.")


#: Help of ``--settings`` where it means what it means for ``extract``.
SETTINGS_HELP = (
    "Extraction settings: a pyradiomics parameter file (YAML), optionally with "
    "radsarc's preprocessing section, or the name of a bundled one ('mri'); "
    "Python: settings=. --params is the older name. Default: pyradiomics defaults."
)


SCHEDULER_HELP = (
    "Run the splits on a Dask cluster: its scheduler address, e.g. "
    "tcp://host:8786 (needs pip install 'radsarc[dask]'; see docs/scale_out.md)."
)


def scheduler_option(help: str = SCHEDULER_HELP):  # noqa: A002 - click's word
    """The ``--scheduler ADDRESS`` option (Dask) of the commands that scale out."""
    return click.option("--scheduler", default=None, metavar="ADDRESS", help=help)


ROI_HELP = (
    "Structure of RTSTRUCT / segment of DICOM SEG masks, for cases without a "
    "'roi' cell (label images keep their label): a name (case-insensitive) or a "
    "regular expression matching one whole name. Repeat for several regions, "
    "each with its own features."
)


def roi_option(help: str = ROI_HELP):  # noqa: A002 - click's word
    """The ``--roi NAME`` option (repeatable) of the commands that read masks."""
    return click.option("--roi", "roi", multiple=True, metavar="NAME", help=help)


def settings_option(help: str = SETTINGS_HELP):  # noqa: A002 - click's word
    """The ``--settings FILE`` option (old name ``--params``) of every command."""
    return click.option(
        "--settings",
        "--params",
        "params",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help=help,
    )


def seed_option(help: str):  # noqa: A002 - click's word
    """The ``--seed`` option (default 0) of the commands that draw folds."""
    return click.option("--seed", default=0, show_default=True, type=SEED, help=help)


def n_jobs_option(help: str | None = None, default: int = 1):  # noqa: A002
    """The ``--n-jobs`` option: >= 1 processes, or -1 for every core."""
    return click.option(
        "--n-jobs", default=default, show_default=True, type=N_JOBS, help=help
    )


QUIET_HELP = "No progress bar (shown on a terminal only)."


def quiet_option(help: str = QUIET_HELP):  # noqa: A002 - click's word
    """The ``--quiet``/``-q`` flag: no progress bar."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def cache_dir_option(help: str = "Extraction cache (default: none)."):  # noqa: A002
    """The ``--cache-dir DIR`` option of the commands that extract features."""
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def cutoff_options(help: str, min_sensitivity_help: str | None = None):  # noqa: A002
    """``--cutoff {youden,specificity}`` (``help`` is its help) and
    ``--min-sensitivity`` (default 0.9) of the commands that choose a cut-off."""
    cutoff = click.option(
        "--cutoff",
        type=click.Choice(["youden", "specificity"]),
        default="youden",
        show_default=True,
        help=help,
    )
    min_sensitivity = click.option(
        "--min-sensitivity",
        type=click.FloatRange(0, 1, min_open=True),
        default=0.9,
        show_default=True,
        help=min_sensitivity_help,
    )
    return lambda func: cutoff(min_sensitivity(func))
