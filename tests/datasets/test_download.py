"""Resumable, verified, atomic downloads, against a local server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from radsarc.datasets import download_file, get_data_home
from radsarc.datasets._download import fetch_json
from tests.datasets.conftest import closed_port

BODY = np.random.default_rng(0).bytes(300_000)
SHA = hashlib.sha256(BODY).hexdigest()
FAST = {"retries": 2, "backoff": 0.01, "progress": False}


def test_download_places_verified_file(fixture_server, tmp_path):
    url = fixture_server.add("/file.bin", BODY)
    target = tmp_path / "sub" / "file.bin"
    assert download_file(url, target, sha256=SHA, **FAST) == target
    assert target.read_bytes() == BODY
    assert not (tmp_path / "sub" / "file.bin.part").exists()
    # A second call uses the cached, verified file: no new request.
    download_file(url, target, sha256=SHA, **FAST)
    assert len(fixture_server.hits("/file.bin")) == 1


def test_interrupted_download_resumes_with_range(fixture_server, tmp_path):
    url = fixture_server.add("/big.bin", BODY, drop_once=True)
    target = download_file(url, tmp_path / "big.bin", sha256=SHA, **FAST)
    assert target.read_bytes() == BODY
    first, second = fixture_server.hits("/big.bin")
    assert "Range" not in first
    # The second request asks only for what is missing.
    assert second["Range"] == f"bytes={len(BODY) // 2}-"


def test_server_ignoring_range_restarts_from_zero(fixture_server, tmp_path):
    url = fixture_server.add("/big.bin", BODY, drop_once=True, honour_range=False)
    target = download_file(url, tmp_path / "big.bin", sha256=SHA, **FAST)
    assert target.read_bytes() == BODY


def test_leftover_part_file_is_resumed(fixture_server, tmp_path):
    url = fixture_server.add("/big.bin", BODY)
    target = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(BODY[:1000])
    download_file(url, target, size=len(BODY), **FAST)
    assert target.read_bytes() == BODY
    assert fixture_server.hits("/big.bin")[0]["Range"] == "bytes=1000-"


def test_checksum_mismatch_is_refused_and_nothing_left(fixture_server, tmp_path):
    corrupted = BODY[:-1] + bytes([BODY[-1] ^ 0xFF])
    url = fixture_server.add("/bad.bin", corrupted)
    target = tmp_path / "bad.bin"
    with pytest.raises(ValueError, match=r"Checksum mismatch for http://127\.0\.0\.1"):
        download_file(url, target, sha256=SHA, **FAST)
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_wrong_size_is_refused(fixture_server, tmp_path):
    url = fixture_server.add("/short.bin", BODY[:100])
    with pytest.raises(ValueError, match="announces 100 bytes but 300000 were"):
        download_file(url, tmp_path / "short.bin", size=len(BODY), **FAST)
    assert not (tmp_path / "short.bin").exists()


def test_validator_refusal_deletes_the_download(fixture_server, tmp_path):
    url = fixture_server.add("/x.zip", b"not a zip")

    def must_be_zip(path):
        raise ValueError("not a ZIP archive")

    with pytest.raises(ValueError, match=r"is not valid \(not a ZIP archive\)"):
        download_file(url, tmp_path / "x.zip", validate=must_be_zip, **FAST)
    assert os.listdir(tmp_path) == []


def test_unreachable_host_names_url_and_setting(loopback_only, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/file.bin"
    with pytest.raises(ConnectionError, match=r"Could not download .*\.bin after 3"):
        download_file(url, tmp_path / "f", setting="the_setting=", **FAST)
    with pytest.raises(ConnectionError, match="change the_setting="):
        download_file(url, tmp_path / "f", setting="the_setting=", **FAST)
    assert os.listdir(tmp_path) == []


def test_http_404_is_not_retried(fixture_server, tmp_path):
    url = fixture_server.url("/missing.bin")
    with pytest.raises(ConnectionError, match=r"refused .*missing\.bin: HTTP 404"):
        download_file(url, tmp_path / "m", **FAST)
    assert len(fixture_server.hits("/missing.bin")) == 1


def test_server_errors_are_retried(fixture_server, tmp_path):
    url = fixture_server.add("/flaky.json", {"ok": 1}, status=503)
    with pytest.raises(ConnectionError, match="after 3 attempt"):
        fetch_json(url, retries=2, backoff=0.01)
    assert len(fixture_server.hits("/flaky.json")) == 3
    fixture_server.add("/ok.json", lambda query: {"query": query})
    assert fetch_json(fixture_server.url("/ok.json?a=1")) == {"query": {"a": "1"}}


def test_fetch_json_refuses_non_json(fixture_server):
    url = fixture_server.add("/page", b"<html>")
    with pytest.raises(ValueError, match=r"did not return JSON"):
        fetch_json(url, retries=0)


def test_get_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RADSARC_DATA", str(tmp_path / "env_home"))
    assert get_data_home() == tmp_path / "env_home"
    assert get_data_home(tmp_path / "given").is_dir()
