"""fetch_tcia_sts and RTSTRUCT rasterisation, on tiny DICOM series built here."""

from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radsarc.datasets import fetch_tcia_sts
from radsarc.datasets._tcia import read_sts_clinical
from radsarc.images._rtstruct import read_rtstruct, rtstruct_to_mask

FAST = {"retries": 1, "backoff": 0.01, "progress": False}
NBIA = "/nbia-api/services/v1"


def _uid():
    from pydicom.uid import generate_uid

    return generate_uid()


def _file_dataset(sop_class, sop_uid):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    return ds


def _to_bytes(ds) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def make_series(patient, study, *, description, shape, spacing, origin, frame):
    """An MR series (list of DICOM bytes) and its description for getSeries."""
    from pydicom.uid import MRImageStorage

    series_uid = _uid()
    nz, ny, nx = shape
    files = []
    for k in range(nz):
        ds = _file_dataset(MRImageStorage, _uid())
        ds.Modality = "MR"
        ds.PatientID = ds.PatientName = patient
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series_uid
        ds.FrameOfReferenceUID = frame
        ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = description, 1, k + 1
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[2]]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = (
            16,
            16,
            15,
            0,
        )
        ds.PixelData = np.full((ny, nx), 100 + k, np.uint16).tobytes()
        files.append(_to_bytes(ds))
    info = {
        "SeriesInstanceUID": series_uid,
        "StudyInstanceUID": study,
        "PatientID": patient,
        "Modality": "MR",
        "SeriesDescription": description,
        "Collection": "Soft-tissue-Sarcoma",
        # What NBIA's getSeries lists, checked against the download.
        "ImageCount": len(files),
        "FileSize": sum(len(f) for f in files),
    }
    return files, info


def square(x0, x1, y0, y1, z):
    return [x0, y0, z, x1, y0, z, x1, y1, z, x0, y1, z]


def make_rtstruct(patient, study, *, series_uid, frame, rois):
    """An RTSTRUCT (bytes) with {roi name: list of flat contour point lists}."""
    from pydicom.dataset import Dataset
    from pydicom.uid import RTStructureSetStorage

    ds = _file_dataset(RTStructureSetStorage, _uid())
    ds.Modality = "RTSTRUCT"
    ds.PatientID = ds.PatientName = patient
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, _uid()
    ref_series = Dataset()
    ref_series.SeriesInstanceUID = series_uid or _uid()
    ref_study = Dataset()
    ref_study.ReferencedSOPInstanceUID = study
    ref_study.RTReferencedSeriesSequence = [ref_series] if series_uid else []
    ref_frame = Dataset()
    ref_frame.FrameOfReferenceUID = frame
    ref_frame.RTReferencedStudySequence = [ref_study]
    ds.ReferencedFrameOfReferenceSequence = [ref_frame]
    ds.StructureSetROISequence, ds.ROIContourSequence = [], []
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ROIName = number, name
        roi.ReferencedFrameOfReferenceUID = frame
        ds.StructureSetROISequence.append(roi)
        roi_contour = Dataset()
        roi_contour.ReferencedROINumber = number
        roi_contour.ContourSequence = []
        for points in contours:
            contour = Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(points) // 3
            contour.ContourData = [float(p) for p in points]
            roi_contour.ContourSequence.append(contour)
        ds.ROIContourSequence.append(roi_contour)
    return _to_bytes(ds), {
        "SeriesInstanceUID": ds.SeriesInstanceUID,
        "StudyInstanceUID": study,
        "PatientID": patient,
        "Modality": "RTSTRUCT",
        "SeriesDescription": "RTSTRUCT",
    }


