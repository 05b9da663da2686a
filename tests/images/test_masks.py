"""Masks from RTSTRUCT and DICOM SEG files, and the geometry tolerance.

Real data: three patients of TCIA's Soft-tissue-Sarcoma collection in
../shared/data/sts-tcia-sample (CC BY 3.0; see its PROVENANCE.md), read in place.
"""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from radsarc.images import Cohort, read_image
from radsarc.images._io import _dicom_files
from radsarc.images._masks import MaskError, conform_mask, load_masks, mask_kind
from tests.conftest import shared_data

# Voxels of GTV_Mass_MR_T1 per patient (PROVENANCE.md).
N_VOXELS = {"STS_001": 117145, "STS_002": 17090, "STS_003": 25693}


def sts(*parts):
    return shared_data("sts-tcia-sample", *parts)


def _array(image):
    return sitk.GetArrayFromImage(image)


@pytest.mark.parametrize("patient", sorted(N_VOXELS))
def test_rtstruct_masks_equal_the_nifti_masks(patient):
    folder = sts(patient, "MR_T1")
    image = read_image(folder / "dicom" / "image")
    loaded = load_masks(
        image,
        folder / "dicom" / "mask" / "RS.dcm",
        image_path=folder / "dicom" / "image",
        rois=("gtv_mass.*",),
    )
    nifti = _array(sitk.ReadImage(str(folder / "nifti" / "mask" / "mask.nii.gz")))
    mask = _array(loaded.regions[""])
    assert loaded.kind == "rtstruct"
    assert loaded.structures == {"": "GTV_Mass_MR_T1"}
    assert loaded.grid.action == "rasterised"
    np.testing.assert_array_equal(mask, nifti)
    assert int(mask.sum()) == N_VOXELS[patient]
    assert loaded.regions[""].GetOrigin() == image.GetOrigin()


def test_mask_kind_comes_from_the_content(tmp_path):
    rs = sts("STS_002", "MR_T1", "dicom", "mask", "RS.dcm")
    named = tmp_path / "contours"  # no extension
    shutil.copy(rs, named)
    upper = tmp_path / "RS.DCM"
    shutil.copy(rs, upper)
    assert mask_kind(named) == ("rtstruct", named)
    assert mask_kind(upper) == ("rtstruct", upper)
    assert mask_kind(rs.parent) == ("rtstruct", rs)  # a folder with one RTSTRUCT
    nifti = sts("STS_002", "MR_T1", "nifti", "mask", "mask.nii.gz")
    assert mask_kind(nifti) == ("image", nifti)
    slice_file = sts("STS_002", "MR_T1", "dicom", "image", "000000.dcm")
    assert mask_kind(slice_file)[0] == "image"  # an MR image slice, not a mask
    image_folder = sts("STS_002", "MR_T1", "dicom", "image")
    assert mask_kind(image_folder) == ("image", image_folder)


def test_structures_are_chosen_by_name_then_by_one_regex():
    from radsarc.images._rtstruct import read_rtstruct, resolve_structure

    folder = sts("STS_001", "MR_T2_raw")
    rs = folder / "mask" / "RS.dcm"
    rt = read_rtstruct(rs)
    assert list(rt.contours) == ["GTV_Mass", "GTV_Edema"]
    assert resolve_structure(rt, "gtv_edema") == "GTV_Edema"
    assert resolve_structure(rt, "GTV_E.*") == "GTV_Edema"
    # An exact name wins before any regular expression is tried.
    assert resolve_structure(rt, " GTV_MASS ") == "GTV_Mass"
    with pytest.raises(
        ValueError,
        match=r"'GTV_.\*' matches 2 structures \['GTV_Mass', 'GTV_Edema'\]; "
        r"expected exactly one",
    ):
        resolve_structure(rt, "GTV_.*")
    image = read_image(folder / "image")
    with pytest.raises(
        MaskError,
        match=r"RS\.dcm has no structure matching 'GTV' .*it has the structures "
        r"\['GTV_Mass', 'GTV_Edema'\]",
    ):
        load_masks(image, rs, rois=("GTV",))  # a regex must match a whole name
    with pytest.raises(
        MaskError,
        match=r"RS\.dcm has 2 structures \['GTV_Mass', 'GTV_Edema'\]; name the "
        r"one\(s\) to use in the manifest column 'roi'",
    ):
        load_masks(image, rs)
    two = load_masks(
        image, rs, image_path=folder / "image", rois=("GTV_Mass", ".*edema")
    )
    assert two.structures == {"GTV_Mass": "GTV_Mass", ".*edema": "GTV_Edema"}
    mass, edema = (_array(two.regions[k]) for k in ("GTV_Mass", ".*edema"))
    assert mass.sum() == 256115
    assert edema.sum() == 406547


