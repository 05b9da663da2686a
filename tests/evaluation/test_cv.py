"""Validation schemes: group-awareness, fixed splits, external validation."""

import numpy as np
import pandas as pd
import pytest

from radsarc.evaluation import ExternalValidation, FixedSplits, NestedCV, RepeatedCV


@pytest.fixture
def data():
    X = pd.DataFrame({"a": np.arange(40.0)}, index=[f"c{i:02d}" for i in range(40)])
    y = pd.Series(np.tile([0, 1], 20), index=X.index)
    return X, y


def test_repeated_cv_partitions_each_repeat(data):
    X, y = data
    splits = RepeatedCV(n_splits=4, n_repeats=3).split(X, y)
    assert len(splits) == 12
    for r in range(3):
        tests = np.concatenate([t for _, t in splits[4 * r : 4 * r + 4]])
        assert sorted(tests) == list(range(40))
    # stratified: each test fold holds 5 of each class
    assert all(y.iloc[t].sum() == 5 for _, t in splits)


def test_groups_keep_lesions_of_a_patient_together(data):
    X, y = data
    groups = np.repeat(np.arange(20), 2)  # two lesions per patient
    y = pd.Series(np.repeat(np.tile([0, 1], 10), 2), index=X.index)
    for train, test in NestedCV(n_splits=4).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])


def test_fixed_splits_from_worc_csv(tmp_path, data):
    X, y = data
    path = tmp_path / "splits.csv"
    pd.DataFrame(
        {
            "0_train": ["c00", "c01", "c02", "c99"],  # c99 has no row: dropped
            "0_test": ["c03", "c04", None, None],
            "1_train": ["c03", "c04", "c05", "c06"],
            "1_test": ["c00", "c01", "c02", None],
        }
    ).to_csv(path)
    scheme = FixedSplits.from_csv(path)
    (tr0, te0), (tr1, te1) = scheme.split(X, y)
    assert list(tr0) == [0, 1, 2]
    assert list(te0) == [3, 4]
    assert list(tr1) == [3, 4, 5, 6]
    assert list(te1) == [0, 1, 2]
    assert scheme.describe()["n_splits"] == 2


def test_fixed_splits_errors(tmp_path, data):
    X, y = data
    with pytest.raises(ValueError, match=r"Split 0: cases \['c01'\] are in both"):
        FixedSplits([(["c00", "c01"], ["c01"])]).split(X, y)
    with pytest.raises(ValueError, match="Split 0 has no test cases in X"):
        FixedSplits([(["c00"], ["zz"])]).split(X, y)
    groups = np.repeat(np.arange(20), 2)
    with pytest.raises(ValueError, match="have lesions in both"):
        FixedSplits([(["c00", "c02"], ["c01"])]).split(X, y, groups)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FixedSplits.from_csv(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"a": [1]}).to_csv(bad)
    with pytest.raises(ValueError, match="has no '<i>_train' columns"):
        FixedSplits.from_csv(bad)


def test_external_validation(data):
    X, y = data
    centres = np.repeat(["A", "B", "C", "D"], 10)
    ((train, test),) = ExternalValidation(centres, test_centre="C").split(X, y)
    assert list(test) == list(range(20, 30))
    assert len(train) == 30
    assert len(ExternalValidation(centres).split(X, y)) == 4
    with pytest.raises(ValueError, match="test_centre 'Z' is not among"):
        ExternalValidation(centres, test_centre="Z").split(X, y)
    with pytest.raises(ValueError, match="at least two centres"):
        ExternalValidation(["A"] * 40).split(X, y)


def test_scheme_parameters_are_validated():
    with pytest.raises(ValueError, match="n_splits must be an int >= 2; got 1"):
        RepeatedCV(n_splits=1)
    with pytest.raises(ValueError, match="inner_splits must be an int >= 2"):
        NestedCV(inner_splits=0)
