"""One progress-bar switch for every long step (extraction, evaluation, fit, predict).

Every public function and estimator that runs long takes ``progress`` with the
same meaning: ``False`` (no bar), ``True`` (a tqdm bar on stderr, or a widget in a
notebook) or ``None`` (a bar only when stderr is a terminal, what the CLI uses).
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

__all__ = ["check_progress", "progress_bar"]


def check_progress(progress) -> bool | None:
    """``progress`` if it is True, False or None; else a TypeError."""
    if progress is None or isinstance(progress, bool):
        return progress
    raise TypeError(
        f"progress must be True, False or None (a bar only on a terminal); got "
        f"{progress!r} of type {type(progress).__name__}."
    )


def progress_bar(progress: bool | None, *, total: int, desc: str, unit: str):
    """A tqdm bar on stderr, shown as ``progress`` says; closes when done."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=None if progress is None else not check_progress(progress),
        leave=False,
        file=sys.stderr,
    )
