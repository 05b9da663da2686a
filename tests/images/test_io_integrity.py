"""read_image refuses truncated NIfTI files and keeps NaN / infinite voxels.

SimpleITK 2.5 reads a truncated NIfTI file padded with zeros and turns NaN and
infinite voxels of a NIfTI file into 0, without a word.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radsarc.images import read_image


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_truncated_nifti_is_refused(tmp_path, suffix):
    path = tmp_path / f"image{suffix}"
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((6, 7, 8), np.int16)), str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ValueError, match=r"Cannot read image .*: expected a readable, "
                       r"complete NIfTI file; it is truncated"):  # fmt: skip
        read_image(path)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd"])
def test_non_finite_voxels_survive_reading(tmp_path, suffix):
    array = np.arange(6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8)
    array[1, 2, 3], array[4, 5, 6], array[0, 0, 1] = np.nan, np.inf, -np.inf
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.5, 0.6, 2.0))
    path = tmp_path / f"image{suffix}"
    sitk.WriteImage(image, str(path))
    back = read_image(path)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), array)
    assert back.GetSpacing() == pytest.approx((0.5, 0.6, 2.0))


def test_gzip_nifti_members_padding_and_corruption(tmp_path):
    """The .nii.gz check reads every gzip member and gzip's zero padding, and
    refuses a file whose data fails its CRC."""
    import gzip

    array = np.arange(6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8)
    array[2, 3, 4] = np.nan
    plain = tmp_path / "image.nii"
    sitk.WriteImage(sitk.GetImageFromArray(array), str(plain))
    raw = plain.read_bytes()
    two = tmp_path / "two.nii.gz"  # two gzip members, then zero padding
    two.write_bytes(gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]) + b"\0" * 8)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(read_image(two)), array)
    packed = bytearray(gzip.compress(raw))
    packed[-8] ^= 0xFF  # the CRC of the data no longer matches
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(bytes(packed))
    with pytest.raises(
        ValueError, match=r"bad\.nii\.gz: expected a readable, complete"
    ):
        read_image(bad)