def _t1_row(case_id, image="dicom", mask="dicom", **columns):
    """A manifest row of STS_002's T1: its DICOM series or NIfTI image ("dicom",
    "nifti") and its RTSTRUCT or NIfTI mask, then ``columns``."""
    t1 = sts("STS_002", "MR_T1")
    images = {
        "dicom": t1 / "dicom" / "image",
        "nifti": t1 / "nifti" / "image" / "image.nii.gz",
    }
    masks = {
        "dicom": t1 / "dicom" / "mask" / "RS.dcm",
        "nifti": t1 / "nifti" / "mask" / "mask.nii.gz",
    }
    return {"case_id": case_id, "image": images[image], "mask": masks[mask], **columns}


def _manifest(tmp_path, rows, name="manifest.csv"):
    import pandas as pd

    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_manifest_roi_column_and_problems_name_the_case(tmp_path):
    t2 = sts("STS_001", "MR_T2_raw")
    rows = [
        _t1_row("ok", roi=""),
        {
            "case_id": "two",
            "image": t2 / "image",
            "mask": t2 / "mask" / "RS.dcm",
            "roi": "GTV_Mass; GTV_Edema",
        },
        {
            "case_id": "absent",
            "image": t2 / "image",
            "mask": t2 / "mask" / "RS.dcm",
            "roi": "Bladder",
        },
        _t1_row("nifti", "nifti", "nifti", roi="GTV_Mass"),
    ]
    cohort = Cohort.from_csv(_manifest(tmp_path, rows))
    assert cohort["two"].rois == {"": ("GTV_Mass", "GTV_Edema")}
    assert cohort["ok"].rois == {}
    report = cohort.validate()
    by_case = {p.case_id: p for p in report.problems}
    assert set(by_case) == {"absent", "nifti"}
    assert by_case["absent"].check == "roi"
    assert "has no structure matching 'Bladder'" in by_case["absent"].message
    assert "['GTV_Mass', 'GTV_Edema']" in by_case["absent"].message
    assert by_case["nifti"].check == "roi"
    assert "is a label image, not an RTSTRUCT or DICOM SEG" in (
        by_case["nifti"].message
    )
    assert "case 'absent'" in str(report)
    # --roi / roi= fills the empty cells only.
    cohort = Cohort.from_csv(_manifest(tmp_path, rows), roi=["GTV_.*_T1"])
    assert cohort["ok"].rois == {"": ("GTV_.*_T1",)}
    assert cohort["two"].rois == {"": ("GTV_Mass", "GTV_Edema")}


