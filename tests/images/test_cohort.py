"""Cohort manifests, the folder convention, and validation."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radsarc.exceptions import CohortValidationError
from radsarc.images import Cohort, read_image
from tests.conftest import write_image


def _ball(shape=(8, 16, 16), radius=4, label=1):
    z, y, x = np.indices(shape)
    c = [(n - 1) / 2 for n in shape]
    inside = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= radius**2
    return inside.astype(np.uint8) * label


@pytest.fixture
def files(tmp_path):
    """Two good cases (image + mask) in tmp_path/data."""
    d = tmp_path / "data"
    d.mkdir()
    rng = np.random.default_rng(0)
    for cid in ("A", "B"):
        write_image(
            d / f"{cid}_img.nii.gz", rng.normal(100, 10, (8, 16, 16)).astype(np.float32)
        )
        write_image(d / f"{cid}_mask.nii.gz", _ball())
    return d


def _manifest(tmp_path, rows, name="manifest.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_single_sequence_manifest_relative_paths_and_covariates(tmp_path, files):
    path = _manifest(
        tmp_path,
        [
            {
                "case_id": "A",
                "image": "data/A_img.nii.gz",
                "mask": "data/A_mask.nii.gz",
                "label": 1,
                "group": "c1",
                "age": 60,
            },
            {
                "case_id": "B",
                "image": "data/B_img.nii.gz",
                "mask": "data/B_mask.nii.gz",
                "label": 0,
                "group": "c2",
                "age": 45,
            },
        ],
    )
    cohort = Cohort.from_csv(path)
    assert len(cohort) == 2
    assert cohort.sequences == ("",)
    assert not cohort.multi_sequence
    assert cohort["A"].images[""] == tmp_path / "data" / "A_img.nii.gz"
    assert cohort.labels.tolist() == [1, 0]
    assert cohort.groups.tolist() == ["c1", "c2"]
    assert cohort.clinical().loc["B", "age"] == 45
    assert cohort.validate().ok


def test_multi_sequence_manifest_with_shared_and_own_masks(tmp_path, files):
    path = _manifest(
        tmp_path,
        [
            {
                "case_id": "A",
                "image_T1": "data/A_img.nii.gz",
                "image_T2FS": "data/B_img.nii.gz",
                "mask": "data/A_mask.nii.gz",
                "mask_T2FS": "data/B_mask.nii.gz",
            }
        ],
    )
    cohort = Cohort.from_csv(path)
    assert cohort.sequences == ("T1", "T2FS")
    assert cohort.multi_sequence
    assert cohort["A"].masks["T1"].name == "A_mask.nii.gz"
    assert cohort["A"].masks["T2FS"].name == "B_mask.nii.gz"


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        (["image", "mask"], r"has no 'case_id' column"),
        (
            ["case_id", "mask"],
            r"has no image column; expected 'image' or one 'image_<SEQ>'",
        ),
        (["case_id", "image"], r"has no mask column for the image; expected 'mask'"),
        (
            ["case_id", "image_T1", "image_T2", "mask_T1"],
            r"no mask column for sequence 'T2'; expected 'mask_T2' or a shared 'mask'",
        ),
        (
            ["case_id", "image", "image_T1", "mask"],
            r"has both an 'image' column and per-sequence columns",
        ),
        (
            ["case_id", "image_T1", "mask_T1", "mask_T2"],
            r"mask columns \['mask_T2'\] without matching image columns",
        ),
    ],
)
def test_manifest_without_required_columns(tmp_path, columns, match):
    path = _manifest(
        tmp_path, [{c: "x.nii.gz" if c != "case_id" else "A" for c in columns}]
    )
    with pytest.raises(CohortValidationError, match=match):
        Cohort.from_csv(path)


def test_duplicate_case_ids_and_empty_cells_are_all_reported(tmp_path):
    path = _manifest(
        tmp_path,
        [
            {"case_id": "A", "image": "a.nii", "mask": "m.nii"},
            {"case_id": "A", "image": "b.nii", "mask": "m.nii"},
        ],
    )
    with pytest.raises(
        CohortValidationError, match=r"Case ids must be unique.*duplicated: 'A'"
    ):
        Cohort.from_csv(path)
    path = _manifest(
        tmp_path,
        [
            {"case_id": "A", "image": "a.nii", "mask": None},
            {"case_id": None, "image": "b.nii", "mask": "m.nii"},
        ],
    )
    with pytest.raises(CohortValidationError, match=r"2 problem\(s\)") as info:
        Cohort.from_csv(path)
    text = str(info.value)
    assert "case 'A'" in text
    assert "column 'mask' is empty" in text
    assert "row 3 has an empty case_id" in text


def test_missing_manifest():
    with pytest.raises(FileNotFoundError, match=r"Manifest .*nope\.csv does not exist"):
        Cohort.from_csv("nope.csv")


def test_from_directory_convention(tmp_path):
    root = tmp_path / "cohort"
    for cid in ("P1", "P2"):
        (root / cid).mkdir(parents=True)
        write_image(root / cid / "T1.nii.gz", np.ones((8, 16, 16), np.int16))
        write_image(root / cid / "T2FS.nrrd", np.ones((8, 16, 16), np.int16))
        write_image(root / cid / "mask.nii.gz", _ball())
    write_image(root / "P2" / "mask_T2FS.nii.gz", _ball(radius=3))
    (root / "P1" / "notes.txt").write_text("ignored")
    pd.DataFrame({"case_id": ["P1", "P2"], "label": [0, 1], "site": ["x", "y"]}).to_csv(
        root / "labels.csv", index=False
    )
    cohort = Cohort.from_directory(root)
    assert cohort.case_ids == ["P1", "P2"]
    assert cohort.sequences == ("T1", "T2FS")
    assert cohort["P2"].masks["T2FS"].name == "mask_T2FS.nii.gz"
    assert cohort["P1"].masks["T2FS"].name == "mask.nii.gz"
    assert cohort.labels.tolist() == [0, 1]
    assert cohort["P2"].covariates == {"site": "y"}
    assert cohort.validate().ok


def test_from_directory_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Cohort folder .* does not exist"):
        Cohort.from_directory(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CohortValidationError, match=r"has no case folders"):
        Cohort.from_directory(tmp_path / "empty")


def _dicom_series(folder, array, spacing=(0.8, 0.8, 2.5)):
    """Write a (z, y, x) int16 array as a DICOM series, one file per slice."""
    folder.mkdir()
    img = sitk.GetImageFromArray(array)
    img.SetSpacing(spacing)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1.12345"
    for z in range(img.GetDepth()):
        sl = img[:, :, z]
        for tag, value in (
            ("0008|0060", "MR"),
            ("0020|000e", series_uid),
            ("0020|0013", str(z + 1)),
            ("0020|0032", f"0\\0\\{z * spacing[2]}"),
            ("0020|0037", "1\\0\\0\\0\\1\\0"),
            ("0008|0018", f"{series_uid}.{z + 1}"),
            ("0028|0030", f"{spacing[1]}\\{spacing[0]}"),
            ("0018|0050", str(spacing[2])),
        ):
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{z:03d}.dcm"))
        writer.Execute(sl)


def test_dicom_series_folder_reads_as_3d(tmp_path):
    arr = (np.arange(6 * 12 * 10).reshape(6, 12, 10) % 500).astype(np.int16)
    _dicom_series(tmp_path / "series", arr)
    img = read_image(tmp_path / "series")
    assert img.GetSize() == (10, 12, 6)
    np.testing.assert_allclose(img.GetSpacing(), (0.8, 0.8, 2.5), rtol=1e-6)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), arr)


def test_unreadable_dicom_folder(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.dcm").write_bytes(b"not dicom")
    with pytest.raises(
        ValueError, match=r"Folder .*junk holds no readable DICOM series"
    ):
        read_image(tmp_path / "junk")


# --- validation ------------------------------------------------------------------


def _cohort(tmp_path, rows):
    return Cohort.from_csv(_manifest(tmp_path, rows))


def test_validate_reports_every_problem_with_case_file_and_expectation(tmp_path, files):
    d = files
    write_image(d / "flat.nii.gz", np.ones((16, 16), np.float32))  # 2-D image
    write_image(d / "empty_mask.nii.gz", np.zeros((8, 16, 16), np.uint8))
    write_image(d / "label2.nii.gz", _ball(label=2))
    write_image(d / "shifted.nii.gz", _ball(), origin=(5.0, 0.0, 0.0))
    # On the image's voxel grid but over another extent, reaching outside it.
    write_image(d / "small.nii.gz", _ball(shape=(12, 8, 8), radius=3))
    nan_img = np.full((8, 16, 16), 50.0, np.float32)
    nan_img[4, 8, 8] = np.nan
    # NRRD keeps NaN; ITK's NIfTI reader turns NaN voxels into 0 on reading.
    write_image(d / "nan.nrrd", nan_img)
    (d / "corrupt.nii.gz").write_bytes(gzip.compress(b"\x00" * 40)[:20])
    rows = [
        {"case_id": "ok", "image": "data/A_img.nii.gz", "mask": "data/A_mask.nii.gz"},
        {
            "case_id": "missing",
            "image": "data/none.nii.gz",
            "mask": "data/A_mask.nii.gz",
        },
        {
            "case_id": "corrupt",
            "image": "data/corrupt.nii.gz",
            "mask": "data/A_mask.nii.gz",
        },
        {"case_id": "twod", "image": "data/flat.nii.gz", "mask": "data/A_mask.nii.gz"},
        {
            "case_id": "empty",
            "image": "data/A_img.nii.gz",
            "mask": "data/empty_mask.nii.gz",
        },
        {
            "case_id": "otherlabel",
            "image": "data/A_img.nii.gz",
            "mask": "data/label2.nii.gz",
        },
        {
            "case_id": "shifted",
            "image": "data/A_img.nii.gz",
            "mask": "data/shifted.nii.gz",
        },
        {"case_id": "size", "image": "data/A_img.nii.gz", "mask": "data/small.nii.gz"},
        {"case_id": "nan", "image": "data/nan.nrrd", "mask": "data/A_mask.nii.gz"},
    ]
    report = _cohort(tmp_path, rows).validate(label=1)
    assert not report.ok
    by_case = {p.case_id: p for p in report.problems}
    assert set(by_case) == {r["case_id"] for r in rows} - {"ok"}
    expected = {
        "missing": ("exists", r"image file does not exist"),
        "corrupt": (
            "readable",
            r"Cannot read image .*corrupt\.nii\.gz: expected a readable",
        ),
        "twod": ("dimension", r"image is 2-D .* expected a 3-D scalar volume"),
        "empty": ("label", r"no voxels with label 1 \(values present: 0\)"),
        "otherlabel": ("label", r"no voxels with label 1 \(values present: 0, 2\)"),
        "shifted": ("geometry", r"origin \(5, 0, 0\) != image origin \(0, 0, 0\)"),
        "size": ("geometry", r"reaches outside image .* labelled voxels lie outside"),
        "nan": ("finite", r"1 of \d+ voxels inside the mask are NaN or infinite"),
    }
    for case_id, (check, pattern) in expected.items():
        problem = by_case[case_id]
        assert problem.check == check, (case_id, problem)
        assert re.search(pattern, problem.message), problem.message
        assert problem.file.endswith((".nii.gz", ".nrrd"))
    assert report.to_frame().shape == (8, 5)
    with pytest.raises(
        CohortValidationError, match=r"8 problem\(s\) in 8 of 9 case\(s\)"
    ):
        report.raise_if_problems()
    assert "case 'missing', file " in str(report)


def test_validate_can_resample_a_mask_onto_the_image(tmp_path, files):
    write_image(files / "shifted.nii.gz", _ball(), origin=(1.0, 0.0, 0.0))
    cohort = _cohort(
        tmp_path,
        [
            {
                "case_id": "s",
                "image": "data/A_img.nii.gz",
                "mask": "data/shifted.nii.gz",
            },
        ],
    )
    assert [p.check for p in cohort.validate().problems] == ["geometry"]
    report = cohort.validate(resample_mask=True)
    assert report.ok
    assert report.resampled == [("s", "")]
    # Within tolerance: a 1e-5 mm origin difference is not a mismatch.
    write_image(files / "tiny.nii.gz", _ball(), origin=(1e-5, 0.0, 0.0))
    cohort = _cohort(
        tmp_path,
        [
            {"case_id": "t", "image": "data/A_img.nii.gz", "mask": "data/tiny.nii.gz"},
        ],
    )
    assert cohort.validate().ok
