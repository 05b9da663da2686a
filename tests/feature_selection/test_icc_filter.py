"""ICCFilter: keep features whose ICC reaches the threshold, by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsarc.feature_selection import ICCFilter

X = pd.DataFrame(
    np.arange(24, dtype=float).reshape(6, 4) ** 1.5, columns=["a", "b", "c", "d"]
)
TABLE = pd.DataFrame(
    {"ICC(2,1)": [0.9, 0.75, 0.74, np.nan], "ICC(3,1)": [0.9, 0.8, 0.8, 0.8]},
    index=["a", "b", "c", "d"],
)


def test_keeps_features_at_or_above_the_threshold_and_drops_undefined_ones():
    flt = ICCFilter(icc=TABLE).fit(X)
    assert flt.get_feature_names_out().tolist() == ["a", "b"]
    np.testing.assert_array_equal(flt.transform(X), X[["a", "b"]].to_numpy())
    assert ICCFilter(icc=TABLE, kind="ICC(3,1)").fit(X).support_.tolist() == [
        True,
        True,
        True,
        True,
    ]
    assert ICCFilter(icc=TABLE["ICC(2,1)"], threshold=0.5).fit(X).support_.sum() == 3


def test_unnamed_features_are_x0_x1():
    icc = {"x0": 0.2, "x1": 0.95}
    assert ICCFilter(icc=icc).fit(X.to_numpy()[:, :2]).support_.tolist() == [
        False,
        True,
    ]


def test_features_without_an_icc():
    icc = {"a": 0.9, "b": 0.1}
    with pytest.raises(
        ValueError, match=r"no value for 2 feature\(s\) of X, e.g. \['c', 'd'\]"
    ):
        ICCFilter(icc=icc).fit(X)
    assert ICCFilter(icc=icc, missing="drop").fit(X).support_.tolist() == [
        True,
        False,
        False,
        False,
    ]
    assert ICCFilter(icc=icc, missing="keep").fit(X).support_.tolist() == [
        True,
        False,
        True,
        True,
    ]


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="no column 'ICC\\(1,1\\)'"):
        ICCFilter(icc=TABLE, kind="ICC(1,1)").fit(X)
    with pytest.raises(ValueError, match="The 'threshold' parameter of ICCFilter"):
        ICCFilter(icc=TABLE, threshold=1.5).fit(X)