def test_a_default_roi_skips_label_images_in_a_mixed_cohort(tmp_path):
    """--roi / roi= names RTSTRUCT structures; NIfTI cases keep their label."""
    from radsarc.images._cohort import case_mask, with_default_roi

    t1 = sts("STS_002", "MR_T1")
    rows = [_t1_row("rt"), _t1_row("nifti", "nifti", "nifti")]
    cohort = Cohort.from_csv(_manifest(tmp_path, rows), roi="gtv_mass.*")
    assert cohort["rt"].rois == {"": ("gtv_mass.*",)}
    assert cohort["nifti"].rois == {}
    assert Cohort.from_csv(_manifest(tmp_path, rows)).validate().problems == []
    assert cohort.validate().problems == []
    nifti = _array(sitk.ReadImage(str(t1 / "nifti" / "mask" / "mask.nii.gz")))
    for case in cohort:
        mask = _array(case_mask(case, ""))
        np.testing.assert_array_equal(mask, nifti)
        assert int(mask.sum()) == N_VOXELS["STS_002"]
    # The same through with_default_roi (extract_features(cohort, roi=...)).
    again = with_default_roi(Cohort.from_csv(_manifest(tmp_path, rows)), "gtv_mass.*")
    assert again["rt"].rois == {"": ("gtv_mass.*",)}
    assert again["nifti"].rois == {}


def test_per_sequence_roi_and_reference_columns(tmp_path):
    t1 = sts("STS_002", "MR_T1")
    rows = [
        {
            "case_id": "a",
            "image_T1": t1 / "dicom" / "image",
            "mask": t1 / "dicom" / "mask" / "RS.dcm",
            "roi": "GTV_Mass.*",
            "roi_T1": "",
            "reference_T1": t1 / "dicom" / "image",
            "age": 60,
        }
    ]
    cohort = Cohort.from_csv(_manifest(tmp_path, rows))
    assert cohort["a"].rois == {"T1": ("GTV_Mass.*",)}
    assert cohort["a"].references == {"T1": t1 / "dicom" / "image"}
    assert cohort.clinical().columns.tolist() == ["label", "group", "age"]
    rows[0]["roi_volume"] = 12.5
    with pytest.raises(
        ValueError,
        match=r"column\(s\) \['roi_volume'\] but no such sequence .*'roi_' .*are "
        r"reserved for the image, mask, roi and reference series of a sequence",
    ):
        Cohort.from_csv(_manifest(tmp_path, rows))


def _derived_series(src, dst, *, shift_slices=0.0, frame=None, keep=range(9, 33)):
    """Some slices of ``src`` as a new series (new UIDs), moved along the normal."""
    dst.mkdir()
    series_uid = pydicom.uid.generate_uid()
    step = read_image(src).GetSpacing()[2]
    for i, file in enumerate(_dicom_files(src)):
        if i not in keep:
            continue
        ds = pydicom.dcmread(file)
        orientation = np.asarray(ds.ImageOrientationPatient, float)
        normal = np.cross(orientation[:3], orientation[3:])
        position = np.asarray(ds.ImagePositionPatient, float)
        ds.ImagePositionPatient = [
            f"{v:.6f}" for v in position + shift_slices * step * normal
        ]
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        if frame is not None:
            ds.FrameOfReferenceUID = frame
        ds.save_as(dst / f"{i:03d}.dcm")
    return dst


