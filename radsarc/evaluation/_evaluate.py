"""The evaluation entry point: one estimator, one validation scheme, honest numbers."""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import logging
import os
import platform
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import norm
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict
from threadpoolctl import threadpool_limits

from radsarc._parallel import watch_parent
from radsarc._progress import check_progress, progress_bar
from radsarc._version import __version__
from radsarc.evaluation._bootstrap import bootstrap_ci
from radsarc.evaluation._corrected_ttest import (
    corrected_resampled_ci,
    corrected_resampled_ttest,
)
from radsarc.evaluation._cv import (
    ExternalValidation,
    FixedSplits,
    NestedCV,
    RepeatedCV,
    class_sizes,
    inner_cv,
)
from radsarc.evaluation._delong import delong_test
from radsarc.evaluation._importance import (
    permutation_importance,
    selected_features,
    selection_frequency,
)
from radsarc.evaluation._metrics import METRICS, binary_metrics, positive_scores
from radsarc.evaluation._thresholds import CUTOFFS, choose_threshold
from radsarc.evaluation._tuning import grid_search
from radsarc.model import (
    AutoEnsemble,
    ClinicalBaseline,
    VolumeBaseline,
    volume_column,
)

__all__ = [
    "BASELINE_KEYS",
    "COMPARISON_COLUMNS",
    "EvaluationResult",
    "compare_to_baseline",
    "data_hash",
    "environment",
    "evaluate",
]

logger = logging.getLogger(__name__)

#: Baseline names in results and their short key in ``results.csv`` columns.
BASELINE_KEYS = {"tumour volume": "volume", "clinical": "clinical"}
COMPARISON_COLUMNS = [
    "baseline_column",
    "model_auc",
    "baseline_auc",
    "delta_auc",
    "ci_low",
    "ci_high",
    "p_value",
    "ci_method",
    "n_splits",
    "verdict",
    "sentence",
]

_DEPENDENCIES = (
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "imbalanced-learn",
    "joblib",
    "matplotlib",
)


