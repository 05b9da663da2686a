"""radsarc's C texture kernels: compiled on first use, cached per user, ctypes.

The kernels of :mod:`radsarc.features._matrices` exist twice: in plain C
(``_matrices.c``, shipped with the package) and as numba functions
(:mod:`radsarc.features._matrices_numba`). numba's JIT costs ~0.4 s per process
(importing numba, then loading the cached machine code), more than the texture
matrices of one large region take; its ahead-of-time compiler (``numba.pycc``) is
deprecated, and no maintained library builds a small C file at run time without
the Python C API. So radsarc does it itself, in the simplest way:

* the first process that needs the kernels compiles ``_matrices.c`` with the
  system C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang`` on the ``PATH``),
  with :data:`CFLAGS` (``-O2 -fPIC -shared -ffp-contract=off``: no fused
  multiply-adds, no fast-math, no ``-march=native``, so every floating-point
  operation is the IEEE one written in the source and the results do not depend
  on the machine);
* into a per-user cache directory (:func:`cache_dir`: ``$RADSARC_KERNEL_DIR``,
  else ``$XDG_CACHE_HOME/radsarc/kernels``, else ``~/.cache/radsarc/kernels``),
  under a name keyed by a hash of the source, the flags and the platform
  (:func:`library_key`), so that another version or machine builds its own;
* atomically: to a temporary name in the same directory, loaded and checked
  from there, then renamed (``os.replace``) to the final name, with its SHA-256
  beside it (``.sha256``, written the same way), so that concurrent processes
  never load a half-written file;
* every later process checks the cached file's SHA-256 (a truncated shared
  library can crash the process that maps it, so nothing is loaded unchecked)
  and loads it with :class:`ctypes.CDLL` (a few milliseconds in all; ctypes
  releases the GIL during each call). The library also returns the key it was
  built with (``radsarc_matrices_key``). A file whose digest, loading or key
  fails (corrupt, truncated, foreign, or a concurrent build's) is rebuilt.

Without a compiler, or when compiling or loading fails, :func:`load` returns
None (logged at debug level) and the failure is remembered for the process;
:mod:`radsarc.features._matrices` then uses the numba kernels.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import sys
from pathlib import Path

# (shlex, shutil, subprocess, tempfile: imported when a build is needed; a
# process that loads the cached library does not pay for them)

__all__ = [
    "CFLAGS",
    "SOURCE",
    "cache_dir",
    "compiler",
    "failure",
    "library_key",
    "load",
]

logger = logging.getLogger(__name__)

#: The C source of the kernels (package data).
SOURCE = Path(__file__).with_name("_matrices.c")
#: Compiler flags (besides ``-o`` and the key's ``-D``). ``-ffp-contract=off``:
#: GCC contracts ``a * b + c`` into a fused multiply-add by default where the
#: target has one, which changes the last bit of results.
CFLAGS = ("-O2", "-fPIC", "-shared", "-ffp-contract=off")
#: Seconds a compilation may take before it counts as failed.
COMPILE_TIMEOUT = 120

_C = ctypes
_P = ctypes.c_void_p
_I64 = ctypes.c_int64
#: Pixel types of the kernels (numpy dtype name: suffix of the C functions).
PIXEL_TYPES = {"uint8": "u8", "uint16": "u16", "int32": "i32"}
_KERNELS = {
    "glcm": (None, (_P, _P, _I64, _P, _I64, _P, _I64)),
    "gldm_ngtdm": (None, (_P, _P, _I64, _P, _I64, _I64, _P, _P)),
    "glrlm": (None, (_P, _P, _I64, _P, _I64, _P, _I64, _P)),
    "any_line_pair": (_C.c_int32, (_P, _P, _I64, _P, _P)),
    "glszm": (_I64, (_P, _P, _I64, _P, _I64, _P, _P, _P)),
}
#: Exported functions: (return type, argument types).
SIGNATURES = {
    "radsarc_matrices_key": (_C.c_char_p, ()),
    **{
        f"radsarc_{name}_{suffix}": signature
        for name, signature in _KERNELS.items()
        for suffix in PIXEL_TYPES.values()
    },
}

# The loaded library of this process, or the reason it could not be loaded.
_LIBRARY: ctypes.CDLL | None = None
_FAILURE: str | None = None
#: Compilations run by this process (tests check that a cached library is reused).
COMPILATIONS = 0


def cache_dir() -> Path:
    """Directory of the compiled kernels (created on first build)."""
    explicit = os.environ.get("RADSARC_KERNEL_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "radsarc" / "kernels"


def compiler() -> list[str] | None:
    """The C compiler command: ``$CC`` (split like a shell), else cc/gcc/clang."""
    import shlex
    import shutil

    env = os.environ.get("CC", "").strip()
    if env:
        return shlex.split(env)
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def library_key(source: bytes | None = None) -> str:
    """Hash of the source, the flags and the platform: the library's cache key."""
    if source is None:
        source = SOURCE.read_bytes()
    digest = hashlib.sha256(source)
    for part in (
        *CFLAGS,
        sys.platform,
        _machine(),
        str(ctypes.sizeof(ctypes.c_void_p)),
    ):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:20]