def _zip(files: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, body in enumerate(files):
            archive.writestr(f"1-{i + 1:02d}.dcm", body)
        archive.writestr("LICENSE", "CC BY 3.0")
    return buffer.getvalue()


# T1: 12 x 12 x 4 voxels of 1 x 1 x 2 mm at (0, 0, 0); T2FS: 10 x 10 x 4 of
# 1.5 x 1.5 x 2 mm at (-1, -1, 0). The tumour is x, y in [2.5, 5.5] mm on the
# slices z = 2 and 4 mm, drawn on each series' own grid.
T1_GRID = {"shape": (4, 12, 12), "spacing": (1.0, 1.0, 2.0), "origin": (0.0, 0.0, 0.0)}
T2_GRID = {
    "shape": (4, 10, 10),
    "spacing": (1.5, 1.5, 2.0),
    "origin": (-1.0, -1.0, 0.0),
}
TUMOUR = [square(2.5, 5.5, 2.5, 5.5, z) for z in (2.0, 4.0)]
OEDEMA = [square(1.5, 7.5, 1.5, 7.5, z) for z in (2.0, 4.0)]


def build_collection(*, by_frame_only=False):
    """Two patients, each with T1 and STIR series and an RTSTRUCT per series."""
    series, zips = [], {}
    for patient in ("STS_001", "STS_002"):
        study, frame = _uid(), _uid()
        for description, grid in (("T1 AX", T1_GRID), ("STIR AX", T2_GRID)):
            files, info = make_series(
                patient, study, description=description, frame=frame, **grid
            )
            series.append(info)
            zips[info["SeriesInstanceUID"]] = _zip(files)
            body, rt_info = make_rtstruct(
                patient,
                study,
                series_uid=None if by_frame_only else info["SeriesInstanceUID"],
                frame=frame,
                rois={"GTV_Mass": TUMOUR, "GTV_Edema": OEDEMA},
            )
            series.append(rt_info)
            zips[rt_info["SeriesInstanceUID"]] = _zip([body])
    return series, zips


CLINICAL = pd.DataFrame(
    {
        "Patient ID": ["STS_001", "STS_002", "STS_003"],
        "Sex": ["F", "M", "M"],
        "Age": [50, 61, 70],
        "Histological type": ["MFH", "Liposarcoma", "Synovial sarcoma"],
        "Grade": ["High", "Intermediate", "High"],
        "Outcome (recurrence/mets)": ["Lung metastasis", "None", "Locoregional"],
        "Time - diagnosis to outcome (days)": [400, np.nan, 300],
        "Status (NED, AWD, D)": ["D", "NED", "AWD"],
        "Time - diagnosis to last follow-up (days)": [700, 1500, 900],
    }
)


def serve_collection(server, series, zips, *, clinical_name="INFOclinical_STS.csv"):
    def get_series(query):
        assert query["Collection"] == "Soft-tissue-Sarcoma"
        return [s for s in series if s["Modality"] == query["Modality"]]

    server.add(f"{NBIA}/getSeries", get_series)
    server.add(f"{NBIA}/getImage", lambda q: zips.get(q["SeriesInstanceUID"]))
    if clinical_name.endswith(".csv"):
        body = CLINICAL.to_csv(index=False).encode()
    else:
        buffer = io.BytesIO()
        CLINICAL.to_excel(buffer, index=False)
        body = buffer.getvalue()
    return server.url(NBIA), server.add(f"/files/{clinical_name}", body)


def test_fetch_tcia_sts_builds_a_two_sequence_cohort(fixture_server, tmp_path):
    series, zips = build_collection()
    nbia, clinical = serve_collection(fixture_server, series, zips)
    # The first getImage of one series is cut half-way: it must resume.
    first = series[0]["SeriesInstanceUID"]
    fixture_server.routes[f"{NBIA}/getImage"].drop_once = True
    home = tmp_path / "home"
    cohort = fetch_tcia_sts(home, nbia_url=nbia, clinical_url=clinical, **FAST)
    assert cohort.case_ids == ["STS_001", "STS_002"]
    assert cohort.multi_sequence
    assert cohort.labels.tolist() == [1, 0]
    clinical_table = cohort.clinical()
    assert clinical_table["grade"].tolist() == ["High", "Intermediate"]
    assert clinical_table["status"].tolist() == ["D", "NED"]
    assert cohort.validate().ok
    case = cohort["STS_001"]
    t1 = sitk.GetArrayFromImage(sitk.ReadImage(str(case.images["T1"])))
    assert t1.shape == (4, 12, 12)
    assert t1[:, 0, 0].tolist() == [100, 101, 102, 103]
    # T1 grid: voxel centres 3, 4, 5 mm lie inside [2.5, 5.5] on slices 1 and 2.
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(case.masks["T1"])))
    expected = np.zeros((4, 12, 12), np.uint8)
    expected[1:3, 3:6, 3:6] = 1
    np.testing.assert_array_equal(mask, expected)
    # T2FS grid (-1 + 1.5 i): centres 3.5 and 5 mm, i.e. voxels 3 and 4.
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(case.masks["T2FS"])))
    assert mask.sum() == 2 * 2 * 2
    assert mask[1:3, 3:5, 3:5].all()
    hits = [h for p, h in fixture_server.requests if p == f"{NBIA}/getImage"]
    assert any(h.get("Range") for h in hits), "the cut transfer was not resumed"
    assert not list((home / "tcia_sts" / "zip").glob("*"))  # ZIPs removed
    assert first  # the series list is served in order
    # Everything is cached: a second call downloads no image.
    n = len(fixture_server.requests)
    fetch_tcia_sts(home, nbia_url=nbia, clinical_url=clinical, **FAST)
    assert not [p for p, _ in fixture_server.requests[n:] if p.endswith("getImage")]


