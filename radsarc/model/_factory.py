"""The parameter check shared by the named-estimator registries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _check_params(
    kind: str, name: str, label: str, valid: Iterable[str], params: Mapping[str, Any]
) -> None:
    """Refuse the keys of ``params`` that are not in ``valid``.

    Parameters
    ----------
    kind : str
        What is built, for the message (``"classifier"``, ``"voxel classifier"``).
    name : str
        The registry name asked for.
    label : str
        The class the parameters go to.
    valid : iterable of str
        Its parameter names.
    params : mapping
        The parameters given.

    Raises
    ------
    ValueError
        Naming the unknown parameters and the valid ones.
    """
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {unknown} for {kind} {name!r} ({label}); "
            f"valid: {sorted(valid)}."
        )
