"""One case over several processes: forked children, balanced by measured cost.

With fewer cases than processes (one large case with ``n_jobs=2``), the work of
one case is split into the engine's work items (the shape features and
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

__all__ = ["fork_available", "plan_items", "run_forked"]

logger = logging.getLogger(__name__)

#: Seconds per feature class on one filtered image of a 474k-voxel ROI
#: (benchmarks/extraction_speed.py's large case, one process, one BLAS thread);
#: only their ratios matter. "shape" also holds the diagnostics.
CLASS_COST = {
    "shape": 0.25,
    "firstorder": 0.12,
    "glcm": 0.09,
    "glrlm": 0.15,
    "glszm": 0.09,
    "gldm": 0.055,
    "ngtdm": 0.055,
}
#: Cost of a class that is not in :data:`CLASS_COST` (IBSI engine, new classes).
DEFAULT_CLASS_COST = 0.1
#: Modules a class imports on first use, with their import time: a class costs
#: that much more while the module is not imported yet (the shape features'
#: maximum diameters use scipy.spatial's convex hull).
IMPORT_COST = {"shape": ("scipy.spatial", 0.16)}
#: Cost of one filtered image in every process that computes a class of it:
#: cropping and discretising it (all image types), plus the filter itself
#: (LoG: one filter per sigma on the ROI box plus its margin).
UNIT_COST = {"LoG": 0.3}
DEFAULT_UNIT_COST = 0.02
#: Cost of an image type whose filtered images all come from one computation
#: (the wavelet decomposition gives all eight at once), paid once by every
#: process that computes any class of any of them.
TYPE_COST = {"Wavelet": 0.6}


def fork_available() -> bool:
    """Whether a case may be split over forked processes (Linux only)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _item_cost(item) -> float:
    cost = CLASS_COST.get(item[2], DEFAULT_CLASS_COST)
    module, seconds = IMPORT_COST.get(item[2], ("", 0.0))
    if module and module not in sys.modules:
        cost += seconds
    return cost


def _load(items) -> float:
    """Estimated seconds of one process computing ``items``."""
    units = {(unit, image_type) for unit, image_type, _ in items if unit >= 0}
    types = {image_type for _, image_type in units}
    return (
        sum(_item_cost(item) for item in items)
        + sum(UNIT_COST.get(t, DEFAULT_UNIT_COST) for _, t in units)
        + sum(TYPE_COST.get(t, 0.0) for t in types)
    )


def plan_items(items, n_procs: int) -> list[list[tuple]]:
    """Spread work items over ``n_procs`` processes, balancing their cost.

    Items are first grouped by what they must compute before their classes
    (a filtered image; every image of a type in :data:`TYPE_COST`) and the
    groups are spread greedily, largest first, to the least loaded process.
    Then single items move from the most loaded process to another while that
    lowers the larger of the two loads, counting the filtering the receiving
    process must then do too (:data:`UNIT_COST`, :data:`TYPE_COST`): so the
    classes of one filtered image are split only when that balances the load
    (one image type, e.g. the original image alone), and the wavelet
    decomposition is computed again only where that pays.

    Parameters
    ----------
    items : sequence of (int, str, str)
        ``(unit, image type, feature class)`` work items.
    n_procs : int
        Processes; the first is the calling one.

    Returns
    -------
    list of lists of items
        One list per process (some may be empty), each in the order of
        ``items``.
    """
    items = list(items)
    n_procs = max(int(n_procs), 1)
    groups: dict[tuple, list[int]] = {}
    for k, (unit, image_type, _) in enumerate(items):
        key = ("type", image_type) if image_type in TYPE_COST else ("unit", unit)
        groups.setdefault(key, []).append(k)
    plans: list[list[int]] = [[] for _ in range(n_procs)]

    def load(plan) -> float:
        return _load([items[k] for k in plan])

    for members in sorted(
        groups.values(), key=lambda m: (-load(m), m[0])
    ):  # largest group first, to the least loaded process
        target = min(range(n_procs), key=lambda p: (load(plans[p]), p))
        plans[target] += members
    for _ in range(4 * len(items)):  # each accepted move lowers the maximum
        loads = [load(plan) for plan in plans]
        worst = max(range(n_procs), key=lambda p: (loads[p], -p))
        best = None
        for k in plans[worst]:
            rest = [j for j in plans[worst] if j != k]
            for other in range(n_procs):
                if other == worst:
                    continue
                after = max(load(rest), load(plans[other] + [k]))
                if after < loads[worst] - 1e-9 and (best is None or after < best[0]):
                    best = (after, k, other)
        if best is None:
            break
        _, k, other = best
        plans[worst].remove(k)
        plans[other].append(k)
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
    children: list[tuple[int, int]] = []
    try:
        for share in shares[1:]:
            children.append(_fork(func, share))
        results = [func(shares[0])]
        for pid, fd in children:
            results.append(_collect(pid, fd, what))
        children = []
        return results
    finally:
        for pid, fd in children:  # stopped early: stop the children too
            _close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(pid)


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
                payload = ("ok", func(share))
            except BaseException as exc:  # noqa: BLE001 - sent to the parent
                payload = ("error", exc)
            try:
                data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - an unpicklable exception
                data = pickle.dumps(
                    ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
                )
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
        kind, value = pickle.loads(data)
        if kind == "ok":
            return value
        raise value
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
