"""Run radsarc's joblib work on a Dask distributed cluster.

radsarc parallelises with joblib. :func:`parallel_backend` points joblib at a
running Dask scheduler (joblib's own ``"dask"`` backend), so any ``Parallel``
call made inside the ``with`` block sends its tasks to the cluster's workers
instead of local processes. Dask (``distributed``) is an optional dependency:
``pip install radsarc[dask]``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

__all__ = ["import_distributed", "parallel_backend", "watch_parent", "watched"]

logger = logging.getLogger(__name__)

#: How long to wait for a Dask scheduler to answer before giving up.
CONNECT_TIMEOUT = "30s"


def import_distributed():
    """Import :mod:`distributed`, or raise an ImportError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "Running on a Dask cluster (scheduler=...) needs the 'distributed' "
            "package: pip install 'radsarc[dask]' (or pip install distributed)."
        ) from exc
    return distributed


@contextlib.contextmanager
def parallel_backend(scheduler=None) -> Iterator[object | None]:
    """Send joblib work inside the block to a Dask cluster.

    Parameters
    ----------
    scheduler : str, distributed.Client or None, default=None
        Address of a running Dask scheduler (``"tcp://host:8786"``), or a
        connected ``distributed.Client``. None: do nothing (joblib's local
        backend, as without the block).

    Yields
    ------
    distributed.Client or None
        The client in use (closed on exit if this function opened it).

    Notes
    -----
    Workers must see the files the tasks read and write (images, masks, the
    cache folder) at the same paths as the client, e.g. on a shared file
    system, and run the same radsarc and pyradiomics versions.
    With the Dask backend joblib runs as many tasks at once as the cluster has
    worker threads, whatever ``n_jobs`` says.

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> from radsarc._parallel import parallel_backend
    >>> with parallel_backend("tcp://10.0.0.5:8786"):  # doctest: +SKIP
    ...     squares = Parallel()(delayed(pow)(i, 2) for i in range(10))
    """
    if scheduler is None:
        yield None
        return
    distributed = import_distributed()
    import joblib

    if isinstance(scheduler, distributed.Client):
        client, owned = scheduler, False
    elif isinstance(scheduler, str) and scheduler:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise ConnectionError(
                f"Cannot connect to the Dask scheduler at {scheduler!r}: {exc}. "
                "Is `dask scheduler` running there and reachable?"
            ) from exc
        owned = True
    else:
        raise TypeError(
            "scheduler must be a Dask scheduler address such as "
            f"'tcp://host:8786', a distributed.Client, or None; got {scheduler!r}."
        )
    logger.info("running on Dask scheduler %s", client.scheduler.address)
    try:
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=60):
            yield client
    finally:
        if owned:
            client.close()


_WATCHDOG_STARTED = False


def watch_parent(main_pid: int, poll: float = 0.5) -> None:
    """In a worker process, exit as soon as the process that started it dies.

    joblib's loky workers outlive a parent killed with SIGKILL for minutes
    (they wait for work until their idle time-out), each holding hundreds of MB.
    Called at the start of every task with the pid of the process that
    submitted it: in any other process (a worker), the first call starts a
    daemon thread that checks every ``poll`` seconds whether the worker was
    re-parented (its parent died) and then ends the worker at once. In the
    submitting process itself (``n_jobs=1``, threads) it does nothing.
    """
    global _WATCHDOG_STARTED
    import os

    if _WATCHDOG_STARTED or os.getpid() == main_pid:
        return
    _WATCHDOG_STARTED = True
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="radsarc-parent-watchdog", daemon=True).start()


def watched(func):
    """``func`` for ``joblib.delayed``, ending its worker with the calling process.

    ``Parallel(n_jobs)(delayed(watched(f))(x) for x in ...)`` runs ``f(x)`` as
    before; in a worker process it first starts :func:`watch_parent` for the
    process that built the call, so that the worker ends when that process is
    killed (``kill -9``) instead of idling for minutes with its memory. The
    result is picklable (a ``functools.partial`` of module-level functions).
    """
    import functools
    import os

    return functools.partial(_call_watched, os.getpid(), func)


def _call_watched(main_pid: int, func, *args, **kwargs):
    watch_parent(main_pid)
    return func(*args, **kwargs)
