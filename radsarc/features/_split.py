"""One case over several processes: forked children, balanced by measured cost.

With no more cases than processes (one large case with ``n_jobs=2``), the work
of each case in turn is split into the engine's work items (the shape features and
diagnostics; each feature class of each filtered image, see
:meth:`radsarc.features._pyradiomics.Engine.work_items`), planned over the
processes by their measured cost (:func:`plan_items`) and run in children
forked *after* the image and mask are read, checked and preprocessed
(:func:`run_forked`): a child inherits all of it (and every imported module) at
copy-on-write cost, in milliseconds, instead of starting a fresh interpreter
and reading the case again. Results come back through a pipe.

Forking is used on Linux only (:func:`fork_available`): elsewhere (macOS, where
system libraries are not fork-safe, and Windows) a case is split over joblib's
worker processes as before.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import time

__all__ = ["CostModel", "cost_model", "fork_available", "plan_items", "run_forked"]

logger = logging.getLogger(__name__)

#: The ROI of the cost tables below: benchmarks/extraction_speed.py's large
#: case (474k voxels in a 60x320x320 volume at 0.8x0.8x3 mm).
REFERENCE_VOXELS = 474_318
#: Seconds per feature class on one filtered image of the reference ROI (one
#: process, one BLAS and ITK thread), with pyradiomics' C texture matrices
#: ("C"; measured together with the other costs below, load ~5 on 2 cores) and
#: with radsarc's kernels ("compiled", the engine's route for regions of 500
#: voxels or more when the C kernels load; CPU seconds of each class in a fresh
#: process, best of 5, load 4.7, after the C kernels: GLDM and NGTDM share one
#: pass, split between them; the copy of the image into the kernels' padded
#: array, ~4 ms, is in GLCM's). "shape" also holds the diagnostics (both
#: routes; CPU in a fresh process, best of 5, load 4.6, with the numpy-only
#: diameters: 0.14 s, 0.30 s before them). Class costs scale with the ROI's
#: voxels.
CLASS_COST = {
    "C": {
        "shape": 0.14,
        "firstorder": 0.035,
        "glcm": 0.085,
        "glrlm": 0.17,
        "glszm": 0.11,
        "gldm": 0.08,
        "ngtdm": 0.07,
    },
    "compiled": {
        "shape": 0.14,
        "firstorder": 0.02,
        "glcm": 0.044,
        "glrlm": 0.018,
        "glszm": 0.018,
        "gldm": 0.009,
        "ngtdm": 0.005,
    },
}
#: Cost of a class that is not in :data:`CLASS_COST` (IBSI engine, new classes).
DEFAULT_CLASS_COST = 0.1
#: Cropping and discretising one filtered image, in every process that
#: computes a class of it (reference ROI; scales with the ROI).
IMAGE_COST = 0.02
#: Filtering, seconds per voxel filtered: the LoG of one sigma (on the ROI box
#: plus its margin) in every process that computes a class of that image; the
#: wavelet decomposition (all eight images at once, on the ROI box plus the
#: filters' reach) once in every process that computes any wavelet image.
LOG_SECONDS_PER_VOXEL = 0.125e-6
WAVELET_SECONDS_PER_VOXEL = 0.2e-6
#: Modules that classes load on first use, with their load time, paid once by
#: each process that computes such a class while the module is not loaded:
#: numba and its kernels, the fallback of the texture kernels without a C
#: compiler (counted only then). The C kernels load in 1-5 ms (compiled once
#: per user and source, 0.07-0.35 s, see radsarc.features._native; a parent
#: that forks loads them first). (The shape diameters need no import: numpy only,
#: radsarc.features._mesh.)
IMPORT_COST = {
    "radsarc.features._matrices_numba": (
        0.4,
        frozenset({"glcm", "glrlm", "glszm", "gldm", "ngtdm"}),
    ),
}
_NUMBA_MODULE = "radsarc.features._matrices_numba"


#: Weight of the processes' total CPU time against the longest one's in
#: :func:`plan_items`: a second copy of a filter or an import must shorten the
#: longest process by a quarter of what it costs.
CPU_WEIGHT = 0.25


def fork_available() -> bool:
    """Whether a case may be split over forked processes (Linux only)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class CostModel:
    """Estimated seconds of work items, for :func:`plan_items`.

    Parameters
    ----------
    voxels : int, default=REFERENCE_VOXELS
        Voxels of the ROI (class and image costs scale with them).
    compiled : bool, default=False
        Whether the engine computes the texture matrices with radsarc's
        kernels (:data:`CLASS_COST` ``"compiled"``).
    backend : {"c", "numba"}, default="c"
        Which kernels (with ``"numba"``, numba's load time in every process
        that computes a texture class, :data:`IMPORT_COST`).
    unit_seconds : dict of int to float, default=None
        Filtering seconds of single filtered images (LoG sigmas), by unit.
    type_seconds : dict of str to float, default=None
        Filtering seconds of image types computed at once (Wavelet), paid
        once per process.
    """

    def __init__(
        self,
        voxels: int = REFERENCE_VOXELS,
        *,
        compiled: bool = False,
        backend: str = "c",
        unit_seconds: dict | None = None,
        type_seconds: dict | None = None,
    ) -> None:
        self.scale = max(voxels, 1) / REFERENCE_VOXELS
        self.compiled = compiled
        self.backend = backend
        self.classes = CLASS_COST["compiled" if compiled else "C"]
        self.unit_seconds = dict(unit_seconds or {})
        self.type_seconds = dict(type_seconds or {})

    def item(self, item) -> float:
        """Seconds of one work item (without filtering and imports)."""
        return self.classes.get(item[2], DEFAULT_CLASS_COST) * self.scale

    def load(self, items) -> float:
        """Estimated seconds of one process computing ``items``."""
        units = {(unit, image_type) for unit, image_type, _ in items if unit >= 0}
        types = {image_type for _, image_type in units}
        classes = {name for _, _, name in items}
        imports = 0.0
        for module, (seconds, users) in IMPORT_COST.items():
            if module == _NUMBA_MODULE and not (
                self.compiled and self.backend == "numba"
            ):
                continue
            if classes & users and module not in sys.modules:
                imports += seconds
        return (
            sum(self.item(item) for item in items)
            + sum(
                IMAGE_COST * self.scale + self.unit_seconds.get(unit, 0.0)
                for unit, _ in units
            )
            + sum(self.type_seconds.get(t, 0.0) for t in types)
            + imports
        )


