"""Leakage audit: label-permutation test and a spy that records fitted rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from radsarc.evaluation._evaluate import (
    _check_data,
    _fit_split,
    _resolve_estimator,
    _resolve_scheme,
    evaluate,
)

__all__ = [
    "FitLog",
    "PermutationTestResult",
    "RowSpy",
    "audit_leakage",
    "permutation_test",
    "row_hashes",
]


def row_hashes(X) -> set[str]:
    """One digest per row of the values (float64 bytes) of a 2-D array or frame."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    return {hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest() for row in arr}


class FitLog:
    """Shared record of the rows every :class:`RowSpy` was fitted on.

    ``clone`` deep-copies non-estimator parameters; a ``FitLog`` returns itself
    from ``__deepcopy__`` so that every clone of a spy (in grid searches and
    inner cross-validation) writes to the same log.
    """

    def __init__(self) -> None:
        self.records: list[tuple[str, frozenset[str]]] = []

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"FitLog({len(self.records)} records)"

    def clear(self) -> None:
        self.records.clear()


class RowSpy(TransformerMixin, BaseEstimator):
    """Pass-through transformer recording the rows it is fitted on.

    Put before a step of a pipeline, it sees exactly what that step is fitted
    on; ``transform`` returns its input unchanged (DataFrames stay DataFrames).

    Parameters
    ----------
    position : str, default=""
        Where the spy sits in the pipeline (the name of the step after it).
    log : FitLog, default=None
        Where fitted rows are also recorded (shared by clones).

    Attributes
    ----------
    fit_hashes_ : frozenset of str
        Digests of the rows seen by ``fit`` (see :func:`row_hashes`).
    n_fit_rows_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> spy = RowSpy().fit(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> spy.n_fit_rows_, row_hashes([[3.0, 4.0]]) <= spy.fit_hashes_
    (2, True)
    """

    _parameter_constraints: dict = {
        "position": [str],
        "log": [FitLog, None],
    }

    def __init__(self, *, position: str = "", log: FitLog | None = None):
        self.position = position
        self.log = log

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the rows of ``X``."""
        arr = validate_data(self, X, ensure_all_finite=False)
        self.fit_hashes_ = frozenset(row_hashes(arr))
        self.n_fit_rows_ = arr.shape[0]
        if self.log is not None:
            self.log.records.append((self.position, self.fit_hashes_))
        return self

    def transform(self, X):
        """Return ``X`` unchanged (an array-like as a validated array)."""
        check_is_fitted(self)
        arr = validate_data(self, X, reset=False, ensure_all_finite=False)
        return X if isinstance(X, pd.DataFrame) else arr

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return _check_feature_names_in(self, input_features)


def _with_spies(pipeline, log: FitLog):
    if not hasattr(pipeline, "steps"):
        from imblearn.pipeline import Pipeline

        pipeline = Pipeline([("estimator", pipeline)])
    steps = []
    for name, step in pipeline.steps:
        steps.append((f"spy_before_{name}", RowSpy(position=name, log=log)))
        steps.append((name, clone(step) if hasattr(step, "get_params") else step))
    return type(pipeline)(steps)


def _transform_through(steps, X):
    """Apply fitted steps as at prediction time (resamplers pass rows through)."""
    for _, step in steps:
        if step is None or step == "passthrough" or not hasattr(step, "transform"):
            continue
        X = step.transform(X)
    return X


def audit_leakage(
    estimator, X, y, *, cv="repeated", groups=None, **kwargs
) -> pd.DataFrame:
    """Prove that no step of a pipeline is ever fitted on a test row.

    A :class:`RowSpy` is put before every step of the pipeline (selectors,
    samplers, scalers, the classifier). Each split of the scheme is then run by
    the same code as :func:`evaluate` (including tuning and the cut-off's inner
    cross-validation). Two checks per split:

    * every fit of the first spy, in every clone, saw only training rows;
    * for the fitted model, the test rows as they reach each step (transformed
      by the fitted steps before it) are not among the rows that step was
      fitted on.

    Rows are compared by a digest of their values, so two identical rows count
    as the same row.

    Parameters
    ----------
    estimator, X, y, cv, groups
        As for :func:`evaluate`.
    **kwargs
        ``param_grid``, ``cutoff``, ``min_sensitivity``, ``threshold_cv``,
        ``random_state`` as for :func:`evaluate`.

    Returns
    -------
    audit : DataFrame
        One row per split and step: ``split``, ``step``, ``n_fit_rows`` (rows the
        step was fitted on in the final model, after any resampling before it),
        ``test_rows_seen`` (must be 0), and ``foreign_rows_fitted`` (rows fitted
        by any clone of the first step that are not training rows; must be 0).
    """
    allowed = {
        "param_grid",
        "cutoff",
        "min_sensitivity",
        "threshold_cv",
        "random_state",
    }
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"audit_leakage got unexpected arguments {sorted(unknown)}.")
    X, y = _check_data(X, y)
    estimator, _, preset_grid = _resolve_estimator(estimator)
    random_state = kwargs.get("random_state", 0)
    scheme = _resolve_scheme(cv, random_state)
    grid = kwargs.get("param_grid")
    if grid is None and scheme.tunes:
        grid = scheme.param_grid or preset_grid
    log = FitLog()
    spied = _with_spies(estimator, log)
    first = spied.steps[1][0]
    if grid:
        grid = {f"{k}": v for k, v in grid.items()}
    rows = []
    for i, (train, test) in enumerate(scheme.split(X, y, groups)):
        log.clear()
        out = _fit_split(
            spied,
            X,
            y,
            train,
            test,
            groups=groups,
            param_grid=grid,
            inner_splits=getattr(scheme, "inner_splits", 3),
            cutoff=kwargs.get("cutoff", "youden"),
            min_sensitivity=kwargs.get("min_sensitivity", 0.9),
            threshold_cv=kwargs.get("threshold_cv", 5),
            importance=False,
            random_state=random_state + i,
            keep_model=True,
        )
        train_h = row_hashes(X.iloc[train])
        foreign = set()
        for position, hashes in log.records:
            if position == first:
                foreign |= hashes - train_h
        model = out["model"]
        X_test = X.iloc[test]
        for k, (_, step) in enumerate(model.steps):
            if not isinstance(step, RowSpy):
                continue
            reaching = _transform_through(model.steps[:k], X_test)
            rows.append(
                {
                    "split": i,
                    "step": step.position,
                    "n_fit_rows": step.n_fit_rows_,
                    "test_rows_seen": len(row_hashes(reaching) & step.fit_hashes_),
                    "foreign_rows_fitted": len(foreign)
                    if step.position == first
                    else 0,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PermutationTestResult:
    """Result of :func:`permutation_test`."""

    auc: float
    null_aucs: np.ndarray
    p_value: float

    @property
    def null_mean(self) -> float:
        return float(np.mean(self.null_aucs))


def permutation_test(
    estimator,
    X,
    y,
    *,
    cv="repeated",
    groups=None,
    n_permutations: int = 20,
    random_state: int = 0,
    n_jobs: int | None = None,
    **kwargs,
) -> PermutationTestResult:
    """Rerun the evaluation on shuffled labels: the null distribution of the AUC.

    If the evaluation is honest, a model trained on shuffled labels has a mean
    test AUC near 0.5; the real AUC is compared with that null distribution,
    ``p = (1 + #{null AUC >= real AUC}) / (1 + n_permutations)``. With
    ``groups``, labels are shuffled between patients (each patient's lesions
    keep one label), so the null keeps the grouping.

    Parameters
    ----------
    estimator, X, y, cv, groups, n_jobs
        As for :func:`evaluate`.
    n_permutations : int, default=20
    random_state : int, default=0
    **kwargs
        Passed to :func:`evaluate` (the cut-off is not needed: by default
        ``cutoff=None``).

    References
    ----------
    Ojala M, Garriga GC. Permutation tests for studying classifier performance.
    JMLR 2010;11:1833-1863.
    """
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, int)
        or (n_permutations < 1)
    ):
        raise ValueError(f"n_permutations must be an int >= 1; got {n_permutations!r}.")
    X, y = _check_data(X, y)
    kwargs.setdefault("cutoff", None)
    # Only the model's mean AUC is compared: no baseline fits.
    kwargs.setdefault("baseline", False)

    def mean_auc(labels: pd.Series) -> float:
        # The real and the shuffled labels go through the very same evaluation.
        return evaluate(
            estimator,
            X,
            labels,
            cv=cv,
            groups=groups,
            random_state=random_state,
            n_jobs=n_jobs,
            **kwargs,
        ).mean_auc

    real = mean_auc(y)
    rng = check_random_state(random_state)
    null = []
    for _ in range(n_permutations):
        if groups is None:
            y_perm = pd.Series(rng.permutation(y.to_numpy()), index=y.index)
        else:
            per_group = y.groupby(np.asarray(groups)).agg(["min", "max"])
            if (per_group["min"] != per_group["max"]).any():
                raise ValueError(
                    "Some patients have lesions with different labels; shuffling "
                    "labels between patients needs one label per patient."
                )
            labels = per_group["min"]
            shuffled = pd.Series(rng.permutation(labels.to_numpy()), index=labels.index)
            y_perm = pd.Series(
                shuffled.loc[np.asarray(groups)].to_numpy(), index=y.index
            )
        null.append(mean_auc(y_perm))
    null = np.asarray(null)
    p = float((1 + np.sum(null >= real)) / (1 + n_permutations))
    return PermutationTestResult(auc=float(real), null_aucs=null, p_value=p)