def test_rtstruct_of_another_series_needs_the_reference_column(tmp_path):
    t2 = sts("STS_001", "MR_T2_raw")
    rs = t2 / "mask" / "RS.dcm"
    reference = read_image(t2 / "image")
    on_reference = load_masks(
        reference, rs, image_path=t2 / "image", rois=("GTV_Mass",)
    )
    # Another series of the same frame of reference: slices 9-32, moved by 0.3
    # of a slice along the normal.
    other = _derived_series(t2 / "image", tmp_path / "other", shift_slices=0.3)
    image = read_image(other)
    with pytest.raises(MaskError, match="drawn on another grid") as info:
        load_masks(image, rs, image_path=other, rois=("GTV_Mass",))
    message = str(info.value)
    assert "1.3.6.1.4.1.14519.5.2.1.5168.1900.267475167888884755506702762438" in message
    assert "frame of reference ['1.3.6.1.4.1.14519.5.2.1.5168.1900.1786912488" in (
        message
    )
    assert "lie up to 0.30 slices away" in message
    assert "manifest column 'reference'" in message
    loaded = load_masks(
        image, rs, image_path=other, rois=("GTV_Mass",), reference=t2 / "image"
    )
    assert loaded.grid.action == "rasterised on reference, resampled"
    expected = _array(on_reference.regions[""])[9:33]
    np.testing.assert_array_equal(_array(loaded.regions[""]), expected)
    # The same through a manifest.
    manifest = _manifest(
        tmp_path,
        [
            {
                "case_id": "P1",
                "image": other,
                "mask": rs,
                "roi": "GTV_Mass",
                "reference": t2 / "image",
            }
        ],
    )
    assert Cohort.from_csv(manifest).validate().ok
    # Another frame of reference: refused, naming both frames.
    moved = _derived_series(
        t2 / "image", tmp_path / "moved", frame=pydicom.uid.generate_uid()
    )
    with pytest.raises(MaskError, match=r"references series .* the image is series"):
        load_masks(read_image(moved), rs, image_path=moved, rois=("GTV_Mass",))
    with pytest.raises(MaskError, match=r"is in frame of reference .*needs a regist"):
        load_masks(
            read_image(moved),
            rs,
            image_path=moved,
            rois=("GTV_Mass",),
            reference=t2 / "image",
        )


def _shifted(image, offset):
    moved = sitk.Image(image)
    moved.SetOrigin(tuple(np.asarray(image.GetOrigin()) + offset))
    return moved


def test_geometry_within_tolerance_takes_the_image_grid():
    image = sitk.Image(20, 20, 10, sitk.sitkInt16)
    image.SetSpacing((0.5, 0.5, 3.0))
    mask = sitk.Image(20, 20, 10, sitk.sitkUInt8)
    mask.CopyInformation(image)
    same, grid = conform_mask(image, mask)
    assert same is mask
    assert grid.action == "identical"
    aligned, grid = conform_mask(image, _shifted(mask, (1e-5, 0, -2e-5)))
    assert grid.action == "aligned"
    assert aligned.GetOrigin() == image.GetOrigin()
    assert grid.offset_mm == pytest.approx(2e-5)
    assert grid.offset_voxels == pytest.approx(max(1e-5 / 0.5, 2e-5 / 3.0))
    with pytest.raises(
        MaskError,
        match=r"mask does not match the image grid of IMG: origin .*; the origin of "
        r"mask MSK is \(1, 0, 0\) mm = \(2, 0, 0\) voxels from the image's, beyond "
        r"the tolerance of 0\.001 voxel .*set 'correctMask: true'",
    ):
        conform_mask(
            image, _shifted(mask, (1.0, 0, 0)), image_path="IMG", mask_path="MSK"
        )
    resampled, grid = conform_mask(image, _shifted(mask, (1.0, 0, 0)), resample=True)
    assert grid.action == "resampled"
    assert grid.offset_voxels == pytest.approx(2.0)


def test_a_mask_stored_in_another_axis_order_is_reordered(tmp_path):
    t2 = sts("STS_001", "MR_T2_raw")  # an oblique series
    image = read_image(t2 / "image")
    mask = load_masks(image, t2 / "mask" / "RS.dcm", rois=("GTV_Mass",)).regions[""]
    # The same voxels with rows flipped, slices reversed and x/z swapped, as a
    # NIfTI file (float32 header).
    other = sitk.PermuteAxes(sitk.Flip(mask, [False, True, True]), [2, 1, 0])
    path = tmp_path / "other_order.nii.gz"
    sitk.WriteImage(other, str(path))
    assert np.abs(np.subtract(other.GetDirection(), image.GetDirection())).max() > 1
    loaded = load_masks(image, path)
    assert loaded.grid.action == "reoriented, aligned"
    np.testing.assert_array_equal(_array(loaded.regions[""]), _array(mask))
    # A rotated grid is not a reordering: refused as before.
    rotated = sitk.Image(mask)
    rotated.SetDirection((0.8, -0.6, 0, 0.6, 0.8, 0, 0, 0, 1))
    with pytest.raises(MaskError, match="direction cosines differ"):
        conform_mask(image, rotated)