def cost_model(engine, image, mask, label: int) -> CostModel:
    """The :class:`CostModel` of one case: ROI size, filtered volumes, matrices.

    The LoG of each sigma is counted on the ROI's bounding box plus the
    engine's margin (``LOG_MARGIN_SIGMAS`` sigmas), the wavelet decomposition
    on the box plus 16 voxels (coif1, one level), both within the image;
    radsarc's texture kernels are expected when the engine's rule
    (:func:`radsarc.features._pyradiomics.compiled_route`) holds for the whole
    case (which loads them here, in the parent, when they are C).
    """
    import numpy as np
    import SimpleITK as sitk

    from radsarc.features import _pyradiomics

    roi = sitk.GetArrayViewFromImage(mask) == label
    voxels = int(np.count_nonzero(roi))
    if voxels == 0 or roi.ndim != 3:
        return CostModel(max(voxels, 1))
    size = np.array(roi.shape)  # z, y, x
    bounds = [np.flatnonzero(roi.any(axis=a)) for a in ((1, 2), (0, 2), (0, 1))]
    low = np.array([b[0] for b in bounds])
    high = np.array([b[-1] for b in bounds])
    box = high - low + 1
    spacing = np.array(image.GetSpacing()[::-1])

    def volume(margin) -> float:
        return float(np.prod(np.minimum(box + 2 * margin, size)))

    units = getattr(engine, "_units", None)
    unit_seconds, type_seconds, n_images = {}, {}, 0
    if units is not None:
        margin_sigmas = getattr(_pyradiomics, "LOG_MARGIN_SIGMAS", 20.0)
        k = 0
        for image_type, members in units(3):
            for _, parameter in members:
                if image_type == "LoG" and parameter:
                    margin = np.ceil(margin_sigmas * float(parameter) / spacing)
                    unit_seconds[k] = LOG_SECONDS_PER_VOXEL * volume(margin)
                k += 1
            if image_type == "Wavelet":
                type_seconds["Wavelet"] = WAVELET_SECONDS_PER_VOXEL * volume(16)
        n_images = k
    compiled = _pyradiomics.compiled_route(voxels, n_images)
    backend = _pyradiomics._kernels_backend() if compiled else "c"
    return CostModel(
        voxels,
        compiled=compiled,
        backend=backend,
        unit_seconds=unit_seconds,
        type_seconds=type_seconds,
    )


