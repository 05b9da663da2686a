"""Resumable, verified, atomic downloads over plain HTTP(S).

Every public data set loader in :mod:`radsarc.datasets` fetches its files through
:func:`download_file`: the bytes go to ``<target>.part``, an interrupted transfer
resumes with an HTTP ``Range`` request, transient failures are retried with
exponential back-off, the finished file is checked (size, checksum and an
optional validator such as "is a readable ZIP") and only then renamed into
place. A file at the target path is therefore always complete and verified;
nothing half-written is ever read as data.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from radsarc._version import __version__

__all__ = ["download_file", "fetch_json", "get_data_home"]

logger = logging.getLogger(__name__)

#: Environment variable that overrides the default cache folder.
DATA_HOME_ENV = "RADSARC_DATA"

_CHUNK = 1 << 16
_USER_AGENT = f"radsarc/{__version__} (+https://github.com/radsarc/radsarc)"
# HTTP statuses worth retrying: time-outs, rate limits and server-side trouble.
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder where radsarc caches downloaded data sets.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When None, the environment variable ``RADSARC_DATA``
        is used, else ``~/radsarc_data``.

    Returns
    -------
    path : pathlib.Path
        The folder (created if missing).

    Examples
    --------
    >>> from radsarc.datasets import get_data_home
    >>> get_data_home("/tmp/radsarc_doctest").name
    'radsarc_doctest'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path.home() / "radsarc_data"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _setting_hint(setting: str | None) -> str:
    return (
        f" If the host has moved or is mirrored, change {setting}." if setting else ""
    )


def _open(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> http.client.HTTPResponse:
    request = urllib.request.Request(
        url, headers={"User-Agent": _USER_AGENT, **dict(headers or {})}
    )
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310


def _is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying (network trouble, 5xx, 429)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in _RETRY_STATUS
    return isinstance(
        exc,
        urllib.error.URLError
        | http.client.HTTPException
        | ConnectionError
        | TimeoutError
        | socket.timeout
        | _ShortRead,
    )


class _ShortRead(OSError):
    """The server closed the connection before sending every byte."""


def _unreachable(url: str, attempts: int, exc: BaseException, setting: str | None):
    reason = getattr(exc, "reason", None) or exc
    return ConnectionError(
        f"Could not download {url} after {attempts} attempt(s): {reason}. Check the "
        f"network connection and that the host is reachable.{_setting_hint(setting)}"
    )


def _http_error(url: str, exc: urllib.error.HTTPError, setting: str | None):
    return ConnectionError(
        f"The server refused {url}: HTTP {exc.code} {exc.reason}. Expected the file "
        f"to be publicly available at this address.{_setting_hint(setting)}"
    )


def fetch_json(
    url: str,
    *,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    setting: str | None = None,
):
    """GET a URL and parse its JSON body, retrying transient failures.

    Parameters
    ----------
    url : str
        The address (query string included).
    retries : int, default=4
        Retries after the first attempt, with ``backoff * 2**i`` seconds between.
    backoff : float, default=1.0
        First pause in seconds.
    timeout : float, default=60.0
        Socket time-out in seconds.
    setting : str, default=None
        The setting that chooses the host, named in error messages.

    Returns
    -------
    object
        The parsed JSON.

    Raises
    ------
    ConnectionError
        If the host cannot be reached or refuses the request.
    ValueError
        If the body is not JSON.
    """
    last: BaseException | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            with _open(
                url, headers={"Accept": "application/json"}, timeout=timeout
            ) as r:
                body = r.read()
            break
        except urllib.error.HTTPError as exc:
            if not _is_transient(exc):
                raise _http_error(url, exc, setting) from None
            last = exc
        except Exception as exc:  # noqa: BLE001 - filtered just below
            if not _is_transient(exc):
                raise
            last = exc
        logger.info(
            "GET %s failed (%s); attempt %d of %d", url, last, attempt + 1, retries + 1
        )
    else:
        raise _unreachable(url, retries + 1, last, setting) from last
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{url} did not return JSON ({exc}); first bytes: {body[:80]!r}. Expected "
            f"the host's REST API at this address.{_setting_hint(setting)}"
        ) from None


def _content_total(response, offset: int) -> int | None:
    """Total size of the file from Content-Range / Content-Length, if given."""
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    length = response.headers.get("Content-Length")
    if length is not None and length.strip().isdigit():
        return int(length) + (offset if response.status == 206 else 0)
    return None


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(
    path: Path,
    *,
    url: str,
    target: Path,
    expected_size: int | None,
    checksums: Mapping[str, str],
    validate: Callable[[Path], None] | None,
) -> None:
    """Raise ValueError when the downloaded file is not what was expected."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        raise ValueError(
            f"Download of {url} is {size} bytes but {expected_size} were expected; "
            f"the incomplete file was deleted and nothing was written to {target}."
        )
    for algorithm, expected in checksums.items():
        got = _file_digest(path, algorithm)
        if got.lower() != expected.lower():
            raise ValueError(
                f"Checksum mismatch for {url}: expected {algorithm} {expected}, got "
                f"{got}. The file is corrupted or has changed upstream; it was "
                f"deleted and nothing was written to {target}."
            )
    if validate is not None:
        try:
            validate(path)
        except Exception as exc:
            raise ValueError(
                f"Download of {url} is not valid ({exc}); it was deleted and nothing "
                f"was written to {target}."
            ) from None


