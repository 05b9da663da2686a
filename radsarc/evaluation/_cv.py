"""Validation schemes: repeated and nested CV, fixed splits, external validation.

Every scheme turns ``(X, y, groups)`` into a list of ``(train, test)`` integer
positions. ``groups`` holds one id per row for the patient a lesion belongs to;
all lesions of a patient always fall on the same side of a split.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils.validation import _num_samples

__all__ = ["ExternalValidation", "FixedSplits", "NestedCV", "RepeatedCV", "inner_cv"]

logger = logging.getLogger(__name__)


def _check_int(name: str, value, minimum: int) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < minimum
    ):
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")


def inner_cv(n_splits: int, groups, random_state):
    """The stratified (group-aware when ``groups`` is given) k-fold used inside a
    training part, for tuning and for choosing the cut-off."""
    if groups is None:
        return StratifiedKFold(
            n_splits=n_splits, shuffle=True, random_state=random_state
        )
    return StratifiedGroupKFold(
        n_splits=n_splits, shuffle=True, random_state=random_state
    )


def class_sizes(y, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """The sorted labels of ``y`` and how many cases (patients when ``groups``
    is given) each has."""
    y = np.asarray(y)
    labels, counts = np.unique(y, return_counts=True)
    if groups is not None:
        g = np.asarray(groups)
        counts = np.array([np.unique(g[y == c]).size for c in labels])
    return labels, counts


def check_folds(n_splits: int, y, groups=None) -> None:
    """Refuse a stratified k-fold with more folds than the smallest class has
    cases (patients when ``groups`` is given): some test folds would hold no case
    of that class, their AUC would be undefined, and the mean over the folds that
    happened to work would be optimistic."""
    labels, counts = class_sizes(y, groups)
    if labels.size < 2:
        return
    i = int(np.argmin(counts))
    if n_splits > counts[i]:
        unit = "patients" if groups is not None else "cases"
        others = ", ".join(
            f"{int(n)} of label {lab}"
            for lab, n in zip(labels, counts, strict=True)
            if lab != labels[i]
        )
        raise ValueError(
            f"n_splits={n_splits} (--n-splits) folds but the smallest class, label "
            f"{labels[i]}, has only {int(counts[i])} {unit} ({others}): some test "
            "folds would have no case of that class. The largest valid n_splits "
            f"(--n-splits) is {int(counts[i])}."
            + (
                ""
                if counts[i] >= 2
                else " With one case of a class, no cross-validation is possible."
            )
        )


def _check_groups_disjoint(groups, train, test, where: str) -> None:
    if groups is None:
        return
    groups = np.asarray(groups)
    shared = set(groups[train]) & set(groups[test])
    if shared:
        raise ValueError(
            f"{where}: patients {sorted(map(str, shared))[:5]} have lesions in both "
            "the training and the test part; all lesions of a patient must be on the "
            "same side."
        )


class RepeatedCV:
    """Repeated stratified k-fold cross-validation (group-aware).

    Parameters
    ----------
    n_splits : int, default=5
    n_repeats : int, default=10
    random_state : int, default=0
        Repeat ``r`` shuffles with seed ``random_state + r``.
    """

    tunes = False

    def __init__(self, n_splits: int = 5, n_repeats: int = 10, random_state: int = 0):
        _check_int("n_splits", n_splits, 2)
        _check_int("n_repeats", n_repeats, 1)
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """``n_splits * n_repeats``."""
        return self.n_splits * self.n_repeats

    def split(self, X, y, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        y = np.asarray(y)
        check_folds(self.n_splits, y, groups)
        out = []
        for r in range(self.n_repeats):
            cv = inner_cv(self.n_splits, groups, self.random_state + r)
            for train, test in cv.split(np.zeros((y.size, 1)), y, groups):
                out.append((train, test))
        return out

    def describe(self) -> dict:
        return {
            "scheme": "repeated",
            "description": f"{self.n_repeats} x repeated stratified "
            f"{self.n_splits}-fold cross-validation",
            "n_splits": self.n_splits,
            "n_repeats": self.n_repeats,
            "random_state": self.random_state,
        }


class NestedCV(RepeatedCV):
    """Nested cross-validation: repeated stratified k-fold outside, grid search inside.

    For each outer training part, the hyper-parameters are chosen by a
    stratified ``inner_splits``-fold grid search (AUC) on that part only, and the
    model refitted on the whole part with the best parameters is tested on the
    outer test part.

    Parameters
    ----------
    n_splits : int, default=5
    n_repeats : int, default=1
    inner_splits : int, default=3
    param_grid : dict, default=None
        ``set_params`` keys to lists of values; default the preset's grid.
    random_state : int, default=0
    """

    tunes = True

    def __init__(
        self,
        n_splits: int = 5,
        n_repeats: int = 1,
        inner_splits: int = 3,
        param_grid: dict | None = None,
        random_state: int = 0,
    ):
        super().__init__(
            n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
        )
        _check_int("inner_splits", inner_splits, 2)
        self.inner_splits = inner_splits
        self.param_grid = param_grid

    def describe(self) -> dict:
        d = super().describe()
        d.update(
            scheme="nested",
            description=f"nested cross-validation: {d['description']} outside, "
            f"stratified {self.inner_splits}-fold grid search (AUC) inside",
            inner_splits=self.inner_splits,
            param_grid=self.param_grid,
        )
        return d


class FixedSplits:
    """Predefined train/test splits given as case ids (index labels of X).

    A scikit-learn splitter: ``split(X, y=None, groups=None)`` yields integer
    positions of the rows of X and ``get_n_splits()`` counts the splits, so it
    works as ``cv=`` in :func:`sklearn.model_selection.cross_val_score`,
    ``GridSearchCV`` and the like, as well as in :func:`radsarc.evaluation.evaluate`.
    The ids are matched to the index of a DataFrame X (the case ids); for an
    array X, ids are row positions.

    Ids that are not in X are dropped (logged once), as WORC's Lipo splits list a
    second lesion that has no row in the table.

    Parameters
    ----------
    splits : sequence of (train_ids, test_ids)
    name : str, default="fixed"
        Shown in the report (e.g. ``"WORC 100 splits"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> X = pd.DataFrame({"f": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7]},
    ...                  index=["a", "b", "c", "d", "e", "f"])
    >>> y = pd.Series([0, 1, 0, 1, 0, 1], index=X.index)
    >>> cv = FixedSplits([(["a", "b", "c", "d"], ["e", "f"]),
    ...                   (["c", "d", "e", "f"], ["a", "b"])])
    >>> cv.get_n_splits()
    2
    >>> cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="roc_auc")
    array([1., 1.])
    """

    tunes = False

    def __init__(
        self, splits: Sequence[tuple[Sequence, Sequence]], name: str = "fixed"
    ):
        splits = list(splits)
        if not splits:
            raise ValueError(
                "splits is empty; give at least one (train_ids, test_ids)."
            )
        for i, pair in enumerate(splits):
            if len(pair) != 2:
                raise ValueError(
                    f"Split {i} must be a (train_ids, test_ids) pair; got "
                    f"{len(pair)} items."
                )
        self.splits = splits
        self.name = name

    @classmethod
    def from_csv(cls, path: str | Path, name: str | None = None) -> FixedSplits:
        """Read WORC's split format: columns ``<i>_train`` and ``<i>_test`` of ids.

        The columns may have different lengths (padded with empty cells); a
        first unnamed column is an index and is ignored.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Split file {path} does not exist.")
        table = pd.read_csv(path, dtype=str)
        train_cols = [c for c in table.columns if str(c).endswith("_train")]
        if not train_cols:
            raise ValueError(
                f"Split file {path} has no '<i>_train' columns; expected WORC's "
                "format with columns 0_train, 0_test, 1_train, 1_test, ..."
            )
        splits = []
        for col in train_cols:
            key = str(col)[: -len("_train")]
            test_col = f"{key}_test"
            if test_col not in table.columns:
                raise ValueError(f"Split file {path} has {col!r} but no {test_col!r}.")
            splits.append(
                (
                    pd.Index(table[col].dropna().str.strip()),
                    pd.Index(table[test_col].dropna().str.strip()),
                )
            )
        return cls(splits, name=name or path.name)

    def __repr__(self) -> str:
        return f"FixedSplits(n_splits={len(self.splits)}, name={self.name!r})"

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of splits (X, y and groups are ignored, as in KFold)."""
        return len(self.splits)

    def split(self, X, y=None, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(train, test)`` integer positions of the rows of X, one per split.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A DataFrame's index holds the case ids the splits name; for an
            array the ids are row positions.
        y : array-like, default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Patient id per row: a split that puts a patient's lesions on both
            sides is an error.
        """
        index = (
            pd.Index(X.index)
            if isinstance(X, pd.DataFrame | pd.Series)
            else pd.RangeIndex(_num_samples(X))
        )
        if not index.is_unique:
            raise ValueError("Fixed splits need a unique index of case ids in X.")
        out = []
        missing: set = set()
        for i, (train_ids, test_ids) in enumerate(self.splits):
            train_ids = pd.Index(train_ids).astype(index.dtype, copy=False)
            test_ids = pd.Index(test_ids).astype(index.dtype, copy=False)
            overlap = train_ids.intersection(test_ids)
            if len(overlap):
                raise ValueError(
                    f"Split {i}: cases {list(overlap[:5])} are in both the training "
                    "and the test part."
                )
            missing |= set(train_ids.difference(index)) | set(
                test_ids.difference(index)
            )
            train = index.get_indexer(train_ids.intersection(index))
            test = index.get_indexer(test_ids.intersection(index))
            if train.size == 0 or test.size == 0:
                raise ValueError(
                    f"Split {i} has no {'training' if train.size == 0 else 'test'} "
                    "cases in X; do the split ids match X's index (first column)?"
                )
            _check_groups_disjoint(groups, train, test, f"Split {i}")
            out.append((np.sort(train), np.sort(test)))
        if missing:
            logger.info(
                "%d case ids in the splits have no row in X and were dropped: %s",
                len(missing),
                sorted(map(str, missing))[:10],
            )
        return out

    def describe(self) -> dict:
        return {
            "scheme": "splits",
            "description": f"{len(self.splits)} fixed train/test splits ({self.name})",
            "n_splits": len(self.splits),
            "name": self.name,
        }


