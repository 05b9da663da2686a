"""fetch_worc_table and fetch_worc_images against a local radMLBench / XNAT mimic."""

from __future__ import annotations

import hashlib
import os
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radsarc.datasets import fetch_worc_images, fetch_worc_table, load_worc_table
from radsarc.datasets._worc_fetch import RADMLBENCH_SHA256
from tests.datasets.conftest import closed_port

FAST = {"retries": 1, "backoff": 0.01, "progress": False}
PROJECT = "/data/projects/worc/subjects"


def _embedded(name: str) -> bytes:
    path = resources.files("radsarc").joinpath("data", "worc", f"WORC-{name}.csv.gz")
    return path.read_bytes()


@pytest.mark.parametrize("name", ["Lipo", "Desmoid"])
def test_recorded_checksums_are_those_of_the_bundled_tables(name):
    assert hashlib.sha256(_embedded(name)).hexdigest() == RADMLBENCH_SHA256[name]


def test_fetch_worc_table_downloads_resumes_and_matches_bundled(
    fixture_server, tmp_path
):
    fixture_server.add("/rmb/datasets/WORC-Lipo.gz", _embedded("Lipo"), drop_once=True)
    X, y = fetch_worc_table(
        "worc-lipo", data_home=tmp_path, base_url=fixture_server.url("/rmb")
    )
    X_ref, y_ref = load_worc_table("Lipo")
    pd.testing.assert_frame_equal(X, X_ref)
    pd.testing.assert_series_equal(y, y_ref)
    assert (tmp_path / "worc" / "tables" / "WORC-Lipo.csv.gz").is_file()
    assert len(fixture_server.hits("/rmb/datasets/WORC-Lipo.gz")) == 2  # resumed


def test_fetch_worc_table_refuses_a_corrupted_table(
    fixture_server, tmp_path, monkeypatch
):
    body = bytearray(_embedded("Desmoid"))
    body[1000] ^= 0xFF
    fixture_server.add("/rmb/datasets/WORC-Desmoid.gz", bytes(body))
    monkeypatch.setenv("RADSARC_RADMLBENCH_URL", fixture_server.url("/rmb"))
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*WORC-Desmoid\.gz"):
        fetch_worc_table("Desmoid", data_home=tmp_path, **FAST)
    assert os.listdir(tmp_path / "worc" / "tables") == []


def test_fetch_worc_table_unreachable_names_the_setting(loopback_only, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(ConnectionError, match="RADSARC_RADMLBENCH_URL"):
        fetch_worc_table("Lipo", data_home=tmp_path, base_url=url, **FAST)


# -- a minimal XNAT ---------------------------------------------------------


def _nifti(path, array):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.8, 0.8, 3.0))
    sitk.WriteImage(image, str(path))
    return path.read_bytes()


def _serve_xnat(server, tmp_path, subjects, *, prefix="/xnat"):
    """subjects: {label: (dataset, diagnosis, {file name: bytes}) }."""
    listing = []
    for n, (label, (dataset, diagnosis, files)) in enumerate(sorted(subjects.items())):
        sid = f"XNAT_S{n:05d}"
        listing.append({"ID": sid, "label": label, "URI": f"/data/subjects/{sid}"})
        fields = [
            {"data_fields": {"name": "dataset", "field": dataset}, "children": []},
            {"data_fields": {"name": "diagnosis_binary", "field": str(diagnosis)}},
        ]
        document = {
            "items": [
                {
                    "data_fields": {"ID": sid, "label": label, "project": "worc"},
                    "children": [{"field": "fields/field", "items": fields}],
                }
            ]
        }
        base = f"{prefix}{PROJECT}/{sid}"
        server.add(base, document)
        eid = f"XNAT_E{n:05d}"
        server.add(f"{base}/experiments", {"ResultSet": {"Result": [{"ID": eid}]}})
        scans = f"{base}/experiments/{eid}/scans"
        server.add(scans, {"ResultSet": {"Result": [{"ID": "1"}]}})
        resources_ = [{"label": "NIFTI"}] if files else [{"label": "DICOM"}]
        server.add(f"{scans}/1/resources", {"ResultSet": {"Result": resources_}})
        entries = []
        for name, body in files.items():
            uri = f"/data/experiments/{eid}/scans/1/resources/99/files/{name}"
            server.add(prefix + uri, body)
            entries.append(
                {
                    "Name": name,
                    "Size": str(len(body)),
                    "URI": uri,
                    "digest": hashlib.md5(body).hexdigest(),
                }
            )
        server.add(
            f"{scans}/1/resources/NIFTI/files", {"ResultSet": {"Result": entries}}
        )
    server.add(f"{prefix}{PROJECT}", {"ResultSet": {"Result": listing}})
    return server.url(prefix)


