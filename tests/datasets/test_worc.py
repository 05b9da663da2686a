"""Tests for the bundled WORC tables and splits."""

from __future__ import annotations

import pandas as pd
import pytest

from radsarc.datasets import (
    WORC_DATASETS,
    WORC_PUBLISHED_RESULTS,
    load_worc_splits,
    load_worc_table,
)


@pytest.mark.parametrize(
    ("name", "n_rows", "n_pos"), [("Lipo", 114, 57), ("Desmoid", 203, 72)]
)
def test_load_worc_table_shapes(name, n_rows, n_pos):
    X, y = load_worc_table(name)
    assert X.shape == (n_rows, 1015)
    assert y.shape == (n_rows,)
    assert y.name == "Target"
    assert int(y.sum()) == n_pos
    assert set(y.unique()) == {0, 1}
    assert X.index.equals(y.index)
    assert X.index.is_unique
    assert X.index[0] == f"{name}-001"
    assert "ID" not in X.columns
    assert "Target" not in X.columns
    assert all(col.startswith("MR_") for col in X.columns)
    assert not X.isna().any().any()


@pytest.mark.parametrize("name", ["lipo", "LIPO", "WORC-Lipo", " Lipo "])
def test_load_worc_table_case_insensitive(name):
    X, _ = load_worc_table(name)
    assert X.shape[0] == 114


def test_load_worc_table_bad_name():
    with pytest.raises(
        ValueError,
        match=r"Unknown WORC data set 'Lippo'; expected one of \['Desmoid', 'Lipo'\]"
        r".*Did you mean 'Lipo'\?",
    ):
        load_worc_table("Lippo")
    with pytest.raises(TypeError, match=r"The 'name' parameter must be a str"):
        load_worc_splits(3)


@pytest.mark.parametrize(("name", "n_rows"), [("Lipo", 114), ("Desmoid", 203)])
def test_load_worc_splits(name, n_rows):
    X, y = load_worc_table(name)
    splits = load_worc_splits(name)
    assert len(splits) == 100
    for train, test in splits:
        assert isinstance(train, pd.Index)
        assert isinstance(test, pd.Index)
        assert len(train.intersection(test)) == 0
        assert train.union(test).sort_values().equals(X.index.sort_values())
        # 80/20 stratified: the test set holds about a fifth of each class
        assert abs(len(test) - n_rows / 5) <= 2
        assert abs(y.loc[test].mean() - y.mean()) < 0.05
    assert "Lipo-073" not in splits[0][0].union(splits[0][1])
    # The splits differ from one another
    assert not splits[0][1].equals(splits[1][1])


def test_published_results():
    assert set(WORC_PUBLISHED_RESULTS) == set(WORC_DATASETS)
    assert WORC_PUBLISHED_RESULTS["Lipo"]["auc"] == pytest.approx(0.83)
    assert WORC_PUBLISHED_RESULTS["Desmoid"]["auc"] == pytest.approx(0.82)
    assert "2108.08618" in WORC_PUBLISHED_RESULTS["Lipo"]["source"]
