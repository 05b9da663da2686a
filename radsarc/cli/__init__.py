"""The ``radsarc`` command line.

Each sub-command lives in its own private module and registers itself on
:data:`main` when imported (on first use: see
:data:`radsarc.cli._main.COMMAND_MODULES`); errors that a user can act on are
shown as one clear message, not as a traceback from inside a dependency.

:func:`run` is the program (the ``radsarc`` script and ``python -m radsarc``):
:data:`main`, then a quick exit. :data:`main` is the click group, for tests and
for embedding (``CliRunner().invoke(main, [...])``).
"""

from radsarc.cli._main import main, run

__all__ = ["main", "run"]