@pytest.fixture
def xnat(fixture_server, tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 500, size=(4, 10, 10)).astype(np.int16)
    mask = np.zeros((4, 10, 10), np.uint8)
    mask[1:3, 3:7, 3:7] = 1
    img = _nifti(tmp_path / "i.nii.gz", image)
    seg = _nifti(tmp_path / "m.nii.gz", mask)
    subjects = {
        "Lipo-001": ("Lipo", 0, {"image.nii.gz": img, "segmentation.nii.gz": seg}),
        "Lipo-002": ("Lipo", 1, {"image.nii.gz": img, "segmentation.nii.gz": seg}),
        "Lipo-073": (
            "Lipo",
            1,
            {
                "image.nii.gz": img,
                "segmentation_Lipoma.nii.gz": seg,
                "segmentation_WDLPS.nii.gz": seg,
            },
        ),
        "Desmoid-001": (
            "Desmoid",
            1,
            {"image.nii.gz": img, "segmentation.nii.gz": seg},
        ),
    }
    return _serve_xnat(fixture_server, tmp_path, subjects)


def test_fetch_worc_images_builds_a_labelled_cohort(xnat, fixture_server, tmp_path):
    home = tmp_path / "home"
    cohort = fetch_worc_images("Lipo", data_home=home, xnat_url=xnat, **FAST)
    assert cohort.case_ids == [
        "Lipo-001",
        "Lipo-002",
        "Lipo-073_Lipoma",
        "Lipo-073_WDLPS",
    ]
    assert cohort.labels.tolist() == [0, 1, 0, 1]
    assert cohort.validate().ok
    assert cohort.clinical()["patient_id"].tolist()[2:] == ["Lipo-073", "Lipo-073"]
    manifest = pd.read_csv(home / "worc" / "Lipo" / "manifest.csv")
    assert manifest.loc[0, "image"] == "Lipo-001/image.nii.gz"
    # Other data sets' subjects are not even opened.
    assert not fixture_server.hits(f"/xnat{PROJECT}/XNAT_S00000")
    # A second run downloads nothing again.
    before = len(fixture_server.requests)
    fetch_worc_images("Lipo", data_home=home, xnat_url=xnat, **FAST)
    new = [p for p, _ in fixture_server.requests[before:]]
    assert not [p for p in new if p.endswith(".nii.gz")]


def test_fetch_worc_images_host_from_environment(xnat, tmp_path, monkeypatch):
    monkeypatch.setenv("RADSARC_WORC_XNAT_URL", xnat)
    cohort = fetch_worc_images("desmoid", data_home=tmp_path / "h", **FAST)
    assert cohort.case_ids == ["Desmoid-001"]
    assert cohort.labels.tolist() == [1]


def test_fetch_worc_images_n_subjects(xnat, tmp_path):
    cohort = fetch_worc_images(
        "Lipo", data_home=tmp_path / "h", xnat_url=xnat, n_subjects=1, **FAST
    )
    assert cohort.case_ids == ["Lipo-001"]
    with pytest.raises(ValueError, match="n_subjects must be a positive int"):
        fetch_worc_images("Lipo", xnat_url=xnat, n_subjects=0)