def test_fetch_tcia_sts_xlsx_oedema_and_frame_of_reference(fixture_server, tmp_path):
    series, zips = build_collection(by_frame_only=True)
    nbia, clinical = serve_collection(
        fixture_server, series, zips, clinical_name="INFOclinical_STS.xlsx"
    )
    cohort = fetch_tcia_sts(
        tmp_path,
        nbia_url=nbia,
        clinical_url=clinical,
        roi="GTV_Edema",
        target="grade",
        n_patients=1,
        **FAST,
    )
    assert cohort.case_ids == ["STS_001"]
    assert cohort.labels.tolist() == ["High"]
    assert cohort.clinical()["lung_metastasis"].tolist() == [1]
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(cohort["STS_001"].masks["T1"])))
    assert mask.sum() == 2 * 6 * 6


def test_fetch_tcia_sts_leaves_out_a_patient_with_a_corrupt_series(
    fixture_server, tmp_path
):
    series, zips = build_collection()
    t1_of_second = next(
        s["SeriesInstanceUID"]
        for s in series
        if s["PatientID"] == "STS_002" and s["Modality"] == "MR"
    )
    zips[t1_of_second] = b"PK\x03\x04 truncated"
    nbia, clinical = serve_collection(fixture_server, series, zips)
    with pytest.warns(UserWarning, match=r"STS_002: Download of .* is not valid"):
        cohort = fetch_tcia_sts(tmp_path, nbia_url=nbia, clinical_url=clinical, **FAST)
    assert cohort.case_ids == ["STS_001"]
    assert not (tmp_path / "tcia_sts" / "zip" / f"{t1_of_second}.zip").exists()


def test_fetch_tcia_sts_errors(fixture_server, tmp_path):
    series, zips = build_collection()
    nbia, clinical = serve_collection(fixture_server, series, zips)
    with pytest.raises(ValueError, match="target 'recurrence' is not a column"):
        fetch_tcia_sts(
            tmp_path, nbia_url=nbia, clinical_url=clinical, target="recurrence", **FAST
        )
    with pytest.raises(ValueError, match="modalities must be a non-empty tuple"):
        fetch_tcia_sts(tmp_path, modalities=("XR",))
    with pytest.warns(UserWarning, match=r"no series for sequence\(s\) \['PET'\]"):
        with pytest.raises(ValueError, match="No TCIA Soft-tissue-Sarcoma patient"):
            fetch_tcia_sts(
                tmp_path,
                nbia_url=nbia,
                clinical_url=clinical,
                sequences=("T1", "PET"),
                **FAST,
            )


def _mr_series(series, patient, description="T1 AX"):
    return next(
        s
        for s in series
        if s["PatientID"] == patient and s.get("SeriesDescription") == description
    )


def test_fetch_tcia_sts_checks_what_nbia_lists(fixture_server, tmp_path):
    """ImageCount and FileSize of getSeries are checked; a series that does not
    match them is refused (its patient left out), nothing is unpacked."""
    series, zips = build_collection()
    _mr_series(series, "STS_002")["ImageCount"] = 5  # the archive holds 4
    _mr_series(series, "STS_001", "STIR AX")["FileSize"] += 1
    nbia, clinical = serve_collection(fixture_server, series, zips)
    with pytest.warns(UserWarning, match="2 TCIA STS patient") as record:
        with pytest.raises(ValueError, match="No TCIA Soft-tissue-Sarcoma patient"):
            fetch_tcia_sts(tmp_path, nbia_url=nbia, clinical_url=clinical, **FAST)
    text = str(record[0].message)
    assert "STS_002: Download of " in text
    assert "the archive holds 4 image file(s); NBIA lists 5 for series" in text
    assert "STS_001: Download of " in text
    assert "bytes; NBIA lists" in text
    nifti = tmp_path / "tcia_sts" / "nifti"
    assert not list(nifti.rglob("T2FS*.nii.gz"))  # STS_001's refused series
    assert not list(nifti.glob("STS_002/*.nii.gz"))