def plan_items(
    items, n_procs: int, model: CostModel | None = None
) -> list[list[tuple]]:
    """Spread work items over ``n_procs`` processes, balancing their cost.

    Items are first grouped by what they must compute before their classes
    (a filtered image; all images of a type filtered at once) and the groups
    are dealt, largest first, to the process whose load grows least. Then items
    move from the most loaded process to another (one item, or all its items
    that need the same filtered images or the same module) while that lowers
    the longest load plus :data:`CPU_WEIGHT` times the sum of the loads (the
    CPU that a busy machine's other jobs share), counting the filtering and
    imports a receiving process must then do too (:class:`CostModel`). So the
    classes of one filtered image are split only when that balances the load
    (the original image alone), the wavelet decomposition is computed again
    only where that pays, and numba is loaded by one process when the texture
    work is too small to pay for loading it twice.

    Parameters
    ----------
    items : sequence of (int, str, str)
        ``(unit, image type, feature class)`` work items.
    n_procs : int
        Processes; the first is the calling one.
    model : CostModel, default=None
        The costs; None: those of the reference ROI (:class:`CostModel`).

    Returns
    -------
    list of lists of items
        One list per process (some may be empty), each in the order of
        ``items``.
    """
    items = list(items)
    n_procs = max(int(n_procs), 1)
    model = model or CostModel()
    groups: dict[tuple, list[int]] = {}
    for k, (unit, image_type, _) in enumerate(items):
        shared = image_type in model.type_seconds
        key = ("type", image_type) if shared else ("unit", unit)
        groups.setdefault(key, []).append(k)
    plans: list[list[int]] = [[] for _ in range(n_procs)]

    def load(plan) -> float:
        return model.load([items[k] for k in plan])

    def score(loads) -> float:
        # the wall time, and a part of the CPU time, which the other jobs of
        # a busy machine share
        return max(loads) + CPU_WEIGHT * sum(loads)

    # Largest group first, to the process whose load grows the least (which
    # counts filtering or imports it already pays for once).
    for members in sorted(groups.values(), key=lambda m: (-load(m), m[0])):
        target = min(range(n_procs), key=lambda p: (load(plans[p] + members), p))
        plans[target] += members
    for _ in range(4 * len(items)):  # each accepted move lowers the maximum
        loads = [load(plan) for plan in plans]
        worst = max(range(n_procs), key=lambda p: (loads[p], -p))
        # Moves: one item; or the items of the worst process that share a
        # group, or a module to import (a move that frees the worst process
        # from a filter or an import pays only all at once).
        moves = [[k] for k in plans[worst]]
        by_key: dict[tuple, list[int]] = {}
        for k in plans[worst]:
            unit, image_type, name = items[k]
            shared = image_type in model.type_seconds
            by_key.setdefault(("group", image_type if shared else unit), []).append(k)
            for module, (_, users) in IMPORT_COST.items():
                if name in users:
                    by_key.setdefault(("module", module), []).append(k)
        # whole groups, and half of one (a second copy of a filter that pays
        # only when it takes a large part of the work)
        moves += [m for m in by_key.values() if len(m) > 1]
        moves += [m[len(m) // 2 :] for m in by_key.values() if len(m) > 3]
        best = None
        for move in moves:
            rest = [j for j in plans[worst] if j not in move]
            for other in range(n_procs):
                if other == worst:
                    continue
                moved = loads.copy()
                moved[worst], moved[other] = load(rest), load(plans[other] + move)
                gain = score(loads) - score(moved)
                if gain > 1e-9 and (best is None or gain > best[0]):
                    best = (gain, move, other)
        if best is None:
            break
        _, move, other = best
        plans[worst] = [j for j in plans[worst] if j not in move]
        plans[other] += move
    return [[items[k] for k in sorted(plan)] for plan in plans]


def run_forked(func, shares, *, what: str = "features"):
    """``[func(share) for share in shares]``, the first here, the others forked.

    Each share but the first runs in a child forked from this process (which
    therefore inherits every argument and module already in memory); the first
    runs here meanwhile. Children end with this process (``PR_SET_PDEATHSIG``,
    else a watchdog thread) and are killed if this process stops early
    (an exception, Ctrl-C).

    Parameters
    ----------
    func : callable
        Called with one share; its result must be picklable.
    shares : sequence
        The arguments, one per process.
    what : str
        What the children compute, for error messages.

    Returns
    -------
    list
        The results, in the order of ``shares``.

    Raises
    ------
    Exception
        The exception a share raised (re-raised here for a child's).
    RuntimeError
        If a child died without a result (killed, crashed).
    """
    shares = list(shares)
    if len(shares) <= 1:
        return [func(share) for share in shares]
    children: list[tuple[int, int]] = []  # not collected yet
    try:
        for share in shares[1:]:
            children.append(_fork(func, share))
        results = [_timed(func, shares[0])]
        while children:
            pid, fd = children.pop(0)
            results.append(_collect(pid, fd, what))
        return results
    finally:
        for pid, fd in children:  # stopped early: stop the children too
            _close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(pid)


def _timed(func, share):
    start = time.perf_counter()
    result = func(share)
    logger.debug(
        "process %d computed its share in %.3f s",
        os.getpid(),
        time.perf_counter() - start,
    )
    return result


def _fork(func, share) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_fd)
            _end_with_parent(parent)
            try:
                payload = ("ok", _timed(func, share), "")
            except BaseException as exc:  # noqa: BLE001 - sent to the parent
                payload = ("error", exc, f"{type(exc).__name__}: {exc}")
            try:
                data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - unpicklable: send its text
                text = payload[2] or f"{type(exc).__name__}: {exc}"
                data = pickle.dumps(("error", None, text))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _end_with_parent(parent: int) -> None:
    """Make this forked child die with its parent (Linux: PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        from radsarc._parallel import watch_parent

        watch_parent(parent)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _collect(pid: int, fd: int, what: str):
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        _close(fd)
    status = _reap(pid)
    data = b"".join(chunks)
    if status == 0 and data:
        try:
            kind, value, text = pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception class that
            # cannot be rebuilt from its arguments
            raise RuntimeError(
                f"the process (pid {pid}) computing part of the {what} failed "
                f"and its result could not be read: {type(exc).__name__}: {exc}"
            ) from None
        if kind == "ok":
            return value
        if isinstance(value, BaseException):
            raise value
        raise RuntimeError(text)
    if status is not None and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        how = f"was killed by {name}"
        if number == signal.SIGKILL:
            how += " (out of memory?)"
    elif status is not None and os.WIFEXITED(status):
        how = f"exited with status {os.WEXITSTATUS(status)}"
    else:
        how = "ended"
    raise RuntimeError(
        f"the process (pid {pid}) computing part of the {what} {how} without "
        "returning them"
    )


def _reap(pid: int) -> int | None:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
