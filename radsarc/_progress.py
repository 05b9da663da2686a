"""One progress-bar switch for every long step (extraction, evaluation, fit, predict).

Every public function and estimator that runs long takes ``progress`` with the
same meaning: ``False`` (no bar), ``True`` (a tqdm bar on stderr, or a widget in a
notebook) or ``None`` (a bar only when stderr is a terminal, what the CLI uses).
"""

from __future__ import annotations

import sys

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
    """A tqdm bar on stderr, shown as ``progress`` says; closes when done.

    A bar that is not shown is a stand-in that does nothing, so that runs
    without a bar (``-q``, no terminal) do not import tqdm.
    """
    show = check_progress(progress)
    if show is None:
        try:
            show = sys.stderr.isatty()
        except (AttributeError, ValueError):  # no stderr, or it is closed
            show = False
    if not show:
        return _Hidden()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=False,
        leave=False,
        file=sys.stderr,
    )


class _Hidden:
    """A progress bar that is not shown: every tqdm method does nothing."""

    n = 0
    total = None
    disable = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool:
        return False

    def __getattr__(self, name: str):
        return _nothing


def _nothing(*args, **kwargs) -> None:
    return None
