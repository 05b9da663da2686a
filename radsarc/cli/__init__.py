"""The ``radsarc`` command line.

Each sub-command lives in its own private module and registers itself on
:data:`main`; errors that a user can act on are shown as one clear message, not
as a traceback from inside a dependency.
"""

from radsarc.cli._main import main

# Sub-commands register themselves on ``main`` when imported.
from radsarc.cli import _extract, _synthetic  # noqa: E402,F401,I001
from radsarc.cli import _benchmark, _evaluate  # noqa: E402,F401,I001

__all__ = ["main"]