def environment() -> dict[str, str]:
    """Versions of Python, radsarc and its numerical dependencies."""
    out = {"python": platform.python_version(), "radsarc": __version__}
    for dist in _DEPENDENCIES:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def data_hash(X: pd.DataFrame, y: pd.Series) -> str:
    """SHA-256 of the case ids, feature names, feature values and labels."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, X.columns)).encode())
    h.update(pd.util.hash_pandas_object(X, index=True).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(y, index=True).to_numpy().tobytes())
    return h.hexdigest()


def _auto_nested_description(scheme, ensemble) -> dict:
    """A nested scheme's description when the model is the ``auto`` ensemble,
    which has no grid to search: its own inner cross-validation selects it."""
    description = dict(scheme.describe())
    outer = RepeatedCV.describe(scheme)["description"]
    repeats = f"{ensemble.n_repeats} x " if ensemble.n_repeats > 1 else ""
    description.update(
        description=f"nested cross-validation: {outer} outside; inside, auto's "
        f"own {repeats}stratified {ensemble.cv}-fold cross-validation of its "
        "library chooses the ensemble (no grid search)",
        inner_splits=ensemble.cv,
        param_grid=None,
    )
    return description


def _group_fit_params(model, groups) -> dict:
    """``fit`` parameters passing ``groups`` to a final step that takes them.

    A model that cross-validates inside its own ``fit`` (the ``auto`` ensemble,
    :class:`radsarc.model.AutoEnsemble`) keeps a patient's lesions together in
    its inner folds when it gets the patient ids; other models get nothing.
    """
    if groups is None:
        return {}
    if hasattr(model, "steps"):
        name, final = model.steps[-1]
        prefix = f"{name}__"
    else:
        final, prefix = model, ""
    fit = getattr(final, "fit", None)
    if fit is None or "groups" not in inspect.signature(fit).parameters:
        return {}
    return {f"{prefix}groups": np.asarray(groups)}


def _oof_scores(model, X, y, cv, groups) -> np.ndarray:
    method = "predict_proba" if hasattr(model, "predict_proba") else "decision_function"
    pred = cross_val_predict(model, X, y, cv=cv, groups=groups, method=method)
    return pred[:, 1] if pred.ndim == 2 else pred


def _fit_split(
    estimator,
    X: pd.DataFrame,
    y: pd.Series,
    train: np.ndarray,
    test: np.ndarray,
    *,
    groups,
    param_grid,
    inner_splits: int,
    cutoff,
    min_sensitivity: float,
    threshold_cv: int,
    importance: bool,
    random_state: int,
    keep_model: bool,
) -> dict:
    """Fit on ``train`` only (tuning, cut-off and all) and score ``test``."""
    X_train, y_train = X.iloc[train], y.iloc[train]
    X_test, y_test = X.iloc[test], y.iloc[test]
    g_train = None if groups is None else np.asarray(groups)[train]
    # Inner folds never exceed what the training part's smallest class allows.
    minority_label, n_minority = _minority(y_train.to_numpy(), g_train)
    unit = "patients" if g_train is not None else "cases"
    best_params = None
    tuned_oof = None
    tuning_folds = cutoff_folds = None
    if isinstance(cutoff, str):
        cutoff_folds = min(threshold_cv, n_minority)
        if cutoff_folds < 2:
            raise ValueError(
                f"the training part has {n_minority} {unit} of label "
                f"{minority_label}: too few to choose a cut-off on out-of-fold "
                "predictions (needs 2); use fewer outer folds or a fixed cut-off."
            )
    if param_grid:
        # The inner search of GridSearchCV(scoring="roc_auc", refit=True), with the
        # steps no candidate changes fitted once per fold, and the out-of-fold
        # predictions of every candidate kept.
        tuning_folds = min(inner_splits, n_minority)
        if tuning_folds < 2:
            raise ValueError(
                f"the training part has {n_minority} {unit} of label "
                f"{minority_label}: too few for an inner tuning split (needs 2); "
                "use fewer outer folds or tuning=False (--no-tuning)."
            )
        folds = list(
            inner_cv(tuning_folds, g_train, random_state).split(
                X_train, y_train, g_train
            )
        )
        search = grid_search(estimator, param_grid, X_train, y_train, folds)
        best_params = search.best_params
        unfitted = clone(estimator).set_params(**clone(best_params, safe=False))
        model = clone(unfitted).fit(
            X_train, y_train, **_group_fit_params(unfitted, g_train)
        )
        if cutoff_folds == tuning_folds:
            # The cut-off's folds are the tuning folds (same k, groups and seed):
            # the selected candidate's out-of-fold predictions are exactly what a
            # refit on those folds would give.
            tuned_oof = search.oof_scores[search.best_index]
    else:
        model = clone(estimator).fit(
            X_train, y_train, **_group_fit_params(estimator, g_train)
        )
        unfitted = clone(estimator)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    own_oof = getattr(final, "oof_scores_", None)
    if tuned_oof is None and own_oof is not None and len(own_oof) == train.size:
        # A model that cross-validates inside its own fit (the "auto" ensemble)
        # keeps its out-of-fold predictions of the training part: the cut-off
        # is chosen on them instead of refitting the model threshold_cv times.
        tuned_oof = np.asarray(own_oof, dtype=float)
    if cutoff is None:
        threshold = None
    elif isinstance(cutoff, str):
        # The cut-off is chosen on out-of-fold predictions of the training part:
        # never on the test part, and not on resubstitution predictions (which are
        # over-confident for flexible models).
        if tuned_oof is not None:
            oof = tuned_oof
        else:
            oof = _oof_scores(
                unfitted,
                X_train,
                y_train,
                inner_cv(cutoff_folds, g_train, random_state),
                g_train,
            )
        threshold = choose_threshold(y_train.to_numpy(), oof, cutoff, min_sensitivity)
    else:
        threshold = float(cutoff)
    scores = positive_scores(model, X_test)
    selected = selected_features(model, list(X.columns))
    out = {
        "n_train": int(train.size),
        "n_test": int(test.size),
        "threshold": threshold,
        "metrics": binary_metrics(y_test.to_numpy(), scores, threshold),
        "test": test,
        "scores": scores,
        "selected": selected,
        "best_params": best_params,
        "ensemble": _ensemble_weights(final),
        "importance": None,
        "model": model if keep_model else None,
        "tuning_folds": tuning_folds,
        "cutoff_folds": cutoff_folds,
        "smote_k_neighbors": _smote_k(model),
    }
    if importance:
        out["importance"] = permutation_importance(
            model,
            X_test,
            y_test,
            positive_scores,
            features=selected,
            random_state=random_state,
        )
    return out


def _ensemble_weights(model) -> dict[str, float] | None:
    """Members and weights of a fitted ensemble (``members_``, ``weights_``)."""
    members = getattr(model, "members_", None)
    weights = getattr(model, "weights_", None)
    if members is None or weights is None:
        return None
    return {str(m): float(w) for m, w in zip(members, weights, strict=True)}


def _smote_k(model) -> int | None:
    """``k_neighbors`` a fitted SMOTE step used (it shrinks on small folds)."""
    for _, step in getattr(model, "steps", []):
        k = getattr(step, "k_neighbors_", None)
        if k is not None:
            return int(k)
    return None


def _run_split(where: str, *args, **kwargs) -> dict:
    """:func:`_fit_split` with the model and split named in a failure's message.

    A split runs with one BLAS/OpenMP thread: its work is many small fits, for
    which threads cost more than they give, and splits are what runs in parallel.
    """
    main_pid = kwargs.pop("main_pid", None)
    if main_pid is not None:
        watch_parent(main_pid)  # a worker ends with the process that started it
    try:
        with threadpool_limits(limits=1):
            return _fit_split(*args, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


@dataclass
class EvaluationResult:
    """Everything one evaluation produced.

    Attributes
    ----------
    name : str
        The preset name or the estimator's class name.
    preset : str or None
    scheme : dict
        The validation scheme's description (kind, sizes, seeds, split source).
    settings : dict
        Cut-off rule, CI settings, seeds, versions.
    data : dict
        Number of cases, features, positives and the SHA-256 of the data.
    split_metrics : DataFrame
        One row per split: ``n_train``, ``n_test``, ``threshold``, every metric,
        ``best_params`` (when tuned), ``ensemble`` (for an ensemble such as the
        ``auto`` preset: its members and their weights, a dict), and
        ``tuning_folds``, ``cutoff_folds``, ``smote_k_neighbors`` (the inner folds
        and SMOTE neighbours used, which shrink on small training parts).
    predictions : DataFrame
        One row per tested case and split: ``split``, ``case_id``, ``y_true``,
        ``y_score``, ``threshold``.
    summary : DataFrame
        One row per metric: ``mean``, ``std``, ``ci_low``, ``ci_high``,
        ``ci_method``, ``pooled`` (metric of all test predictions together),
        ``n_splits`` (splits where the metric is defined).
    selection_frequency : Series or None
        Fraction of splits in which each feature was selected.
    permutation_importance : DataFrame or None
        ``mean`` and ``std`` over splits of the drop in test AUC per feature.
    models : list or None
        The fitted models, one per split, if ``keep_models=True``.
    baselines : dict of str to EvaluationResult
        The baseline models fitted and scored on the very same splits:
        ``"tumour volume"`` (:class:`radsarc.model.VolumeBaseline`) and, when
        covariates were given, ``"clinical"``
        (:class:`radsarc.model.ClinicalBaseline`). Empty when turned off.
    comparisons : DataFrame
        One row per baseline (index: its name): ``model_auc``,
        ``baseline_auc``, ``delta_auc`` (model minus baseline), ``ci_low``,
        ``ci_high``, ``p_value``, ``ci_method``, ``n_splits``, ``verdict``
        (``"beats"``, ``"does not beat"`` or ``"is worse than"``) and
        ``sentence`` (see :func:`compare_to_baseline`).
    """

    name: str
    preset: str | None
    scheme: dict
    settings: dict
    data: dict
    split_metrics: pd.DataFrame
    predictions: pd.DataFrame
    summary: pd.DataFrame
    selection_frequency: pd.Series | None = None
    permutation_importance: pd.DataFrame | None = None
    models: list | None = field(default=None, repr=False)
    baselines: dict = field(default_factory=dict, repr=False)
    comparisons: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=COMPARISON_COLUMNS), repr=False
    )

    @property
    def mean_auc(self) -> float:
        """Mean test AUC over the splits."""
        return float(self.summary.loc["auc", "mean"])

    @property
    def n_train(self) -> float:
        return float(self.split_metrics["n_train"].mean())

    @property
    def n_test(self) -> float:
        return float(self.split_metrics["n_test"].mean())

    def to_frame(self) -> pd.DataFrame:
        """The summary as a long table (one row per metric), for ``results.csv``.

        With baselines, the ``auc`` row also carries, per baseline ``b``
        (``volume`` or ``clinical``), ``delta_auc_vs_<b>``, its CI and the
        ``verdict_vs_<b>`` sentence.
        """
        table = self.summary.reset_index().rename(columns={"index": "metric"})
        table.insert(0, "model", self.name)
        for name, row in self.comparisons.iterrows():
            key = BASELINE_KEYS.get(name, str(name).replace(" ", "_"))
            is_auc = table["metric"] == "auc"
            for column, value in (
                (f"delta_auc_vs_{key}", row["delta_auc"]),
                (f"delta_ci_low_vs_{key}", row["ci_low"]),
                (f"delta_ci_high_vs_{key}", row["ci_high"]),
                (f"verdict_vs_{key}", row["sentence"]),
            ):
                table[column] = np.where(is_auc, value, None)
        return table


def _resolve_estimator(estimator):
    if isinstance(estimator, str):
        from radsarc.presets import get_preset, make_preset

        preset = get_preset(estimator)
        return make_preset(estimator), estimator, dict(preset.param_grid)
    if not hasattr(estimator, "fit") or not (
        hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")
    ):
        raise TypeError(
            "estimator must be a preset name or an estimator with fit and "
            f"predict_proba (or decision_function); got {type(estimator).__name__}."
        )
    return estimator, None, None


def _resolve_scheme(cv, random_state):
    if isinstance(cv, str):
        if cv == "repeated":
            return RepeatedCV(random_state=random_state)
        if cv == "nested":
            return NestedCV(random_state=random_state)
        raise ValueError(
            "cv must be 'repeated', 'nested', a RepeatedCV, NestedCV, FixedSplits or "
            f"ExternalValidation, or a list of (train_ids, test_ids); got {cv!r}."
        )
    if isinstance(cv, RepeatedCV | FixedSplits | ExternalValidation):
        return cv
    if isinstance(cv, list | tuple):
        return FixedSplits(cv)
    raise TypeError(
        "cv must be 'repeated', 'nested', a RepeatedCV, NestedCV, FixedSplits or "
        "ExternalValidation, or a list of (train_ids, test_ids); got "
        f"{type(cv).__name__}."
    )


def _check_data(X, y) -> tuple[pd.DataFrame, pd.Series]:
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D; got shape {X.shape}.")
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValueError(
            f"X has non-numeric columns {non_numeric[:10]}; encode or drop them first."
        )
    if isinstance(y, pd.Series):
        if not y.index.equals(X.index):
            if set(y.index) != set(X.index) or not y.index.is_unique:
                raise ValueError(
                    "y's index does not match X's index (case ids); align them first."
                )
            y = y.loc[X.index]
    else:
        y = pd.Series(np.asarray(y), index=X.index)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
    if y.isna().any():
        raise ValueError(
            f"y has {int(y.isna().sum())} missing labels; drop those cases first."
        )
    labels = sorted(pd.unique(y).tolist())
    if labels != [0, 1]:
        raise ValueError(
            f"y must hold both labels 0 and 1 and no other; got {labels!r}."
        )
    # A deep copy holds the values in one block per dtype: selecting the rows of
    # a split is then one take instead of one per column (frames built column by
    # column have a block per column, ~100x slower to index).
    return X.copy(), y.astype(int)


def _summarise(split_metrics, predictions, scheme, settings) -> pd.DataFrame:
    names = [m for m in METRICS if m in split_metrics.columns]
    thr = (
        predictions["threshold"].to_numpy() if settings["cutoff"] is not None else None
    )
    pooled = binary_metrics(
        predictions["y_true"].to_numpy(), predictions["y_score"].to_numpy(), thr
    )
    resampling = scheme["scheme"] in ("repeated", "nested", "splits")
    n_splits = len(split_metrics)
    cis = None
    if not resampling or n_splits < 2:
        # One test set (or disjoint centres): bootstrap the pooled test predictions.
        cis = bootstrap_ci(
            predictions["y_true"].to_numpy(),
            predictions["y_score"].to_numpy(),
            thr,
            n_bootstraps=settings["n_bootstraps"],
            confidence_level=settings["confidence_level"],
            random_state=settings["random_state"],
        )
    rows = {}
    for m in names:
        values = split_metrics[m].to_numpy(dtype=float)
        defined = values[~np.isnan(values)]
        mean = float(defined.mean()) if defined.size else float("nan")
        std = float(defined.std(ddof=1)) if defined.size > 1 else float("nan")
        if cis is not None:
            low, high = cis[m]
            method = "bootstrap"
        elif defined.size >= 2:
            _, low, high = corrected_resampled_ci(
                defined,
                split_metrics["n_train"].mean(),
                split_metrics["n_test"].mean(),
                settings["confidence_level"],
            )
            # Every metric lies in [0, 1]; the symmetric t-interval is clipped to it.
            low, high = max(low, 0.0), min(high, 1.0)
            method = "Nadeau-Bengio"
        else:
            low = high = float("nan")
            method = "undefined"
        rows[m] = {
            "mean": mean,
            "std": std,
            "ci_low": low,
            "ci_high": high,
            "ci_method": method,
            "pooled": pooled[m],
            "n_splits": int(defined.size),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


_BASELINE_LABELS = {
    "tumour volume": "tumour volume",
    "clinical": "the clinical-only model",
}


def _number(value: float, signed: bool = False) -> str:
    text = f"{value:+.2f}" if signed else f"{value:.2f}"
    return text.replace("-", "\u2212")


def compare_to_baseline(
    result: EvaluationResult,
    baseline: EvaluationResult,
    *,
    name: str = "tumour volume",
    confidence_level: float = 0.95,
) -> dict:
    """AUC of a model minus that of a baseline evaluated on the same splits.

    Several resampled splits (repeated or nested CV, fixed splits): the mean of
    the per-split differences with the Nadeau-Bengio corrected resampled t
    interval, as for the model's own AUC (the splits share cases, so the naive
    interval is too narrow). One test set, or held-out centres: DeLong's paired
    test on the pooled test predictions (the same cases for both models).

    The verdict reads ``"beats"`` when the whole interval is above 0,
    ``"is worse than"`` when it is below 0, and ``"does not beat"`` when it
    contains 0: the data do not show that the model adds anything over the
    baseline (it may be as good, a little better or a little worse).

    Parameters
    ----------
    result, baseline : EvaluationResult
        Evaluated on the same splits and cases.
    name : str, default="tumour volume"
        The baseline's name in the sentence.
    confidence_level : float, default=0.95

    Returns
    -------
    row : dict
        ``baseline_column``, ``model_auc``, ``baseline_auc``, ``delta_auc``,
        ``ci_low``, ``ci_high``, ``p_value``, ``ci_method``, ``n_splits``,
        ``verdict``, ``sentence``, e.g. "xu2020 does not beat tumour volume:
        ΔAUC −0.08 (−0.19 to 0.03)".
    """
    a_pred, b_pred = result.predictions, baseline.predictions
    same = a_pred[["split", "case_id"]].astype(str).to_numpy()
    if not np.array_equal(same, b_pred[["split", "case_id"]].astype(str).to_numpy()):
        raise ValueError(
            f"{result.name} and {baseline.name} were not evaluated on the same "
            "splits and cases; a paired comparison needs both."
        )
    a = result.split_metrics["auc"].to_numpy(dtype=float)
    b = baseline.split_metrics["auc"].to_numpy(dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    resampling = result.scheme.get("scheme") in ("repeated", "nested", "splits")
    delta = low = high = p = float("nan")
    method = "undefined"
    if resampling and both.sum() >= 2:
        res = corrected_resampled_ttest(
            a[both],
            b[both],
            result.split_metrics["n_train"].mean(),
            result.split_metrics["n_test"].mean(),
            confidence_level,
        )
        delta, low, high, p = res.mean_difference, res.ci_low, res.ci_high, res.p_value
        method = "Nadeau-Bengio"
    elif not resampling or len(a) == 1:
        y_true = a_pred["y_true"].to_numpy()
        if np.unique(y_true).size == 2:
            res = delong_test(y_true, a_pred["y_score"], b_pred["y_score"])
            half = float(norm.ppf(0.5 + confidence_level / 2)) * res.standard_error
            delta, low, high, p = (
                res.difference,
                res.difference - half,
                res.difference + half,
                res.p_value,
            )
            method = "DeLong (pooled test predictions)"
    if np.isnan(low):
        verdict = "cannot be compared with"
    elif low > 0:
        verdict = "beats"
    elif high < 0:
        verdict = "is worse than"
    else:
        verdict = "does not beat"
    label = _BASELINE_LABELS.get(name, name)
    if np.isnan(low):
        sentence = (
            f"{result.name} cannot be compared with {label}: the AUC difference is "
            "undefined on these splits"
        )
    else:
        sentence = (
            f"{result.name} {verdict} {label}: \u0394AUC {_number(delta, True)} "
            f"({_number(low)} to {_number(high)})"
        )
    return {
        "baseline_column": baseline.settings.get("baseline_column"),
        "model_auc": float(np.nanmean(a)) if (~np.isnan(a)).any() else np.nan,
        "baseline_auc": float(np.nanmean(b)) if (~np.isnan(b)).any() else np.nan,
        "delta_auc": float(delta),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": float(p),
        "ci_method": method,
        "n_splits": int(both.sum()),
        "verdict": verdict,
        "sentence": sentence,
    }


def _minority(y: np.ndarray, groups) -> tuple[int, int]:
    """Label and size (in patients when grouped) of the smallest class."""
    labels, counts = class_sizes(y, groups)
    i = int(np.argmin(counts))
    return int(labels[i]), int(counts[i])


def _run_splits(
    estimator,
    X: pd.DataFrame,
    y: pd.Series,
    splits,
    *,
    name: str,
    groups,
    grid,
    inner_splits: int,
    cutoff,
    min_sensitivity: float,
    threshold_cv: int,
    importance: bool,
    random_state: int,
    keep_models: bool,
    n_jobs,
    progress,
) -> list[dict]:
    jobs = (
        delayed(_run_split)(
            f"{name}, split {i}",
            estimator,
            X,
            y,
            train,
            test,
            groups=groups,
            param_grid=grid,
            inner_splits=inner_splits,
            cutoff=cutoff,
            min_sensitivity=min_sensitivity,
            threshold_cv=threshold_cv,
            importance=importance,
            random_state=random_state + i,
            keep_model=keep_models,
            main_pid=os.getpid(),
        )
        for i, (train, test) in enumerate(splits)
    )
    outputs = []
    with progress_bar(
        progress, total=len(splits), desc=f"evaluate {name}", unit="split"
    ) as bar:
        for out in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            outputs.append(out)
            bar.update()
    return outputs


def _assemble(
    outputs: list[dict],
    X: pd.DataFrame,
    y: pd.Series,
    *,
    name: str,
    preset: str | None,
    scheme,
    settings: dict,
    importance: bool,
    keep_models: bool,
) -> EvaluationResult:
    rows, preds = [], []
    for i, out in enumerate(outputs):
        row = {
            "split": i,
            "n_train": out["n_train"],
            "n_test": out["n_test"],
            "threshold": out["threshold"],
            **out["metrics"],
            "best_params": out["best_params"],
            "ensemble": out["ensemble"],
        }
        for key in ("tuning_folds", "cutoff_folds", "smote_k_neighbors"):
            if out.get(key) is not None:
                row[key] = out[key]
        rows.append(row)
        preds.append(
            pd.DataFrame(
                {
                    "split": i,
                    "case_id": X.index[out["test"]],
                    "y_true": y.iloc[out["test"]].to_numpy(),
                    "y_score": out["scores"],
                    "threshold": np.nan
                    if out["threshold"] is None
                    else out["threshold"],
                }
            )
        )
    split_metrics = pd.DataFrame(rows).set_index("split")
    if not settings["param_grid"]:
        split_metrics = split_metrics.drop(columns="best_params")
    if split_metrics["ensemble"].isna().all():
        split_metrics = split_metrics.drop(columns="ensemble")
    predictions = pd.concat(preds, ignore_index=True)
    description = scheme.describe()
    summary = _summarise(split_metrics, predictions, description, settings)
    freq = selection_frequency([o["selected"] for o in outputs], list(X.columns))
    imp = None
    if importance:
        table = pd.concat([o["importance"] for o in outputs], axis=1)
        imp = pd.DataFrame({"mean": table.mean(axis=1), "std": table.std(axis=1)})
        imp = imp.sort_values("mean", ascending=False, kind="mergesort")
    data = {
        "n_cases": int(len(X)),
        "n_features": int(X.shape[1]),
        "n_positive": int(y.sum()),
        "sha256": data_hash(X, y),
    }
    return EvaluationResult(
        name=name,
        preset=preset,
        scheme=description,
        settings=settings,
        data=data,
        split_metrics=split_metrics,
        predictions=predictions,
        summary=summary,
        selection_frequency=freq,
        permutation_importance=imp,
        models=[o["model"] for o in outputs] if keep_models else None,
    )


def _check_clinical(clinical, X: pd.DataFrame) -> pd.DataFrame | None:
    if clinical is None:
        return None
    if not isinstance(clinical, pd.DataFrame):
        raise TypeError(
            "clinical must be a DataFrame of covariates indexed by case id; got "
            f"{type(clinical).__name__}."
        )
    if clinical.shape[1] == 0:
        raise ValueError("clinical has no covariate columns.")
    if not clinical.index.equals(X.index):
        missing = X.index.difference(clinical.index)
        if len(missing) or not clinical.index.is_unique:
            raise ValueError(
                f"clinical has no row for cases {list(missing[:5])}; its index "
                "must hold X's case ids."
            )
        clinical = clinical.loc[X.index]
    return clinical.copy()


_INPUTS = {
    "features": "a case-level feature table (one row per case)",
    "delta": "a table of delta-radiomic features (one row per patient, from "
    "radsarc.features.delta_features)",
    "voxels": "a voxel table (one row per voxel, from "
    "radsarc.features.voxel_features), evaluated leave one patient out with "
    "radsarc.evaluation.leave_one_patient_out",
}


def _check_preset_input(preset: str | None, input: str) -> None:
    """A preset runs only on the kind of table it was built for."""
    if input not in ("features", "delta"):
        raise ValueError(
            f"input must be 'features' or 'delta'; got {input!r}. A voxel table is "
            "evaluated leave one patient out with "
            "radsarc.evaluation.leave_one_patient_out."
        )
    if preset is None:
        return
    from radsarc.presets import get_preset, list_presets

    kind = get_preset(preset).input
    if kind != input:
        raise ValueError(
            f"Preset {preset!r} takes {_INPUTS[kind]} (Preset.input={kind!r}), but X "
            f"is {_INPUTS[input]} (input={input!r}); presets for it: "
            f"{', '.join(list_presets(input))}."
            + (
                " For a delta-radiomic table pass input='delta'."
                if kind == "delta"
                else ""
            )
        )


def evaluate(
    estimator,
    X,
    y,
    *,
    cv="repeated",
    groups=None,
    param_grid: dict | None = None,
    tuning: bool = True,
    baseline: bool | str | pd.Series = True,
    clinical: pd.DataFrame | None = None,
    cutoff: str | float | None = "youden",
    min_sensitivity: float = 0.9,
    threshold_cv: int = 3,
    n_bootstraps: int = 1000,
    confidence_level: float = 0.95,
    importance: bool = False,
    random_state: int = 0,
    n_jobs: int | None = None,
    keep_models: bool = False,
    name: str | None = None,
    progress: bool | None = False,
    input: str = "features",
) -> EvaluationResult:
    """Evaluate an estimator (or a preset) under a validation scheme, leak-free.

    For every split, everything that learns from data (imputation, scaling,
    harmonisation, feature selection, resampling, hyper-parameter tuning and
    the cut-off) is fitted on the training part only; the test part is used
    once, to score the fitted model. On the very same splits, a tumour-volume
    model (and, given covariates, a clinical-only model) is fitted and scored,
    and the model's AUC is compared with it.

    Parameters
    ----------
    estimator : str or estimator
        A preset name (see :func:`radsarc.presets.list_presets`) or an unfitted
        estimator/pipeline with ``predict_proba`` (or ``decision_function``).
        A preset whose ``input`` is not ``input`` (e.g. a delta or voxel
        preset on a case-level table) is refused before any work.
    X : DataFrame of shape (n_cases, n_features)
        Numeric features indexed by case id.
    y : Series or array-like of shape (n_cases,)
        Labels 0/1 (1 = the positive class, e.g. malignant).
    cv : {"repeated", "nested"}, scheme or list of (train_ids, test_ids), \
