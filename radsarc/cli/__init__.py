"""The ``radsarc`` command line.

Each sub-command lives in its own private module and registers itself on
:data:`main` when imported (on first use: see
:data:`radsarc.cli._main.COMMAND_MODULES`); errors that a user can act on are
shown as one clear message, not as a traceback from inside a dependency.
"""

from radsarc.cli._main import main

__all__ = ["main"]
