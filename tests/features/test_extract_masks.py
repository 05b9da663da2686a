"""Extraction from DICOM series with RTSTRUCT / SEG masks, several regions, and
the geometry tolerance shared by ``validate`` and ``extract``.

Real data: TCIA Soft-tissue-Sarcoma patients in ../shared/data/sts-tcia-sample
(CC BY 3.0; see its PROVENANCE.md), read in place.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from click.testing import CliRunner

from radsarc.cli import main
from radsarc.features import extract_features
from tests.conftest import shared_data

FAST = {"featureClass": {"firstorder": None, "shape": None}, "setting": {}}


def sts(*parts):
    return shared_data("sts-tcia-sample", *parts)


def _manifest(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _rows(patients, image, mask, **extra):
    rows = []
    for patient in patients:
        t1 = sts(patient, "MR_T1")
        paths = {
            "dicom": t1 / "dicom" / "image",
            "rtstruct": t1 / "dicom" / "mask" / "RS.dcm",
            "nifti_image": t1 / "nifti" / "image" / "image.nii.gz",
            "nifti_mask": t1 / "nifti" / "mask" / "mask.nii.gz",
        }
        rows.append(
            {"case_id": patient, "image": paths[image], "mask": paths[mask], **extra}
        )
    return rows


def test_dicom_and_rtstruct_give_the_features_of_the_nifti_files(tmp_path):
    patients = ["STS_002", "STS_003"]
    runs = {
        name: extract_features(
            _manifest(tmp_path / f"{name}.csv", _rows(patients, image, mask, **extra)),
            return_result=True,
        )
        for name, (image, mask, extra) in {
            "rtstruct": ("dicom", "rtstruct", {"roi": "GTV_Mass_MR_T1"}),
            "dicom_nifti_mask": ("dicom", "nifti_mask", {}),
            "nifti": ("nifti_image", "nifti_mask", {}),
        }.items()
    }
    for result in runs.values():
        assert result.n_failed == 0, result.errors
    rt, mixed, nifti = (
        runs[k].features for k in ("rtstruct", "dicom_nifti_mask", "nifti")
    )
    assert rt.shape == (2, 107)
    # The same image, the same mask voxels: identical values.
    pd.testing.assert_frame_equal(rt, mixed, rtol=0, atol=0)
    # NIfTI headers hold float32 spacing and origin (rounding ~1e-7 relative).
    pd.testing.assert_frame_equal(rt, nifti, rtol=1e-6, atol=0)
    diag = runs["rtstruct"].diagnostics
    assert (diag["diagnostics_radsarc_MaskKind"] == "rtstruct").all()
    assert (diag["diagnostics_radsarc_Structure"] == "GTV_Mass_MR_T1").all()
    assert (diag["diagnostics_radsarc_MaskGrid"] == "rasterised").all()
    # The NIfTI mask's float32 origin differs from the DICOM image's by ~2e-5 mm
    # (STS_002); within the tolerance it takes the image grid, and says so.
    mixed_diag = runs["dicom_nifti_mask"].diagnostics
    assert mixed_diag.loc["STS_002", "diagnostics_radsarc_MaskGrid"] == "aligned"
    assert 0 < mixed_diag.loc["STS_002", "diagnostics_radsarc_MaskOffset_mm"] < 1e-4


def test_two_regions_get_their_own_prefixed_features(tmp_path):
    t2 = sts("STS_001", "MR_T2_raw")
    row = {"case_id": "STS_001", "image": t2 / "image", "mask": t2 / "mask" / "RS.dcm"}
    manifest = _manifest(tmp_path / "t2.csv", [row])
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(
        main,
        [
            "extract",
            str(manifest),
            "--roi",
            "GTV_Mass",
            "--roi",
            "gtv_edema",
            "--out",
            str(out),
            "--params",
            str(_params(tmp_path)),
            "--no-cache",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    both = pd.read_csv(out, index_col="case_id")
    assert both.shape[1] == 2 * 32  # 18 first-order + 14 shape, per region
    assert all(
        c.startswith(("GTV_Mass_original_", "gtv_edema_original_")) for c in both
    )
    diag = pd.read_csv(tmp_path / "features.diagnostics.csv", index_col="case_id")
    assert diag.loc["STS_001", "diagnostics_gtv_edema_radsarc_Structure"] == "GTV_Edema"
    assert diag.loc["STS_001", "diagnostics_GTV_Mass_Mask-original_VoxelNum"] == 256115
    assert diag.loc["STS_001", "diagnostics_gtv_edema_Mask-original_VoxelNum"] == 406547
    # One region: unprefixed columns, the same values.
    single = extract_features(
        _manifest(tmp_path / "one.csv", [{**row, "roi": "GTV_Mass"}]), FAST
    )
    mass = both.filter(like="GTV_Mass_").rename(columns=lambda c: c[len("GTV_Mass_") :])
    pd.testing.assert_frame_equal(
        single,
        mass[single.columns].astype(float),
        rtol=1e-12,
        atol=0,
        check_index_type=False,
    )


def _params(tmp_path, **setting):
    import yaml

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({**FAST, "setting": setting}), encoding="utf-8")
    return path


def _moved_mask(tmp_path, offset_mm, name):
    mask = sitk.ReadImage(str(sts("STS_002", "MR_T1", "nifti", "mask", "mask.nii.gz")))
    mask.SetOrigin(tuple(np.asarray(mask.GetOrigin()) + offset_mm))
    path = tmp_path / name
    sitk.WriteImage(mask, str(path))
    return path


def test_header_rounding_extracts_and_a_real_offset_is_named(tmp_path):
    image = sts("STS_002", "MR_T1", "nifti", "image", "image.nii.gz")
    original = sts("STS_002", "MR_T1", "nifti", "mask", "mask.nii.gz")
    rows = [
        {"case_id": "same", "image": image, "mask": original},
        {
            "case_id": "rounded",
            "image": image,
            "mask": _moved_mask(tmp_path, (1e-5, 0, 0), "rounded.nii.gz"),
        },
        {
            "case_id": "moved",
            "image": image,
            # two voxels along x (spacing 0.976562 mm)
            "mask": _moved_mask(tmp_path, (2 * 0.976562, 0, 0), "moved.nii.gz"),
        },
    ]
    manifest = _manifest(tmp_path / "m.csv", rows)
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(manifest)])
    assert checked.exit_code == 1
    assert "1 problem(s) in 1 case(s)" in checked.output
    # float32 rounding of the moved origin: about 1e-5 mm
    assert re.search(
        r"1 mask\(s\) took the image grid \(origin offsets up to [\d.]+e-0[56] mm\): "
        r"rounded \(aligned\)",
        checked.output,
    )
    expected = (
        r"mask does not match the image grid of .*image\.nii\.gz: origin .*; the "
        r"origin of mask .*moved\.nii\.gz is \(1\.95, 0, 0\) mm = \(2, 0, 0\) voxels "
        r"from the image's, beyond the tolerance of 0\.001 voxel .*'correctMask: true'"
    )
    assert checked.output.count("case 'moved'") == 1
    assert pd.Series([checked.output.replace("\n", " ")]).str.contains(expected).all()

    out = tmp_path / "f.csv"
    params = _params(tmp_path)
    done = runner.invoke(
        main,
        ["extract", str(manifest), "--params", str(params), "--out", str(out), "-q"],
    )
    assert done.exit_code == 0, done.output
    features = pd.read_csv(out, index_col="case_id")
    assert list(features.index) == ["same", "rounded"]
    pd.testing.assert_series_equal(
        features.loc["same"], features.loc["rounded"], check_names=False, rtol=0
    )
    diag = pd.read_csv(tmp_path / "f.diagnostics.csv", index_col="case_id")
    assert diag.loc["same", "diagnostics_radsarc_MaskGrid"] == "identical"
    assert diag.loc["rounded", "diagnostics_radsarc_MaskGrid"] == "aligned"
    assert diag.loc["rounded", "diagnostics_radsarc_MaskOffset_mm"] == pytest.approx(
        1e-5, rel=0.1
    )
    errors = pd.read_csv(tmp_path / "f.errors.csv")
    assert errors["case_id"].tolist() == ["moved"]
    assert errors.loc[0, "stage"] == "validate"
    assert errors.loc[0, "file"].endswith("moved.nii.gz")
    assert pd.Series(errors["message"]).str.contains(expected).all()

    # The setting the message names resamples the mask, in both commands.
    params = _params(tmp_path, correctMask=True)
    assert (
        runner.invoke(
            main, ["validate", str(manifest), "--params", str(params)]
        ).exit_code
        == 0
    )
    done = runner.invoke(
        main,
        ["extract", str(manifest), "--params", str(params), "--out", str(out), "-q"],
    )
    assert done.exit_code == 0, done.output
    diag = pd.read_csv(tmp_path / "f.diagnostics.csv", index_col="case_id")
    assert diag.loc["moved", "diagnostics_radsarc_MaskGrid"] == "resampled"
    assert diag.loc["moved", "diagnostics_radsarc_MaskOffset_voxels"] == pytest.approx(
        2
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_dicom_seg_manifest_gives_the_features_of_the_nifti_mask(tmp_path):
    from tests.images.test_masks import write_seg

    t1 = sts("STS_002", "MR_T1")
    nifti = sitk.GetArrayFromImage(
        sitk.ReadImage(str(t1 / "nifti" / "mask" / "mask.nii.gz"))
    )
    seg = write_seg(
        t1 / "dicom" / "image", [("GTV", "tumour", nifti)], tmp_path / "seg.dcm"
    )
    rows = {
        "seg": {"image": t1 / "dicom" / "image", "mask": seg, "roi": "gtv"},
        "nifti": {
            "image": t1 / "dicom" / "image",
            "mask": t1 / "nifti" / "mask" / "mask.nii.gz",
        },
    }
    results = {
        k: extract_features(
            _manifest(tmp_path / f"{k}.csv", [{"case_id": "STS_002", **row}]),
            FAST,
            return_result=True,
        )
        for k, row in rows.items()
    }
    pd.testing.assert_frame_equal(
        results["seg"].features, results["nifti"].features, rtol=0, atol=0
    )
    diag = results["seg"].diagnostics.loc["STS_002"]
    assert diag["diagnostics_radsarc_MaskKind"] == "seg"
    assert diag["diagnostics_radsarc_Structure"] == "GTV"
    assert diag["diagnostics_radsarc_MaskGrid"] == "segmentation resampled"


def test_regions_must_be_the_same_for_every_case(tmp_path):
    t2 = sts("STS_001", "MR_T2_raw")
    rows = [
        {"case_id": c, "image": t2 / "image", "mask": t2 / "mask" / "RS.dcm", "roi": r}
        for c, r in (("a", "GTV_Mass;GTV_Edema"), ("b", "GTV_Mass"))
    ]
    with pytest.raises(ValueError, match=r"The cases name different regions"):
        extract_features(_manifest(tmp_path / "m.csv", rows), FAST)


def test_robustness_perturbs_an_rtstruct_region_and_refuses_several(tmp_path):
    from radsarc.features import robustness_icc

    rows = [
        {
            "case_id": p,
            "image": sts(p, "MR_T1", "dicom", "image"),
            "mask": sts(p, "MR_T1", "dicom", "mask", "RS.dcm"),
        }
        for p in ("STS_002", "STS_003")
    ]
    settings = {"featureClass": {"firstorder": ["Mean"]}, "setting": {}}
    result = robustness_icc(
        _manifest(tmp_path / "rt.csv", rows),
        settings,
        perturbations=("erode",),
        return_result=True,
    )
    assert set(result.features) == {"original", "erode"}
    assert result.icc.loc["original_firstorder_Mean", "n_cases"] == 2
    # Erosion keeps the inside of the rasterised structure: another mean.
    original, eroded = (
        result.features[k]["original_firstorder_Mean"] for k in ("original", "erode")
    )
    assert np.isfinite(original).all()
    assert not np.allclose(original, eroded)
    t2 = sts("STS_001", "MR_T2_raw")
    two = {
        "case_id": "P",
        "image": t2 / "image",
        "mask": t2 / "mask" / "RS.dcm",
        "roi": "GTV_Mass;GTV_Edema",
    }
    with pytest.raises(ValueError, match=r"one region per case; case 'P' names"):
        robustness_icc(_manifest(tmp_path / "two.csv", [two]), settings)


def test_a_partial_volume_mask_is_thresholded_with_mask_threshold(tmp_path):
    """A float (partial-volume) mask: refused, or binarised with maskThreshold,
    by validate and extract alike; >= 0.5 gives back the integer mask."""
    import yaml
    from scipy import ndimage

    t1 = sts("STS_002", "MR_T1", "nifti")
    integer = sitk.ReadImage(str(t1 / "mask" / "mask.nii.gz"))
    inside = sitk.GetArrayFromImage(integer) == 1
    shell = ndimage.binary_dilation(inside) & ~inside
    fraction = np.where(inside, 0.9, np.where(shell, 0.3, 0.0)).astype(np.float32)
    fraction[tuple(np.argwhere(inside)[0])] = 0.5  # on the threshold: inside
    partial = sitk.GetImageFromArray(fraction)
    partial.CopyInformation(integer)
    sitk.WriteImage(partial, str(tmp_path / "pv.nii.gz"))
    image = t1 / "image" / "image.nii.gz"
    manifest = _manifest(
        tmp_path / "m.csv",
        [
            {"case_id": "pv", "image": image, "mask": tmp_path / "pv.nii.gz"},
            {"case_id": "int", "image": image, "mask": t1 / "mask" / "mask.nii.gz"},
        ],
    )
    plain, threshold = tmp_path / "plain.yaml", tmp_path / "threshold.yaml"
    plain.write_text(yaml.safe_dump(FAST))
    settings = {**FAST, "setting": {"maskThreshold": 0.5}}
    threshold.write_text(yaml.safe_dump(settings))
    runner = CliRunner()
    refused = runner.invoke(main, ["validate", str(manifest), "--settings", str(plain)])
    assert refused.exit_code == 1
    assert re.search(
        r"case 'pv'.*pv\.nii\.gz.*non-integer values.*'maskThreshold: 0\.5'",
        refused.output,
        re.S,
    ), refused.output
    ok = runner.invoke(main, ["validate", str(manifest), "--settings", str(threshold)])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "f.csv"
    result = runner.invoke(
        main,
        ["extract", str(manifest), "--settings", str(threshold), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col=0)
    features = [c for c in table.columns if c.startswith("original_")]
    assert table.loc["pv", "original_shape_VoxelVolume"] == pytest.approx(
        float(inside.sum()) * np.prod(integer.GetSpacing()), rel=1e-12
    )
    np.testing.assert_allclose(
        table.loc["pv", features].to_numpy(float),
        table.loc["int", features].to_numpy(float),
        rtol=1e-12,
    )
    # Nothing reaches a threshold above the largest value: named, per case.
    settings["setting"]["maskThreshold"] = 0.95
    threshold.write_text(yaml.safe_dump(settings))
    high = runner.invoke(
        main, ["validate", str(manifest), "--settings", str(threshold)]
    )
    assert high.exit_code == 1
    assert "no voxel of the mask reaches maskThreshold 0.95" in high.output
    assert "case 'int'" not in high.output
    # The Python API reads the same setting.
    direct = extract_features(
        str(manifest), settings={**FAST, "setting": {"maskThreshold": 0.5}}
    )
    np.testing.assert_allclose(
        direct.loc["pv", features].to_numpy(float),
        table.loc["pv", features].to_numpy(float),
        rtol=1e-12,
    )