def test_a_mask_saved_over_another_extent_is_put_back_in_place():
    image = sitk.Image(20, 16, 10, sitk.sitkInt16)
    image.SetSpacing((0.5, 0.5, 3.0))
    image.SetOrigin((-4.0, 2.0, 30.0))
    full = np.zeros((10, 16, 20), np.uint8)
    full[3:6, 4:9, 5:12] = 1
    # A tool saved the box z 2-7, y 3-10, x 4-13 (origin moved by whole voxels,
    # plus float32 rounding).
    box = sitk.GetImageFromArray(full[2:8, 3:11, 4:14].copy())
    box.SetSpacing(image.GetSpacing())
    box.SetOrigin(
        tuple(np.asarray(image.TransformIndexToPhysicalPoint((4, 3, 2))) + 1e-5)
    )
    placed, grid = conform_mask(image, box)
    assert grid.action == "embedded"
    assert grid.offset_voxels == pytest.approx(4.0, abs=1e-4)  # (4, 3, 2) voxels
    np.testing.assert_array_equal(_array(placed), full)
    assert placed.GetOrigin() == image.GetOrigin()
    # Half a voxel off: not the image's voxels; refused as before.
    box.SetOrigin(image.TransformContinuousIndexToPhysicalPoint((4.5, 3, 2)))
    with pytest.raises(MaskError, match="does not match the image grid"):
        conform_mask(image, box)