def download_file(
    url: str,
    target: str | os.PathLike,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    size: int | None = None,
    validate: Callable[[Path], None] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    setting: str | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> Path:
    """Download ``url`` to ``target``: resumable, retried, verified, atomic.

    Parameters
    ----------
    url : str
        The address of the file.
    target : str or path-like
        Where the verified file is placed. Parent folders are created.
    sha256, md5 : str, default=None
        Expected hex digests; the download is refused when they differ.
    size : int, default=None
        Expected size in bytes. When None, the size the server announced
        (``Content-Length``/``Content-Range``) is required instead.
    validate : callable, default=None
        Called with the finished ``.part`` file before it is renamed into place
        (for example "is a readable ZIP"); any exception refuses the download.
    retries : int, default=5
        Retries after the first attempt. A transfer cut short resumes from the
        bytes already received (HTTP ``Range``); a server that ignores ``Range``
        restarts it.
    backoff : float, default=1.0
        Pause before the first retry in seconds, doubled at each retry.
    timeout : float, default=60.0
        Socket time-out in seconds.
    setting : str, default=None
        The setting (argument or environment variable) that chooses the host,
        named in the error when the host cannot be reached.
    progress : bool, default=None
        Show a tqdm progress bar; None shows it on a terminal only.
    force : bool, default=False
        Download again even when ``target`` exists.

    Returns
    -------
    path : pathlib.Path
        ``target``.

    Raises
    ------
    ConnectionError
        If the host cannot be reached after every retry, or refuses the request.
    ValueError
        If the file has the wrong size or checksum or fails ``validate``; the
        partial file is deleted and nothing is written to ``target``.

    Notes
    -----
    An existing ``target`` is trusted without reading it again unless a
    checksum is given, in which case it is verified (and re-downloaded when it
    does not match). It was only ever renamed into place after verification.
    """
    from tqdm.auto import tqdm

    target = Path(target)
    checksums = {k: v for k, v in (("sha256", sha256), ("md5", md5)) if v}
    if target.exists() and not force:
        mismatched = [
            a for a, v in checksums.items() if _file_digest(target, a) != v.lower()
        ]
        if not mismatched:
            logger.debug("Using cached %s", target)
            return target
        logger.warning(
            "Cached %s does not match its %s; downloading it again.",
            target,
            mismatched[0],
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    if force and part.exists():
        part.unlink()

    total = size
    last: BaseException | None = None
    bar = None
    try:
        for attempt in range(retries + 1):
            if attempt:
                pause = backoff * 2 ** (attempt - 1)
                logger.info(
                    "Download of %s interrupted (%s); retry %d of %d in %.1f s",
                    url,
                    last,
                    attempt,
                    retries,
                    pause,
                )
                time.sleep(pause)
            offset = part.stat().st_size if part.exists() else 0
            if total is not None and offset == total:
                break  # a previous run received everything but did not verify yet
            if total is not None and offset > total:
                part.unlink()
                offset = 0
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                response = _open(url, headers=headers, timeout=timeout)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and offset:
                    # Range not satisfiable: the .part is complete or stale.
                    length = exc.headers.get("Content-Range", "").rsplit("/", 1)[-1]
                    if length.isdigit() and int(length) == offset:
                        total = offset
                        break
                    part.unlink()
                    last = exc
                    continue
                if not _is_transient(exc):
                    raise _http_error(url, exc, setting) from None
                last = exc
                continue
            except Exception as exc:  # noqa: BLE001 - filtered just below
                if not _is_transient(exc):
                    raise
                last = exc
                continue
            with response:
                if offset and response.status != 206:
                    logger.info("%s ignored the Range request; restarting", url)
                    offset = 0
                announced = _content_total(response, offset)
                if total is None:
                    total = announced
                elif announced is not None and announced != total:
                    raise ValueError(
                        f"{url} announces {announced} bytes but {total} were "
                        f"expected; nothing was written to {target}."
                    )
                if bar is None:
                    bar = tqdm(
                        total=total,
                        initial=offset,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=target.name,
                        disable=None if progress is None else not progress,
                        leave=False,
                    )
                else:
                    bar.reset(total=total)
                    bar.update(offset)
                received = offset
                try:
                    with part.open("ab" if offset else "wb") as handle:
                        while chunk := response.read(_CHUNK):
                            handle.write(chunk)
                            received += len(chunk)
                            bar.update(len(chunk))
                    if total is not None and received < total:
                        raise _ShortRead(
                            f"connection closed after {received} of {total} bytes"
                        )
                except Exception as exc:  # noqa: BLE001 - filtered just below
                    if not _is_transient(exc):
                        raise
                    last = exc
                    continue
            break
        else:
            raise _unreachable(url, retries + 1, last, setting) from last
    finally:
        if bar is not None:
            bar.close()

    try:
        _verify(
            part,
            url=url,
            target=target,
            expected_size=total,
            checksums=checksums,
            validate=validate,
        )
    except ValueError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    logger.info("Downloaded %s to %s", url, target)
    return target


def join_url(base: str, *parts: str, query: Mapping[str, str] | None = None) -> str:
    """``base`` joined with quoted path ``parts`` and an encoded query string."""
    url = base.rstrip("/")
    for p in parts:
        p = str(p)
        if p.startswith("/"):
            url += p  # an absolute path given by the server (already quoted)
        else:
            url += "/" + urllib.parse.quote(p, safe="")
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return url