def test_fetch_worc_images_skips_a_subject_without_nifti(fixture_server, tmp_path):
    img = _nifti(tmp_path / "i.nii.gz", np.ones((2, 4, 4), np.int16))
    url = _serve_xnat(
        fixture_server,
        tmp_path,
        {
            "Lipo-001": ("Lipo", 0, {"image.nii.gz": img, "segmentation.nii.gz": img}),
            "Lipo-002": ("Lipo", 1, {}),
            "Lipo-003": ("Lipo", "?", {"image.nii.gz": img}),
        },
    )
    with pytest.warns(
        UserWarning, match=r"Lipo-002: WORC subject Lipo-002 has no NIFTI"
    ):
        cohort = fetch_worc_images(
            "Lipo", data_home=tmp_path / "h", xnat_url=url, **FAST
        )
    assert cohort.case_ids == ["Lipo-001"]
    with pytest.warns(UserWarning, match=r"Lipo-003 .* has diagnosis_binary '\?'"):
        fetch_worc_images("Lipo", data_home=tmp_path / "h", xnat_url=url, **FAST)


def test_fetch_worc_images_refuses_a_corrupted_file(fixture_server, tmp_path):
    img = _nifti(tmp_path / "i.nii.gz", np.ones((2, 4, 4), np.int16))
    url = _serve_xnat(
        fixture_server,
        tmp_path,
        {"Lipo-001": ("Lipo", 0, {"image.nii.gz": img, "segmentation.nii.gz": img})},
    )
    # The server now sends other bytes of the same size than XNAT's digest says.
    path = "/xnat/data/experiments/XNAT_E00000/scans/1/resources/99/files/image.nii.gz"
    fixture_server.add(path, bytes(reversed(img)))
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*image\.nii\.gz"):
        fetch_worc_images("Lipo", data_home=tmp_path / "h", xnat_url=url, **FAST)
    assert not (tmp_path / "h" / "worc" / "Lipo" / "Lipo-001" / "image.nii.gz").exists()


def test_fetch_worc_images_unreachable_names_hosts_and_setting(loopback_only, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(ConnectionError, match="RADSARC_WORC_XNAT_URL") as info:
        fetch_worc_images("Lipo", data_home=tmp_path, xnat_url=url, **FAST)
    assert url in str(info.value)


def test_cli_fetch_worc_table(fixture_server, tmp_path):
    from click.testing import CliRunner

    from radsarc.cli import main

    fixture_server.add("/rmb/datasets/WORC-Lipo.gz", _embedded("Lipo"))
    args = ["fetch", "worc-table", "Lipo", "--data-home", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--base-url", fixture_server.url("/rmb")])
    assert result.exit_code == 0, result.output
    assert "WORC-Lipo: 114 patients x 1015 features" in result.output


@pytest.mark.parametrize(
    ("label", "file_name"),
    [
        ("Lipo-9/../../../../escaped", "segmentation.nii.gz"),
        ("Lipo-002", "segmentation_../../../escaped.nii.gz"),
    ],
    ids=["label with ..", "file name with .."],
)
def test_fetch_worc_images_refuses_names_that_leave_their_folder(
    fixture_server, tmp_path, label, file_name
):
    """Subject labels and file names from the server become paths: one that
    would leave its folder is refused (the subject skipped, named)."""
    img = _nifti(tmp_path / "i.nii.gz", np.ones((2, 4, 4), np.int16))
    seg = _nifti(tmp_path / "m.nii.gz", np.ones((2, 4, 4), np.uint8))
    url = _serve_xnat(
        fixture_server,
        tmp_path,
        {
            "Lipo-001": ("Lipo", 0, {"image.nii.gz": img, "segmentation.nii.gz": seg}),
            label: ("Lipo", 1, {"image.nii.gz": img, file_name: seg}),
        },
    )
    home = tmp_path / "a" / "b" / "home"
    with pytest.warns(UserWarning, match=r"Refusing the (subject label|file name)"):
        cohort = fetch_worc_images("Lipo", data_home=home, xnat_url=url, **FAST)
    assert cohort.case_ids == ["Lipo-001"]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(
        p.is_relative_to(home / "worc" / "Lipo") or p.parent == tmp_path
        for p in written
    ), written
