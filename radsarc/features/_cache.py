"""A crash-safe, content-addressed cache of per-case extraction results.

One JSON file per (case, sequence, image content, mask content, settings, engine).
Files are written to a temporary name in the same folder, flushed to disk and
renamed into place (``os.replace`` is atomic on POSIX and Windows), so a run killed
at any moment, even with SIGKILL, leaves either a complete result or none; a
half-written temporary file is never read as a result.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from radsarc._files import contained
from radsarc.exceptions import CacheWarning

__all__ = ["CacheWarning", "ResultCache"]

_FORMAT = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Longest entry name made from a case id (file systems allow 255 bytes).
_MAX_NAME = 120


def _safe(name: str) -> str:
    """A file-name-safe form of ``name``: never empty, never ``.``/``..``/hidden."""
    safe = _UNSAFE.sub("_", name) or "_"
    if len(safe) > _MAX_NAME:  # a folder name of 300 characters cannot be made
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        safe = f"{safe[: _MAX_NAME - 17]}-{digest}"
    return "_" + safe if safe.startswith(".") else safe


class ResultCache:
    """Cache of extraction results below ``root``.

    Parameters
    ----------
    root : path-like
        The cache folder (created when first written).
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, case_id: str, sequence: str, key: str) -> Path:
        """Where the result with this key is stored."""
        return contained(
            self.root,
            _safe(case_id),
            f"{_safe(sequence or 'image')}-{key[:32]}.json",
            what="cache entry name",
        )

    def load(self, case_id: str, sequence: str, key: str) -> dict | None:
        """The stored result for ``key``, or None if absent or unreadable."""
        path = self.path(case_id, sequence, key)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        if data.get("format") != _FORMAT or data.get("key") != key:
            return None
        return data

    def store(self, case_id: str, sequence: str, key: str, payload: dict) -> Path:
        """Write ``payload`` atomically; returns the final path."""
        path = self.path(case_id, sequence, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": _FORMAT, "key": key, **payload}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
