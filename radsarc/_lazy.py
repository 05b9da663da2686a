"""Lazy public names for the stage packages (PEP 562 module ``__getattr__``).

Each stage's ``__init__`` lists its public names under the module that defines
each; a name is imported from its module the first time it is used, so
``import radsarc.features`` costs nothing until a feature function is called and
the command line answers ``--help`` or a missing-file error at once.
"""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, modules: dict[str, list[str]]):
    """``(__getattr__, __dir__, __all__)`` for ``package`` resolving ``modules``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    modules : dict of str to list of str
        Module -> the public names it defines, imported from it on first use
        under the same name.

    Returns
    -------
    __getattr__, __dir__ : callable
        The PEP 562 hooks.
    __all__ : list of str
        Every public name, sorted.

    Raises
    ------
    ValueError
        If a name is listed under two modules.
    """
    import sys

    table: dict[str, str] = {}
    for module, names in modules.items():
        for name in names:
            if name in table:
                raise ValueError(
                    f"{package}: {name!r} is listed under {table[name]!r} and "
                    f"{module!r}."
                )
            table[name] = module

    def __getattr__(name: str):  # noqa: N807 - the PEP 562 hook
        try:
            module = table[name]
        except KeyError:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}"
            ) from None
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():  # noqa: N807 - the PEP 562 hook
        return sorted(set(vars(sys.modules[package])) | set(table))

    __getattr__.modules = {module: list(names) for module, names in modules.items()}
    return __getattr__, __dir__, sorted(table)
