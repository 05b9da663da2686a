"""Lazy public names for the stage packages (PEP 562 module ``__getattr__``).

Each stage's ``__init__`` lists its public names and the private module that
defines each; a name is imported from its module the first time it is used, so
``import radsarc.features`` costs nothing until a feature function is called and
the command line answers ``--help`` or a missing-file error at once.
"""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, table: dict[str, tuple[str, str]]):
    """``(__getattr__, __dir__)`` for ``package`` resolving names of ``table``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    table : dict of str to (str, str)
        Public name -> (module, attribute in that module).
    """
    import sys

    def __getattr__(name: str):  # noqa: N807 - the PEP 562 hook
        try:
            module, attribute = table[name]
        except KeyError:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}"
            ) from None
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():  # noqa: N807 - the PEP 562 hook
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