def write_seg(image_folder, segments, path):
    """A BINARY DICOM SEG of the series in ``image_folder`` (built with highdicom).

    ``segments``: (label, description, array (z, y, x) in SimpleITK's order).
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    sources = [pydicom.dcmread(f) for f in _dicom_files(image_folder)]
    descriptions = []
    for number, (label, description, _) in enumerate(segments, start=1):
        item = hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=label,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Neoplasm,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        item.SegmentDescription = description
        descriptions.append(item)
    # Frames in the order of the sources (SimpleITK's slice order).
    pixels = np.stack([a for _, _, a in segments], axis=-1).astype(bool)
    hd.seg.Segmentation(
        source_images=sources,
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=300,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="radsarc tests",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
    ).save_as(path)
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dicom_seg_reads_back_voxel_identical(tmp_path):
    folder = sts("STS_002", "MR_T1")
    nifti = _array(sitk.ReadImage(str(folder / "nifti" / "mask" / "mask.nii.gz")))
    core = np.zeros_like(nifti)
    core[:, :, : nifti.shape[2] // 2] = nifti[:, :, : nifti.shape[2] // 2]
    path = write_seg(
        folder / "dicom" / "image",
        [("Tumour", "gross tumour volume", nifti), ("Core", "medial half", core)],
        tmp_path / "seg",  # no extension: found from its SOP Class
    )
    image = read_image(folder / "dicom" / "image")
    assert mask_kind(path) == ("seg", path)
    loaded = load_masks(
        image, path, image_path=folder / "dicom" / "image", rois=("tumour",)
    )
    assert loaded.kind == "seg"
    assert loaded.structures == {"": "Tumour"}
    np.testing.assert_array_equal(_array(loaded.regions[""]), nifti)
    by_description = load_masks(image, path, rois=("medial.*",))
    assert by_description.structures == {"": "Core"}
    np.testing.assert_array_equal(_array(by_description.regions[""]), core)
    with pytest.raises(
        MaskError,
        match=r"no segment whose label or description matches 'GTV' .*segments 1 "
        r"'Tumour' \('gross tumour volume'\), 2 'Core' \('medial half'\)",
    ):
        load_masks(image, path, rois=("GTV",))
    with pytest.raises(MaskError, match=r"has 2 segments .*name the one\(s\)"):
        load_masks(image, path)


def _synthetic_series(tmp_path, name, frame):
    from tests.datasets.test_tcia import make_series

    files, info = make_series(
        "P",
        "1.2.3",
        description="T1",
        shape=(8, 12, 12),
        spacing=(1.0, 1.0, 2.0),
        origin=(0.0, 0.0, 0.0),
        frame=frame,
    )
    folder = tmp_path / name
    folder.mkdir()
    for i, body in enumerate(files):
        (folder / f"{i}.dcm").write_bytes(body)
    return folder, info["SeriesInstanceUID"]


def test_an_empty_structure_is_named(tmp_path):
    from tests.datasets.test_tcia import make_rtstruct

    frame = pydicom.uid.generate_uid()
    folder, series_uid = _synthetic_series(tmp_path, "image", frame)
    body, _ = make_rtstruct(
        "P", "1.2.3", series_uid=series_uid, frame=frame, rois={"GTV": []}
    )
    rs = tmp_path / "rs.dcm"
    rs.write_bytes(body)
    with pytest.raises(MaskError, match=r"Structure 'GTV' of RTSTRUCT .* no contour"):
        load_masks(read_image(folder), rs, image_path=folder)


@pytest.mark.parametrize(
    ("slices", "references_image", "refused"),
    [
        ((0, 2, 4, 6), False, True),  # every second slice, drawn elsewhere
        ((0, 2, 4, 6), True, False),  # ... but the RTSTRUCT names this series
        ((0, 1, 2, 4, 5), False, False),  # one skipped slice is not another grid
    ],
)
def test_contours_on_every_second_slice_of_another_series(
    tmp_path, slices, references_image, refused
):
    from tests.datasets.test_tcia import make_rtstruct, square

    frame = pydicom.uid.generate_uid()
    folder, series_uid = _synthetic_series(tmp_path, "image", frame)
    body, _ = make_rtstruct(
        "P",
        "1.2.3",
        series_uid=series_uid if references_image else pydicom.uid.generate_uid(),
        frame=frame,
        rois={"GTV": [square(2.5, 6.5, 2.5, 6.5, 2.0 * k) for k in slices]},
    )
    rs = tmp_path / "rs.dcm"
    rs.write_bytes(body)
    image = read_image(folder)
    if refused:
        with pytest.raises(MaskError, match=r"lie on one slice in 2 or fewer"):
            load_masks(image, rs, image_path=folder)
        return
    mask = _array(load_masks(image, rs, image_path=folder).regions[""])
    assert sorted(np.flatnonzero(mask.any(axis=(1, 2)))) == list(slices)
    assert mask.sum() == 16 * len(slices)


def test_case_mask_joins_regions_and_reads_any_kind(tmp_path):
    from radsarc.images._cohort import case_mask

    t1 = sts("STS_002", "MR_T1")
    rows = [_t1_row("rt"), _t1_row("nifti", "dicom", "nifti")]
    cohort = Cohort.from_csv(_manifest(tmp_path, rows))
    nifti = _array(sitk.ReadImage(str(t1 / "nifti" / "mask" / "mask.nii.gz")))
    for case in cohort:
        np.testing.assert_array_equal(_array(case_mask(case, "")), nifti)
    with pytest.raises(ValueError, match=r"case 'rt', file .*no structure matching"):
        case_mask(Cohort.from_csv(_manifest(tmp_path, rows[:1]), roi="x")["rt"], "")


def test_a_reference_series_is_only_for_rtstruct_masks():
    t1 = sts("STS_002", "MR_T1")
    image = read_image(t1 / "dicom" / "image")
    with pytest.raises(
        MaskError,
        match=r"only used with RTSTRUCT masks; mask .*mask\.nii\.gz is a label",
    ):
        load_masks(
            image,
            t1 / "nifti" / "mask" / "mask.nii.gz",
            reference=t1 / "dicom" / "image",
        )