class ExternalValidation:
    """Fit on some centres, test on another (external validation).

    Parameters
    ----------
    centres : array-like of shape (n_samples,)
        The centre (or scanner, or cohort) of each row.
    test_centre : object, default=None
        The centre held out for testing. None holds out each centre in turn
        (leave-one-centre-out), one split per centre.
    """

    tunes = False

    def __init__(self, centres, test_centre=None):
        self.centres = centres
        self.test_centre = test_centre

    def split(self, X, y, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        centres = np.asarray(self.centres)
        if centres.shape[0] != len(y):
            raise ValueError(
                f"centres has {centres.shape[0]} values but there are {len(y)} cases."
            )
        values = list(pd.unique(centres))
        if len(values) < 2:
            raise ValueError(
                f"External validation needs at least two centres; got {values!r}."
            )
        if self.test_centre is not None and self.test_centre not in values:
            raise ValueError(
                f"test_centre {self.test_centre!r} is not among the centres {values!r}."
            )
        held_out = values if self.test_centre is None else [self.test_centre]
        out = []
        for centre in held_out:
            test = np.flatnonzero(centres == centre)
            train = np.flatnonzero(centres != centre)
            _check_groups_disjoint(groups, train, test, f"Centre {centre!r}")
            out.append((train, test))
        return out

    def describe(self) -> dict:
        held = (
            "each centre in turn"
            if self.test_centre is None
            else repr(self.test_centre)
        )
        return {
            "scheme": "external",
            "description": "external validation: fit on the other centres, test on "
            f"{held}",
            "test_centre": None if self.test_centre is None else str(self.test_centre),
            "centres": sorted(map(str, pd.unique(np.asarray(self.centres)))),
        }
