"""Local voxel statistics against a brute-force loop; maps back to images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from numpy.testing import assert_allclose

from radsarc.features import local_statistics, voxel_map


def _brute(image, window, bins, mask):
    pads = [(w // 2, w // 2) for w in window]
    padded = np.pad(image, pads, mode="edge")
    ref = image[mask]
    low, high = ref.min(), ref.max()
    idx = np.clip(np.floor((padded - low) / (high - low) * bins), 0, bins - 1)
    out = {k: np.zeros(image.shape) for k in ("mean", "std", "entropy")}
    for z, y, x in np.ndindex(image.shape):
        sl = tuple(slice(c, c + w) for c, w in zip((z, y, x), window, strict=True))
        win = padded[sl]
        out["mean"][z, y, x] = win.mean()
        out["std"][z, y, x] = win.std()
        _, counts = np.unique(idx[sl], return_counts=True)
        p = counts / counts.sum()
        out["entropy"][z, y, x] = -(p * np.log2(p)).sum()
    return out


@pytest.mark.parametrize("window", [(3, 3, 3), (1, 3, 5)])
def test_local_statistics_match_brute_force(window):
    rng = np.random.default_rng(0)
    image = rng.normal(1000.0, 50.0, size=(4, 6, 7))
    mask = np.zeros(image.shape, bool)
    mask[1:3, 1:5, 2:6] = True
    fast = local_statistics(image, window=window, bins=4, mask=mask)
    slow = _brute(image, window, 4, mask)
    for name in ("mean", "std", "entropy"):
        assert_allclose(fast[name], slow[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_local_statistics_errors():
    with pytest.raises(ValueError, match="window must be an odd positive int"):
        local_statistics(np.zeros((3, 3, 3)), window=(2, 3, 3))
    with pytest.raises(ValueError, match="statistics must be a non-empty subset"):
        local_statistics(np.zeros((3, 3, 3)), statistics=("kurtosis",))


def test_voxel_map_round_trip():
    ref = sitk.Image(5, 4, 3, sitk.sitkInt16)
    ref.SetSpacing((0.5, 0.5, 2.0))
    ref.SetOrigin((1.0, 2.0, 3.0))
    index = pd.MultiIndex.from_tuples(
        [("P1", 0, 1, 2), ("P1", 2, 3, 4)], names=["case_id", "z", "y", "x"]
    )
    image = voxel_map(pd.Series([3, 4], index=index), ref)
    arr = sitk.GetArrayFromImage(image)
    assert arr.shape == (3, 4, 5)
    assert arr[0, 1, 2] == 3
    assert arr[2, 3, 4] == 4
    assert arr.sum() == 7
    assert image.GetSpacing() == (0.5, 0.5, 2.0)
    assert image.GetOrigin() == (1.0, 2.0, 3.0)