def _machine() -> str:
    """``platform.machine()`` (without importing platform, ~1 ms, where possible)."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform

    return platform.machine()


def _suffix() -> str:
    return ".dll" if sys.platform == "win32" else ".so"


def load(refresh: bool = False) -> ctypes.CDLL | None:
    """The kernels' library, compiled if needed; None if it cannot be had.

    The result (library or failure) is kept for the process; ``refresh=True``
    tries again (tests).
    """
    global _LIBRARY, _FAILURE
    if not refresh:
        if _LIBRARY is not None:
            return _LIBRARY
        if _FAILURE is not None:
            return None
    _LIBRARY, _FAILURE = None, None
    try:
        _LIBRARY = _load_or_build()
    except Exception as exc:  # noqa: BLE001 - the numba kernels take over
        _FAILURE = f"{type(exc).__name__}: {exc}"
        logger.debug("C texture kernels unavailable (numba is used): %s", _FAILURE)
    return _LIBRARY


def failure() -> str | None:
    """Why :func:`load` found no library in this process (None: not failed)."""
    return _FAILURE


def _load_or_build() -> ctypes.CDLL:
    source = SOURCE.read_bytes()
    key = library_key(source)
    folder = cache_dir()
    path = folder / f"radsarc_matrices_{key}{_suffix()}"
    if path.exists():
        try:
            _check_digest(path)
            return _open(path, key)
        except (OSError, AttributeError, ValueError) as exc:
            logger.debug("cached C kernels %s unusable (%s): rebuilt", path, exc)
    return _build(folder, path, key)


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _check_digest(path: Path) -> None:
    """Raise ValueError unless ``path`` has the SHA-256 recorded beside it."""
    want = _digest_path(path).read_text().strip()
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if found != want:
        raise ValueError(f"SHA-256 {found[:12]}... is not the recorded {want[:12]}...")


def _open(path: Path, key: str) -> ctypes.CDLL:
    """Load ``path`` and check its key; bind the argument types."""
    library = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in SIGNATURES.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes
    found = library.radsarc_matrices_key()
    if found != key.encode():
        raise ValueError(f"built for key {found!r}, not {key!r}")
    return library


def _build(folder: Path, path: Path, key: str) -> ctypes.CDLL:
    """Compile to a temporary file in ``folder``, load it, then rename it."""
    global COMPILATIONS
    import shlex
    import subprocess
    import tempfile
    import time

    command = compiler()
    if command is None:
        raise FileNotFoundError("no C compiler ($CC, cc, gcc or clang) found")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(
        prefix=f".radsarc_matrices_{key}.", suffix=_suffix(), dir=folder
    )
    os.close(handle)
    digest_file = None
    try:
        start = time.perf_counter()
        COMPILATIONS += 1
        done = subprocess.run(
            [
                *command,
                *CFLAGS,
                f'-DRADSARC_KEY="{key}"',
                "-o",
                temporary,
                str(SOURCE),
            ],
            capture_output=True,
            text=True,
            timeout=COMPILE_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{shlex.join(command)} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
        # Loaded from the temporary name (a process never maps a file that
        # another one is writing), then published under the final name.
        library = _open(Path(temporary), key)
        digest = hashlib.sha256(Path(temporary).read_bytes()).hexdigest()
        handle, digest_file = tempfile.mkstemp(
            prefix=f".radsarc_matrices_{key}.", suffix=".sha256", dir=folder
        )
        with os.fdopen(handle, "w") as stream:
            stream.write(digest + "\n")
        os.replace(temporary, path)
        os.replace(digest_file, _digest_path(path))
        logger.debug(
            "C texture kernels compiled in %.2f s: %s",
            time.perf_counter() - start,
            path,
        )
        return library
    finally:
        for leftover in (temporary, digest_file):
            if leftover is not None and os.path.exists(leftover):
                os.unlink(leftover)
