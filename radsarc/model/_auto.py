"""``auto``: an ensemble across the literature's pipelines, built inside ``fit``.

:class:`AutoEnsemble` scores a library of candidate pipelines (every tabular
preset with its grid, and low-dimensional models such as tumour volume alone) by
an inner stratified cross-validation of the training data it is given, builds a
weighted ensemble from their out-of-fold predictions by greedy forward selection
with replacement (Caruana et al., 2004), and refits the members on all of that
training data. Everything happens inside ``fit``: in an outer evaluation the test
part is only ever passed to ``predict_proba``.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import joblib
import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    ParameterGrid,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)
from sklearn.preprocessing import FunctionTransformer, LabelEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from radsarc._parallel import watched
from radsarc.feature_selection import MRMRSelector, VarianceThreshold
from radsarc.model._baselines import VolumeBaseline, volume_column

__all__ = ["AutoEnsemble", "LIBRARY", "ensemble_selection"]

logger = logging.getLogger(__name__)

#: The candidate families of the default library, beside the tabular presets.
LIBRARY = ("volume", "shape", "kbest_lr", "l1_lr", "enet_lr", "mrmr_rf")

_SHAPE = re.compile(r"(^|_)shape(2D)?_", re.IGNORECASE)


def _signed_log(X):
    """``sign(x) * log(1 + |x|)``: sizes become log-sizes, small ratios unchanged."""
    X = np.asarray(X, dtype=np.float64)
    return np.sign(X) * np.log1p(np.abs(X))


def _low_dim_lr(C: float) -> Pipeline:
    return Pipeline(
        [
            ("imputer", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("log", FunctionTransformer(_signed_log)),
            ("scaler", StandardScaler()),
            ("classifier", LogisticRegression(C=C, max_iter=1000)),
        ]
    )


def _prefix() -> Pipeline:
    """The preprocessing every preset starts with, fitted once per fold for all."""
    return Pipeline(
        [
            ("imputer", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("variance", VarianceThreshold()),
            ("scaler", StandardScaler()),
        ]
    )


@dataclass(frozen=True)
class _Candidate:
    """One model of the library.

    ``columns`` None: fitted on the shared preprocessed table; "all": on the raw
    features (the estimator preprocesses them itself); a tuple: on those raw
    columns only.
    """

    name: str
    family: str
    estimator: Any
    columns: Any = None


def _is_prefix(steps) -> bool:
    if len(steps) < 3 or [n for n, _ in steps[:3]] != ["imputer", "variance", "scaler"]:
        return False
    imputer, variance, scaler = (s for _, s in steps[:3])
    return (
        type(imputer) is SimpleImputer
        and imputer.strategy == "median"
        and type(variance) is VarianceThreshold
        and variance.threshold == 0
        and type(scaler) is StandardScaler
        and scaler.with_mean
        and scaler.with_std
    )


def _grid_label(params: dict) -> str:
    return ", ".join(
        f"{key.removeprefix('classifier__')}={value}" for key, value in params.items()
    )


def _preset_candidates(name: str) -> list[_Candidate]:
    # Imported here: the preset registry imports this module to register "auto".
    from radsarc.model._presets import get_preset

    preset = get_preset(name)
    steps = [
        (n, s) for n, s in preset.make().steps if not (s is None or s == "passthrough")
    ]
    if _is_prefix(steps):
        suffix, columns = Pipeline(steps[3:]), None
    else:
        suffix, columns = Pipeline(steps), "all"
    grid = list(ParameterGrid(preset.param_grid)) or [{}]
    out = []
    for params in grid:
        label = f"{name}[{_grid_label(params)}]" if len(grid) > 1 else name
        out.append(_Candidate(label, name, clone(suffix).set_params(**params), columns))
    return out


def _family_candidates(family: str, names: list[str], volume: str | None):
    if family == "volume":
        if volume is None:
            return []
        # Exactly the volume baseline of radsarc.evaluation.evaluate.
        column = (names.index(volume),)
        return [_Candidate("volume", family, VolumeBaseline(column=0), column)]
    if family == "shape":
        columns = tuple(i for i, n in enumerate(names) if _SHAPE.search(n))
        if not columns:
            return []
        return [_Candidate("shape", family, _low_dim_lr(0.1), columns)]
    if family == "kbest_lr":
        return [
            _Candidate(
                f"kbest_lr[k={k}]",
                family,
                Pipeline(
                    [
                        ("selector", SelectKBest(f_classif, k=k)),
                        ("classifier", LogisticRegression(C=1.0, max_iter=1000)),
                    ]
                ),
            )
            for k in (1, 3, 5, 10)
            if k <= len(names)
        ]
    if family == "l1_lr":
        return [
            _Candidate(
                f"l1_lr[C={C}]",
                family,
                LogisticRegression(
                    l1_ratio=1.0, solver="liblinear", C=C, max_iter=1000
                ),
            )
            for C in (0.05,)
        ]
    if family == "enet_lr":
        # saga on all ~1000 columns costs more than the rest of the library;
        # on the 100 best ANOVA features it is 10x cheaper, with the same
        # inner AUC on the WORC tables.
        return [
            _Candidate(
                f"enet_lr[C={C}]",
                family,
                Pipeline(
                    [
                        ("selector", SelectKBest(f_classif, k=min(100, len(names)))),
                        (
                            "classifier",
                            LogisticRegression(
                                l1_ratio=0.5, solver="saga", C=C, max_iter=1000
                            ),
                        ),
                    ]
                ),
            )
            for C in (0.1,)
        ]
    if family == "mrmr_rf":
        return [
            _Candidate(
                "mrmr_rf",
                family,
                Pipeline(
                    [
                        ("selector", MRMRSelector(n_features_to_select=10)),
                        (
                            "classifier",
                            RandomForestClassifier(
                                n_estimators=100, min_samples_leaf=3, n_jobs=1
                            ),
                        ),
                    ]
                ),
            )
        ]
    raise ValueError(f"Unknown candidate family {family!r}.")


def _auc_rows(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ROC AUC of every row of ``scores`` against the 0/1 labels ``y`` (ties 1/2)."""
    positive = y == 1
    n_pos = int(positive.sum())
    n_neg = y.size - n_pos
    ranks = rankdata(scores, axis=1)
    return (ranks[:, positive].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    var = (
        auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    ) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def ensemble_selection(
    predictions,
    y,
    *,
    ensemble_size: int = 5,
    n_init: int = 5,
    n_se: float | None = 1.0,
    n_bags: int = 1,
    bag_fraction: float = 0.5,
    random_state=None,
) -> np.ndarray:
    """Weights of greedy forward ensemble selection with replacement.

    Caruana et al. (2004), with the refinements of Caruana et al. (2006): the
    ensemble starts from the ``n_init`` best candidates (sorted
    initialisation), then adds, with replacement, the candidate that most
    improves the AUC of the averaged predictions, up to ``ensemble_size``
    picks, and keeps the prefix with the best AUC (the shortest on ties). With
    ``n_bags > 1`` this is repeated on random subsets of ``bag_fraction`` of
    the candidates and the weights averaged.

    The sorted initialisation takes only candidates whose AUC is within
    ``n_se`` standard errors (Hanley and McNeil) of the best one's, so that a
    candidate that clearly beats the others (say, tumour volume when nothing
    else carries signal) is not averaged with noise. With the defaults
    (``ensemble_size=n_init=5``, no bagging) the ensemble has 5 picks: when
    5 candidates are within a standard error of the best, it is their mean;
    when fewer are, the remaining picks are greedy additions with replacement
    (usually the best candidate again), the best prefix kept. On out-of-fold
    sets of 90-160 cases longer hill-climbing and the bagging fit noise; see
    ``docs/presets.md`` for the comparison on WORC's splits.

    Parameters
    ----------
    predictions : array-like of shape (n_candidates, n_samples)
        Out-of-fold positive-class probabilities of every candidate.
    y : array-like of shape (n_samples,)
        Labels 0/1.
    ensemble_size : int, default=5
    n_init : int, default=5
    n_se : float or None, default=1.0
        The start leaves out candidates more than this many standard errors
        below the best one's AUC; None: the ``n_init`` best, whatever their AUC.
    n_bags : int, default=1
        1: one selection over all candidates (no bagging).
    bag_fraction : float, default=0.5
    random_state : int, RandomState or None, default=None

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
        Non-negative, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> P = np.array([[.1, .2, .8, .9, .3, .7], [.5, .5, .5, .5, .5, .5]])
    >>> ensemble_selection(P, y, n_init=1, n_bags=1)
    array([1., 0.])
    """
    P = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(y)
    rng = check_random_state(random_state)
    n_candidates = P.shape[0]
    n_pos = int((y == 1).sum())
    single = _auc_rows(P, y)
    weights = np.zeros(n_candidates)
    for _ in range(n_bags):
        if n_bags == 1:
            pool = np.arange(n_candidates)
        else:
            size = max(1, round(bag_fraction * n_candidates))
            pool = np.sort(rng.choice(n_candidates, size=size, replace=False))
        pool = pool[np.argsort(-single[pool], kind="stable")]
        start = pool[: min(n_init, pool.size, ensemble_size)]
        if n_se is not None:
            top = single[start[0]]
            floor = top - n_se * _auc_standard_error(top, n_pos, y.size - n_pos)
            start = start[single[start] >= floor]
        picks = list(start)
        total = P[picks].sum(axis=0)
        best = _auc_rows((total / len(picks))[None, :], y)[0]
        best_length = len(picks)
        while len(picks) < ensemble_size:
            trial = _auc_rows((total[None, :] + P[pool]) / (len(picks) + 1), y)
            k = int(np.argmax(trial))
            picks.append(pool[k])
            total += P[pool[k]]
            if trial[k] > best + 1e-12:
                best, best_length = trial[k], len(picks)
        counts = np.bincount(np.asarray(picks[:best_length]), minlength=n_candidates)
        weights += counts / counts.sum()
    return weights / n_bags


def _positive(model, X) -> np.ndarray:
    return np.asarray(model.predict_proba(X))[:, list(model.classes_).index(1)]


def _fit_candidate(candidate: _Candidate, Z, X, y, cache: dict | None):
    """Fit one candidate (through the per-fold cache of shared steps).

    Returns the fitted model and a function giving its scores on a test part.
    """
    if candidate.columns is None:
        data = Z
    elif isinstance(candidate.columns, str):
        data = X
    else:
        data = X[:, list(candidate.columns)]
    model = clone(candidate.estimator)
    with warnings.catch_warnings():
        # A candidate's solver stopping early is judged by its inner AUC like
        # any other candidate; the warning would repeat for every fold.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _fit_through_cache(model, candidate, data, y, cache)


def _fit_through_cache(model, candidate, data, y, cache):
    if cache is None or candidate.columns is not None or not hasattr(model, "steps"):
        return model.fit(data, y), ()
    # Leading transformers with the same settings (e.g. a preset's selector
    # that its grid leaves alone) are fitted once per fold for all candidates.
    key: tuple = ()
    steps = model.steps
    k = 0
    chain = []
    while k < len(steps) - 1:
        step = steps[k][1]
        if step is None or step == "passthrough":
            k += 1
            continue
        if hasattr(step, "fit_resample"):
            break
        key = (*key, joblib.hash(step))
        if key not in cache:
            cache[key] = (clone(step).fit(data, y), None)
            cache[key] = (cache[key][0], cache[key][0].transform(data))
        fitted, data = cache[key]
        chain.append(fitted)
        k += 1
    rest = Pipeline(steps[k:]) if k else model
    return rest.fit(data, y), tuple(chain)


def _predict_candidate(candidate, fitted, chain, Z, X) -> np.ndarray:
    if candidate.columns is None:
        data = Z
    elif isinstance(candidate.columns, str):
        data = X
    else:
        data = X[:, list(candidate.columns)]
    for step in chain:
        data = step.transform(data)
    return _positive(fitted, data)


def _score_fold(candidates, X, y, train, test):
    """Out-of-fold scores of every candidate on one inner fold."""
    prefix = _prefix().fit(X[train], y[train])
    Z_train, Z_test = prefix.transform(X[train]), prefix.transform(X[test])
    cache: dict = {}
    scores = np.full((len(candidates), test.size), np.nan)
    seconds = np.zeros(len(candidates))
    errors: dict[str, str] = {}
    for i, candidate in enumerate(candidates):
        start = time.perf_counter()
        try:
            fitted, chain = _fit_candidate(
                candidate, Z_train, X[train], y[train], cache
            )
            scores[i] = _predict_candidate(candidate, fitted, chain, Z_test, X[test])
        except Exception as exc:  # one failing candidate must not stop the others
            errors[candidate.name] = f"{type(exc).__name__}: {exc}"
        seconds[i] = time.perf_counter() - start
    return scores, seconds, errors


def _refit(candidate, Z, X, y):
    fitted, chain = _fit_candidate(candidate, Z, X, y, None)
    return fitted, chain


def seeded_candidates(library, rng) -> list[_Candidate]:
    """Clones of the candidates with one seed each (drawn from ``rng``, a
    RandomState) for every step that has a ``random_state``."""
    seeded = []
    for candidate in library:
        estimator = clone(candidate.estimator)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        keys = [
            k
            for k in estimator.get_params()
            if k == "random_state" or k.endswith("__random_state")
        ]
        if keys:
            estimator.set_params(**dict.fromkeys(keys, seed))
        seeded.append(
            _Candidate(candidate.name, candidate.family, estimator, candidate.columns)
        )
    return seeded


class AutoEnsemble(ClassifierMixin, BaseEstimator):
    """An ensemble of the literature's pipelines, chosen by inner cross-validation.

    Inside ``fit`` (that is, inside each training part of an outer evaluation),
    a repeated stratified ``cv``-fold split of the training data (stratified
    group folds when ``fit`` gets ``groups``) scores a library of candidates by
    their out-of-fold probabilities:

    * every tabular preset (:func:`radsarc.presets.list_presets` ``("features")``)
      at every point of its ``param_grid``;
    * ``volume``: the volume baseline, :class:`VolumeBaseline` (logistic
      regression on the log of the tumour volume found by :func:`volume_column`;
      ``volume_column`` names another column);
    * ``shape``: L2 logistic regression (C=0.1) on the log of the shape features;
    * ``kbest_lr``: the k best features by ANOVA F with L2 logistic
      regression, k in 1, 3, 5, 10;
    * ``l1_lr`` / ``enet_lr``: strongly penalised L1 logistic regression
      (C=0.05) on all features, and elastic-net logistic regression
      (l1_ratio=0.5, C=0.1) on the 100 best features by ANOVA F;
    * ``mrmr_rf``: a random forest (100 trees) on 10 mRMR-selected features.

    Imputation, constant-column removal and scaling, with which every preset
    starts, are fitted once per inner fold and shared by the candidates, as are
    any later steps two candidates have in common. The ensemble is built from
    the out-of-fold predictions by :func:`ensemble_selection` (greedy forward
    selection with replacement from a sorted best-``n_init`` start; by default
    7 picks: the best candidates, at most 7, within one standard error of the
    best inner AUC, completed greedily; ``ensemble_selection``'s own default
    is 5) and its members are refitted on all the training data.

    Parameters
    ----------
    candidates : list of str or (str, estimator), default=None
        The library. None: every tabular preset and every family of
        :data:`LIBRARY`. A string names a preset or a family; a ``(name,
        estimator)`` pair adds an unfitted classifier of your own, fitted on
        the raw features (it must impute and scale itself).
    cv : int, default=5
        Folds of the inner stratified cross-validation.
    n_repeats : int, default=1
        Repeats of the inner cross-validation (each with other folds); the
        selection sees the out-of-fold predictions of all repeats.
    ensemble_size : int, default=7
        Picks of the greedy selection (with replacement); hill-climbing adds
        ``ensemble_size - n_init`` picks.
    n_init : int, default=7
        The selection starts from (at most) this many best candidates. 7
        rather than 5: on 50-patient WORC-Desmoid cohorts it gained 0.007 /
        0.010 (screening / confirmation draws), and on WORC's splits it
        changed the mean by -0.003 to +0.002 (``docs/presets.md``).
    n_se : float or None, default=1.0
        ... of which those more than ``n_se`` standard errors of the AUC below
        the best candidate's are left out (None: keep them).
    n_bags : int, default=1
        Bagged selection: the selection is run on this many random subsets
        (``bag_fraction``) of the library and the weights averaged; 1 runs one
        selection over the whole library.
    bag_fraction : float, default=0.5
    volume_column : str, default=None
        Column of the tumour volume for the ``volume`` candidate; None finds it
        by name with :func:`volume_column` (no such column: no volume
        candidate).
    n_jobs : int, default=None
        Inner folds scored in parallel with joblib (Dask through
        :func:`radsarc.parallel_backend`).
    random_state : int, RandomState or None, default=None
        Seed of the inner folds, of the candidates' own randomness and of the
        bagging.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    members_ : list of str
        The ensemble's candidates, by decreasing weight.
    weights_ : ndarray of shape (n_members,)
        Their weights (positive, summing to 1).
    estimators_ : list of estimators
        The members refitted on all the training data.
    candidate_scores_ : pandas.Series
        Inner out-of-fold AUC of every candidate, best first (failed ones left
        out).
    cv_results_ : pandas.DataFrame
        Per candidate: ``family``, ``auc`` (inner out-of-fold), ``weight``,
        ``seconds`` (fitting and scoring, summed over the inner folds) and
        ``error`` (the message when the candidate failed).
    oof_scores_ : ndarray of shape (n_samples,)
        The ensemble's inner out-of-fold probability of class 1 for every
        training row (averaged over repeats); used e.g. to choose a cut-off
        without refitting. Optimistic: the weights were chosen on them.
    ensemble_auc_ : float
        AUC of ``oof_scores_`` (optimistic for the same reason).
    volume_column_ : str or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` has string column names.

    See Also
    --------
    radsarc.presets.make_preset : ``make_preset("auto")`` builds this estimator.

    Notes
    -----
    Cost: about ``cv * n_repeats`` fits of the whole library (around 30
    candidates by default) plus one fit of each member; see ``docs/presets.md``
    for measured times.

    References
    ----------
    Caruana R, Niculescu-Mizil A, Crew G, Ksikes A. Ensemble selection from
    libraries of models. ICML 2004. doi:10.1145/1015330.1015432.
    Caruana R, Munson A, Niculescu-Mizil A. Getting the most out of ensemble
    selection. ICDM 2006. doi:10.1109/ICDM.2006.76.

    Examples
    --------
    >>> from radsarc.datasets import load_worc_table
    >>> from radsarc.model import AutoEnsemble
    >>> X, y = load_worc_table("Lipo")
    >>> model = AutoEnsemble(candidates=["volume", "kbest_lr"], random_state=0)
    >>> model = model.fit(X, y)
    >>> round(float(model.weights_.sum()), 6)
    1.0
    """

    _parameter_constraints: dict = {
        "candidates": [list, tuple, None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_se": [Interval(Real, 0, None, closed="left"), None],
        "n_bags": [Interval(Integral, 1, None, closed="left")],
        "bag_fraction": [Interval(Real, 0, 1, closed="right")],
        "volume_column": [str, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        candidates=None,
        cv=5,
        n_repeats=1,
        ensemble_size=7,
        n_init=7,
        n_se=1.0,
        n_bags=1,
        bag_fraction=0.5,
        volume_column=None,
        n_jobs=None,
        random_state=None,
    ):
        self.candidates = candidates
        self.cv = cv
        self.n_repeats = n_repeats
        self.ensemble_size = ensemble_size
        self.n_init = n_init
        self.n_se = n_se
        self.n_bags = n_bags
        self.bag_fraction = bag_fraction
        self.volume_column = volume_column
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- the library ------------------------------------------------------------
    def _library(self, names: list[str], rng) -> list[_Candidate]:
        from radsarc.model._presets import list_presets

        presets = [p for p in list_presets("features") if p != "auto"]
        requested = list(self.candidates) if self.candidates is not None else None
        if requested is None:
            requested = [*presets, *LIBRARY]
        if self.volume_column is not None:
            if self.volume_column not in names:
                raise ValueError(
                    f"volume_column {self.volume_column!r} is not a column of X; "
                    f"X has {len(names)} columns, e.g. {names[:5]}."
                )
            volume = self.volume_column
        else:
            try:
                volume = volume_column(names)
            except ValueError:
                volume = None
        self.volume_column_ = volume
        library: list[_Candidate] = []
        for item in requested:
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[0], str):
                    raise TypeError(
                        "A custom candidate must be a (name, estimator) pair; got "
                        f"{item!r}."
                    )
                library.append(_Candidate(item[0], "custom", item[1], "all"))
            elif item in presets:
                library.extend(_preset_candidates(item))
            elif item in LIBRARY:
                found = _family_candidates(item, names, volume)
                if not found:
                    logger.info("auto: no %s candidate (no such columns)", item)
                library.extend(found)
            else:
                raise ValueError(
                    f"Unknown candidate {item!r} in candidates; expected a tabular "
                    f"preset {presets}, a family {list(LIBRARY)} or a (name, "
                    "estimator) pair."
                )
        seen = [c.name for c in library]
        repeated = sorted({n for n in seen if seen.count(n) > 1})
        if repeated:
            raise ValueError(f"Candidate names must be unique; repeated: {repeated}.")
        if not library:
            raise ValueError("The candidate library is empty.")
        return seeded_candidates(library, rng)

    # -- fitting ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None):
        """Score the library by inner cross-validation, select, refit the members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (NaN allowed).
        y : array-like of shape (n_samples,)
            Binary labels.
        groups : array-like of shape (n_samples,), default=None
            Patient id per row when a patient has several lesions: the inner
            folds are then stratified group folds
            (:class:`~sklearn.model_selection.StratifiedGroupKFold`, one
            shuffle per repeat), which keep a patient's lesions together, so
            that the inner AUCs that choose the members are not optimistic.
            :func:`radsarc.evaluation.evaluate` passes its ``groups`` here.

        Returns
        -------
        self : AutoEnsemble
        """
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64
        )
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.size != 2:
            raise ValueError(
                "Only binary classification is supported by AutoEnsemble (it "
                f"ranks candidates by AUC); y has {self.classes_.size} class(es): "
                f"{self.classes_.tolist()[:10]}."
            )
        codes = encoder.transform(y)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.ndim != 1 or groups.shape[0] != codes.size:
                raise ValueError(
                    f"groups must hold one patient id per row of X; got shape "
                    f"{groups.shape} for {codes.size} rows."
                )
            counts = np.array([np.unique(groups[codes == c]).size for c in (0, 1)])
            unit = "patients"
        else:
            counts = np.bincount(codes)
            unit = "cases"
        if counts.min() < self.cv:
            raise ValueError(
                f"AutoEnsemble's inner {self.cv}-fold cross-validation needs at "
                f"least {self.cv} {unit} of each class; class "
                f"{self.classes_[int(np.argmin(counts))]!r} has {int(counts.min())}. "
                "Use a smaller cv."
            )
        rng = check_random_state(self.random_state)
        names = (
            [str(n) for n in self.feature_names_in_]
            if hasattr(self, "feature_names_in_")
            else [f"x{i}" for i in range(X.shape[1])]
        )
        library = self._library(names, rng)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if groups is None:
            splitter = RepeatedStratifiedKFold(
                n_splits=self.cv, n_repeats=self.n_repeats, random_state=seed
            )
            folds = list(splitter.split(X, codes))
        else:
            folds = [
                fold
                for r in range(self.n_repeats)
                for fold in StratifiedGroupKFold(
                    n_splits=self.cv, shuffle=True, random_state=seed + r
                ).split(X, codes, groups)
            ]
        outputs = Parallel(n_jobs=self.n_jobs)(
            delayed(watched(_score_fold))(library, X, codes, train, test)
            for train, test in folds
        )
        n = codes.size
        oof = np.full((self.n_repeats, len(library), n), np.nan)
        seconds = np.zeros(len(library))
        errors: dict[str, str] = {}
        for j, ((_, test), (scores, secs, errs)) in enumerate(
            zip(folds, outputs, strict=True)
        ):
            oof[j // self.cv][:, test] = scores
            seconds += secs
            for name, message in errs.items():
                errors.setdefault(name, message)
        ok = np.array(
            [
                c.name not in errors and not np.isnan(oof[:, i]).any()
                for i, c in enumerate(library)
            ]
        )
        for name, message in errors.items():
            logger.warning(
                "auto: candidate %s failed and is left out: %s", name, message
            )
        if not ok.any():
            first = next(iter(errors.items()))
            raise ValueError(
                f"Every candidate of the auto library failed; first: {first[0]}: "
                f"{first[1]}"
            )
        good = np.flatnonzero(ok)
        # Selection on the out-of-fold predictions of every repeat, side by side.
        P = np.concatenate([oof[r][good] for r in range(self.n_repeats)], axis=1)
        labels = np.tile(codes, self.n_repeats)
        aucs = _auc_rows(P, labels)
        weights_good = ensemble_selection(
            P,
            labels,
            ensemble_size=self.ensemble_size,
            n_init=self.n_init,
            n_se=self.n_se,
            n_bags=self.n_bags,
            bag_fraction=self.bag_fraction,
            random_state=rng,
        )
        weights = np.zeros(len(library))
        weights[good] = weights_good
        auc_all = np.full(len(library), np.nan)
        auc_all[good] = aucs
        self.cv_results_ = pd.DataFrame(
            {
                "family": [c.family for c in library],
                "auc": auc_all,
                "weight": weights,
                "seconds": seconds,
                "error": [errors.get(c.name) for c in library],
            },
            index=pd.Index([c.name for c in library], name="candidate"),
        )
        self.candidate_scores_ = (
            self.cv_results_["auc"].dropna().sort_values(ascending=False, kind="stable")
        )
        order = [i for i in np.argsort(-weights, kind="stable") if weights[i] > 0]
        self.members_ = [library[i].name for i in order]
        self.weights_ = weights[order] / weights[order].sum()
        ensemble_oof = np.einsum("m,rmn->rn", self.weights_, oof[:, order])
        self.oof_scores_ = ensemble_oof.mean(axis=0)
        self.ensemble_auc_ = float(_auc_rows(ensemble_oof, codes).mean())
        # The members, refitted on all the training data.
        self.preprocessor_ = _prefix().fit(X, codes)
        Z = self.preprocessor_.transform(X)
        self._member_candidates = [library[i] for i in order]
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(watched(_refit))(library[i], Z, X, codes) for i in order
        )
        self.estimators_ = [model for model, _ in fitted]
        logger.info(
            "auto: %d candidates, %d members (%s), inner ensemble AUC %.3f",
            len(library),
            len(self.members_),
            ", ".join(
                f"{m} {w:.2f}"
                for m, w in zip(self.members_, self.weights_, strict=True)
            ),
            self.ensemble_auc_,
        )
        return self

    def predict_proba(self, X):
        """Weighted mean of the members' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64
        )
        Z = self.preprocessor_.transform(X)
        positive = np.zeros(X.shape[0])
        for candidate, model, weight in zip(
            self._member_candidates, self.estimators_, self.weights_, strict=True
        ):
            positive += weight * _predict_candidate(candidate, model, (), Z, X)
        positive = np.clip(positive, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X):
        """Class with probability at least 0.5.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags
