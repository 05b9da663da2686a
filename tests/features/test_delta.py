"""delta_features on a hand-made longitudinal table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radsarc.features import delta_features


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "patient_id": ["A", "A", "B", "B", "C"],
            "timepoint": ["pre", "post", "post", "pre", "pre"],
            "T2FS_volume": [10.0, 4.0, 9.0, 6.0, 5.0],
            "T1_mean": [-2.0, -1.0, 0.0, 0.0, 1.0],
        },
        index=["A-pre", "A-post", "B-post", "B-pre", "C-pre"],
    )


def test_absolute_and_relative_by_hand(table):
    with pytest.warns(UserWarning, match=r"1 patient\(s\) without both .*\['C'\]"):
        absolute = delta_features(table, kind="absolute")
    assert list(absolute.index) == ["A", "B"]
    assert absolute.index.name == "patient_id"
    assert list(absolute.columns) == ["delta_T2FS_volume", "delta_T1_mean"]
    assert_allclose(absolute.to_numpy(), [[-6.0, 1.0], [3.0, 0.0]], atol=1e-12)
    with pytest.warns(UserWarning, match="without both"):
        relative = delta_features(table)
    # (4 - 10) / 10, (-1 - -2) / |-2|, (9 - 6) / 6, 0 -> 0 stays 0
    assert_allclose(relative.to_numpy(), [[-0.6, 0.5], [0.5, 0.0]], atol=1e-12)


def test_keys_from_a_separate_table(table):
    keys = table[["patient_id", "timepoint"]].rename(
        columns={"patient_id": "pid", "timepoint": "visit"}
    )
    feats = table.drop(columns=["patient_id", "timepoint"]).loc[["A-pre", "A-post"]]
    out = delta_features(
        feats, keys, patient_column="pid", timepoint_column="visit", kind="absolute"
    )
    assert_allclose(out.loc["A"].to_numpy(), [-6.0, 1.0])


def test_zero_baseline_gives_nan_with_warning():
    t = pd.DataFrame(
        {"patient_id": ["A", "A"], "timepoint": ["pre", "post"], "f": [0.0, 2.0]},
        index=["a0", "a1"],
    )
    with pytest.warns(UserWarning, match="1 relative change"):
        out = delta_features(t)
    assert np.isnan(out.iloc[0, 0])


def test_errors(table):
    with pytest.raises(ValueError, match="kind must be one of"):
        delta_features(table, kind="ratio")
    dup = pd.concat([table, table.iloc[[0]].set_axis(["A-pre-2"])])
    with pytest.raises(ValueError, match=r"\['A'\] have more than one row"):
        delta_features(dup)
    with pytest.raises(ValueError, match="No row has timepoint == 'week6'"):
        delta_features(table, followup="week6")
    with pytest.raises(TypeError, match="must be numeric"):
        delta_features(table.assign(sex="F"))
    with pytest.raises(ValueError, match=r"no column\(s\) \['patient_id'\]"):
        delta_features(table.drop(columns="patient_id"))