def test_fetch_tcia_sts_verifies_nbia_md5_hashes(fixture_server, tmp_path):
    """With getImageWithMD5Hash, every file's MD5 is checked."""
    series, zips = build_collection()
    bad_uid = _mr_series(series, "STS_002")["SeriesInstanceUID"]

    def with_md5(query):
        body = zips.get(query["SeriesInstanceUID"])
        if body is None:
            return None
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(body)) as src,
            zipfile.ZipFile(buffer, "w") as dst,
        ):
            rows = ["FileName,MD5Hash"]
            for name in src.namelist():
                data = src.read(name)
                dst.writestr(name, data)
                digest = hashlib.md5(data).hexdigest()
                if query["SeriesInstanceUID"] == bad_uid and name == "1-02.dcm":
                    digest = "0" * 32
                rows.append(f"{name},{digest}")
            dst.writestr("md5hashes.csv", "\n".join(rows) + "\n")
        return buffer.getvalue()

    nbia, clinical = serve_collection(fixture_server, series, zips)
    fixture_server.add(f"{NBIA}/getImageWithMD5Hash", with_md5)
    with pytest.warns(UserWarning, match=r"STS_002: .*MD5 mismatch for 1-02\.dcm"):
        cohort = fetch_tcia_sts(tmp_path, nbia_url=nbia, clinical_url=clinical, **FAST)
    assert cohort.case_ids == ["STS_001"]
    assert cohort.validate().ok
    assert not fixture_server.hits(f"{NBIA}/getImage")


@pytest.mark.parametrize("field", ["PatientID", "SeriesInstanceUID"])
def test_fetch_tcia_sts_refuses_names_that_leave_their_folder(
    fixture_server, tmp_path, field
):
    series, zips = build_collection()
    row = _mr_series(series, "STS_002")
    if field == "PatientID":
        for s in series:
            if s["PatientID"] == "STS_002":
                s["PatientID"] = "../../escaped"
    else:
        zips["../../escaped"] = zips.pop(row["SeriesInstanceUID"])
        row["SeriesInstanceUID"] = "../../escaped"
    nbia, clinical = serve_collection(fixture_server, series, zips)
    home = tmp_path / "home"
    with pytest.warns(UserWarning, match=f"Refusing the {field} from the NBIA|"
                      f"Refusing the series UID from the NBIA"):  # fmt: skip
        cohort = fetch_tcia_sts(home, nbia_url=nbia, clinical_url=clinical, **FAST)
    assert cohort.case_ids == ["STS_001"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert not (home / "escaped").exists()


def test_rtstruct_rasterisation_and_refusals(tmp_path):
    image = sitk.Image(12, 12, 4, sitk.sitkUInt16)
    image.SetSpacing((1.0, 1.0, 2.0))
    body, _ = make_rtstruct(
        "P",
        _uid(),
        series_uid=_uid(),
        frame=_uid(),
        rois={
            "GTV_Mass": [square(2.5, 5.5, 2.5, 5.5, 2.0)],
            "Tilted": [[2, 2, 2, 6, 2, 4, 6, 6, 6]],
            "Far": [square(2.5, 5.5, 2.5, 5.5, 40.0)],
        },
    )
    path = tmp_path / "rt.dcm"
    path.write_bytes(body)
    rt = read_rtstruct(path)
    assert rt.find_roi("gtv_mass") == "GTV_Mass"
    assert rt.find_roi("gtv") is None
    assert rt.find_roi("gtv", partial=True) == "GTV_Mass"
    assert rt.find_roi("gtv_.*") == "GTV_Mass"
    mask = sitk.GetArrayFromImage(rtstruct_to_mask(rt, image, "GTV_Mass"))
    assert mask.sum() == 9
    assert mask[1, 3:6, 3:6].all()
    with pytest.raises(
        ValueError, match=r"has no structure matching .Bladder. .*it has the structures"
    ):
        rtstruct_to_mask(rt, image, "Bladder", case_id="P")
    with pytest.raises(ValueError, match=r"spans 2\.00 slices of the image grid"):
        rtstruct_to_mask(rt, image, "Tilted")
    with pytest.raises(ValueError, match=r"has no voxel inside the image grid"):
        rtstruct_to_mask(rt, image, "Far")


def test_read_sts_clinical_maps_columns(tmp_path):
    path = tmp_path / "clinical.csv"
    CLINICAL.to_csv(path, index=False)
    table = read_sts_clinical(path)
    assert table.index.tolist() == ["STS_001", "STS_002", "STS_003"]
    assert table["lung_metastasis"].tolist() == [1, 0, 0]
    assert table["follow_up_days"].tolist() == [700, 1500, 900]
    assert {"histology", "outcome", "time_to_outcome_days", "age", "sex"} <= set(
        table.columns
    )
    pd.DataFrame({"Name": ["x"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="has no patient-id column"):
        read_sts_clinical(path)