default="repeated"
        ``"repeated"`` is :class:`RepeatedCV` (10 x 5-fold); ``"nested"`` is
        :class:`NestedCV` (5-fold outside, 3-fold grid search inside; the
        ``auto`` ensemble has no grid and cross-validates its library inside its
        own fit instead, which the result's scheme description says); a list of
        id pairs is :class:`FixedSplits`; or an :class:`ExternalValidation`.
        Repeated and nested CV refuse more folds than the smallest class has
        cases (patients when grouped).
    groups : array-like of shape (n_cases,), default=None
        Patient id per row when a patient has several lesions; every split,
        inner split and cut-off split keeps a patient's lesions together (a
        model whose ``fit`` takes ``groups``, such as the ``auto`` ensemble,
        gets the training part's ids for its own inner folds).
    param_grid : dict, default=None
        The grid to tune; default the scheme's grid (nested CV), then the
        preset's grid.
    tuning : bool, default=True
        Tune the grid by an inner stratified k-fold (``inner_splits`` of the
        nested scheme, else 3) inside every training part, in every scheme.
        False fits the estimator as given (no inner search).
    baseline : bool or str, default=True
        True: fit :class:`radsarc.model.VolumeBaseline` on the column
        :func:`radsarc.model.volume_column` finds (the log of the shape
        MeshVolume, else VoxelVolume, of the first sequence and region); when X
        has no such column the result has no volume baseline and
        ``settings["baseline"]`` says why. A str names the column (an error if
        it is missing). A Series (indexed by case id, e.g. a size measured
        outside the feature table) is used as the baseline's one feature and is
        not added to X. False: no volume baseline.
    clinical : DataFrame, default=None
        Clinical covariates (e.g. age, sex) indexed by case id: a
        :class:`radsarc.model.ClinicalBaseline` (one-hot for categorical
        columns, imputation, logistic regression) is fitted on them on the same
        splits. They are not added to X.
    cutoff : {"youden", "specificity"}, float or None, default="youden"
        How the cut-off is chosen on each training part (see
        :func:`choose_threshold`); a float fixes it; None reports only the
        cut-off-free metrics (AUC, Brier).
    min_sensitivity : float, default=0.9
        For ``cutoff="specificity"``: the highest-specificity cut-off whose
        training sensitivity is at least this.
    threshold_cv : int, default=3
        Folds of the training part whose out-of-fold predictions choose the
        cut-off; fewer when the training part's smallest class has fewer cases
        (recorded per split as ``cutoff_folds``). When tuning with as many inner
        folds, these are the tuning folds and the tuned candidate's out-of-fold
        predictions are reused (no refit). A model that keeps out-of-fold
        predictions of its training data itself (``oof_scores_``, as the
        ``auto`` preset) supplies them instead.
    n_bootstraps : int, default=1000
        Bootstrap replicates for a single test set (external validation).
    confidence_level : float, default=0.95
    importance : bool, default=False
        Compute permutation importance on each test part (slow).
    random_state : int, default=0
        Seed of the split shuffling, inner folds, bootstrap and permutations.
    n_jobs : int, default=None
        Splits run in parallel with joblib; each split uses one BLAS thread.
    keep_models : bool, default=False
        Keep the fitted model of every split in the result.
    name : str, default=None
        Name in the report; default the preset name or the estimator's class.
    progress : bool or None, default=False
        Show a progress bar (tqdm, on stderr) counting finished splits; None
        shows it only when stderr is a terminal (what the CLI does).
    input : {"features", "delta"}, default="features"
        What a row of X is: a case's radiomic features, or a patient's
        delta-radiomic features. A preset built for another kind of row
        (:attr:`radsarc.presets.Preset.input`) is refused; voxel tables are
        evaluated with :func:`leave_one_patient_out`.

    Returns
    -------
    result : EvaluationResult
        With ``baselines`` and ``comparisons`` (ΔAUC to each baseline, its CI
        and a verdict).

    Notes
    -----
    The cut-off is chosen on out-of-fold predictions of the training part (a
    ``threshold_cv``-fold split of it), not on the model's predictions of its
    own training data, which are over-confident. With tuning, the out-of-fold
    predictions use the tuned hyper-parameters.

    Tuning selects what ``GridSearchCV(scoring="roc_auc")`` would, but fits the
    leading pipeline steps that no grid key names once per inner fold for all
    candidates (see ``docs/speed.md``).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    >>> res = evaluate(LogisticRegression(), X, y, cv=RepeatedCV(n_repeats=2))
    >>> res.summary.loc["auc", "ci_method"], len(res.split_metrics)
    ('Nadeau-Bengio', 10)
    """
    X, y = _check_data(X, y)
    check_progress(progress)
    estimator, preset, preset_grid = _resolve_estimator(estimator)
    _check_preset_input(preset, input)
    scheme = _resolve_scheme(cv, random_state)
    if not (isinstance(cutoff, str | float | int) or cutoff is None) or isinstance(
        cutoff, bool
    ):
        raise TypeError(
            f"cutoff must be one of {CUTOFFS}, a float or None; got {cutoff!r}."
        )
    if isinstance(cutoff, str) and cutoff not in CUTOFFS:
        raise ValueError(
            f"cutoff must be one of {CUTOFFS}, a float or None; got {cutoff!r}."
        )
    if isinstance(threshold_cv, bool) or not isinstance(threshold_cv, int | np.integer):
        raise TypeError(f"threshold_cv must be an int >= 2; got {threshold_cv!r}.")
    if threshold_cv < 2:
        raise ValueError(f"threshold_cv must be an int >= 2; got {threshold_cv!r}.")
    if groups is not None and len(groups) != len(X):
        raise ValueError(f"groups has {len(groups)} values but X has {len(X)} rows.")
    if not isinstance(baseline, bool | str | pd.Series):
        raise TypeError(
            "baseline must be True, False, a column name or a Series; got "
            f"{type(baseline).__name__}."
        )
    clinical = _check_clinical(clinical, X)
    # The volume column is found (or refused) before any work.
    volume = None
    volume_data = None
    baseline_note = "off"
    if isinstance(baseline, pd.Series):
        volume = str(baseline.name or "baseline")
        missing = X.index.difference(baseline.index)
        if len(missing) or not baseline.index.is_unique:
            raise ValueError(
                f"The baseline Series {volume!r} has no value for cases "
                f"{list(missing[:5])}; its index must hold X's case ids."
            )
        values = pd.to_numeric(baseline.loc[X.index], errors="coerce")
        if values.isna().all():
            raise ValueError(f"The baseline Series {volume!r} has no numeric value.")
        volume_data = values.to_frame(volume)
        baseline_note = f"tumour volume: {volume!r} (given as a Series)"
    elif isinstance(baseline, str):
        volume = volume_column(X.columns, baseline)
        baseline_note = f"tumour volume: column {volume!r} (given)"
    elif baseline:
        try:
            volume = volume_column(X.columns)
            baseline_note = f"tumour volume: column {volume!r}"
        except ValueError as exc:
            baseline_note = f"no volume baseline: {exc}"
            logger.info("No volume baseline: %s", exc)
    grid = None
    # A preset without a grid, and the auto ensemble however it is given,
    # tune inside their own fit.
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    self_tuning = isinstance(final, AutoEnsemble)
    if tuning:
        grid = param_grid
        if grid is None:
            grid = getattr(scheme, "param_grid", None) or preset_grid
        if not grid and scheme.tunes and preset_grid is None and not self_tuning:
            raise ValueError(
                "Nested cross-validation needs a param_grid (none given and the "
                "estimator is not a preset with a grid); or pass tuning=False."
            )
        grid = grid or None
    inner_splits = getattr(scheme, "inner_splits", 3)
    splits = scheme.split(X, y, groups)
    name = name or preset or type(estimator).__name__
    description = scheme.describe()
    if self_tuning and not grid and description["scheme"] == "nested":
        # No grid search inside: the ensemble cross-validates its library.
        description = _auto_nested_description(scheme, final)
    logger.info(
        "Evaluating %s: %d splits (%s)", name, len(splits), description["description"]
    )
    common = {
        "groups": groups,
        "inner_splits": inner_splits,
        "cutoff": cutoff,
        "min_sensitivity": min_sensitivity,
        "threshold_cv": threshold_cv,
        "random_state": random_state,
        "n_jobs": n_jobs,
    }
    outputs = _run_splits(
        estimator,
        X,
        y,
        splits,
        name=name,
        grid=grid,
        importance=importance,
        keep_models=keep_models,
        progress=progress,
        **common,
    )
    settings = {
        "cutoff": cutoff,
        "min_sensitivity": min_sensitivity if cutoff == "specificity" else None,
        "cutoff_data": f"out-of-fold predictions of a stratified {threshold_cv}-fold "
        "split of each training part (fewer folds when its smallest class has "
        "fewer cases)"
        if isinstance(cutoff, str)
        else "fixed",
        "threshold_cv": threshold_cv if isinstance(cutoff, str) else None,
        "tuning": bool(grid),
        "param_grid": grid,
        "inner_splits": inner_splits if grid else None,
        "n_bootstraps": n_bootstraps,
        "confidence_level": confidence_level,
        "random_state": random_state,
        "group_aware": groups is not None,
        "baseline": baseline_note,
        "estimator": repr(estimator),
        "versions": environment(),
    }
    result = _assemble(
        outputs,
        X,
        y,
        name=name,
        preset=preset,
        scheme=scheme,
        settings=settings,
        importance=importance,
        keep_models=keep_models,
    )
    result.scheme = description
    models = []
    if volume is not None:
        data = X[[volume]] if volume_data is None else volume_data
        # Log or not is a property of the column (a raw volume is never
        # negative; a z-scored one is), decided once so that every split's
        # model is the same kind; no label is used.
        raw = bool((data[volume].dropna() >= 0).all())
        models.append(("tumour volume", VolumeBaseline(column=volume, log=raw), data))
    if clinical is not None:
        models.append(("clinical", ClinicalBaseline(), clinical))
    comparisons = {}
    for label, model, data in models:
        # Same splits, same seeds, same cut-off rule; nothing to tune.
        base_settings = {
            **settings,
            "tuning": False,
            "param_grid": None,
            "inner_splits": None,
            "baseline": None,
            "baseline_column": volume if label == "tumour volume" else None,
            "estimator": repr(model),
        }
        if label == "clinical":
            base_settings["covariates"] = list(map(str, data.columns))
        try:
            outs = _run_splits(
                model,
                data,
                y,
                splits,
                name=f"{name} baseline {label}",
                grid=None,
                importance=False,
                keep_models=False,
                progress=False,
                **common,
            )
        except ValueError as exc:
            # A baseline that cannot be fitted never costs the model's result.
            note = f"{label} baseline failed: {exc}"
            logger.warning("%s", note)
            result.settings["baseline"] = f"{result.settings['baseline']}; {note}"
            continue
        base = _assemble(
            outs,
            data,
            y,
            name=label,
            preset=None,
            scheme=scheme,
            settings=base_settings,
            importance=False,
            keep_models=False,
        )
        result.baselines[label] = base
        comparisons[label] = compare_to_baseline(
            result, base, name=label, confidence_level=confidence_level
        )
    if comparisons:
        result.comparisons = pd.DataFrame.from_dict(
            comparisons, orient="index", columns=COMPARISON_COLUMNS
        )
    return result
