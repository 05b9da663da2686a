"""The ``radsarc`` command line.

Each sub-command lives in its own private module and registers itself on
:data:`main` when imported; errors that a user can act on are shown as one clear
message, not as a traceback from inside a dependency.
"""

from radsarc.cli import (  # noqa: F401
    _benchmark,
    _evaluate,
    _extract,
    _fetch,
    _fit,
    _maps,
    _presets,
    _synthetic,
)
from radsarc.cli._main import main

__all__ = ["main"]
