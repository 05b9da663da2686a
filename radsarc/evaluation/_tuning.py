"""Inner grid search that keeps what its candidates share and their predictions.

:func:`grid_search` selects the same hyper-parameters as
``GridSearchCV(estimator, param_grid, scoring="roc_auc", cv=folds, refit=False)``
(same candidate order, same fold scores, same tie rule), with two savings:

* the leading steps of a pipeline that no grid key touches (imputer,
  constant-column filter, scaler, and any selector whose settings are not
  tuned) are fitted once per inner fold and shared by every candidate, instead
  of once per candidate and fold;
* the out-of-fold predictions of every candidate are kept, so that the cut-off
  can be chosen on those of the selected candidate without refitting it on the
  same folds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring, roc_auc_score
from sklearn.model_selection import ParameterGrid
from sklearn.utils import _safe_indexing

from radsarc.evaluation._metrics import positive_scores

__all__ = ["GridSearchResult", "grid_search", "shared_prefix_length"]

logger = logging.getLogger(__name__)


@dataclass
class GridSearchResult:
    """What :func:`grid_search` found.

    Attributes
    ----------
    best_params : dict
        The candidate with the highest mean inner-fold AUC (the first on ties).
    best_index : int
        Its position in ``ParameterGrid(param_grid)``.
    mean_scores : ndarray of shape (n_candidates,)
        Mean inner-fold AUC of every candidate.
    fold_scores : ndarray of shape (n_candidates, n_folds)
    oof_scores : ndarray of shape (n_candidates, n_samples)
        Out-of-fold positive-class score of every candidate for every training
        case (``predict_proba`` if the model has it, else ``decision_function``).
    n_shared_steps : int
        Leading pipeline steps fitted once per fold for all candidates.
    """

    best_params: dict
    best_index: int
    mean_scores: np.ndarray
    fold_scores: np.ndarray
    oof_scores: np.ndarray
    n_shared_steps: int


def shared_prefix_length(estimator, candidates: list[dict]) -> int:
    """Number of leading pipeline steps that every candidate leaves unchanged.

    The prefix stops at the first step named by a grid key and at the first
    resampler (it changes the rows a later step is fitted on, so it must run
    inside the candidate's own fit). A grid key that is not ``<step>`` or
    ``<step>__<parameter>`` (a parameter of the pipeline itself) disables the
    sharing. Estimators that are not pipelines share nothing.
    """
    steps = getattr(estimator, "steps", None)
    if not steps:
        return 0
    names = [name for name, _ in steps]
    tuned = {key.split("__", 1)[0] for params in candidates for key in params}
    if not tuned <= set(names):
        return 0
    length = 0
    # The last step (the classifier) is always fitted per candidate.
    for name, step in steps[:-1]:
        if name in tuned or hasattr(step, "fit_resample"):
            break
        length += 1
    return length


def grid_search(
    estimator,
    param_grid,
    X,
    y,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    on_fold=None,
) -> GridSearchResult:
    """Score every candidate of ``param_grid`` on ``folds`` by AUC.

    Parameters
    ----------
    estimator : estimator or pipeline
        Unfitted; each candidate is ``clone(estimator).set_params(**params)``.
    param_grid : dict or list of dict
        As for :class:`sklearn.model_selection.GridSearchCV`.
    X : DataFrame or array of shape (n_samples, n_features)
    y : Series or array of shape (n_samples,)
        Labels 0/1.
    folds : list of (train, test) index arrays
        The inner split; every sample should be in exactly one test fold for
        ``oof_scores`` to be complete (rows never tested stay NaN).
    on_fold : callable or None, default=None
        Called with no argument after each fold (e.g. a progress bar's update).

    Returns
    -------
    result : GridSearchResult
    """
    candidates = list(ParameterGrid(param_grid))
    n_shared = shared_prefix_length(estimator, candidates)
    if n_shared:
        prefix, suffix = estimator[:n_shared], estimator[n_shared:]
    else:
        prefix, suffix = None, estimator
    y_arr = np.asarray(y)
    fold_scores = np.empty((len(candidates), len(folds)))
    oof = np.full((len(candidates), y_arr.shape[0]), np.nan)
    scorer = None
    for j, (train, test) in enumerate(folds):
        X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
        y_train, y_test = _safe_indexing(y, train), _safe_indexing(y, test)
        if prefix is not None:
            fitted_prefix = clone(prefix)
            X_train = fitted_prefix.fit_transform(X_train, y_train)
            X_test = fitted_prefix.transform(X_test)
        for i, params in enumerate(candidates):
            model = clone(suffix).set_params(**clone(params, safe=False))
            model.fit(X_train, y_train)
            oof[i, test] = positive_scores(model, X_test)
            if hasattr(model, "decision_function"):
                # The roc_auc scorer prefers decision_function; for a model with
                # both, score what GridSearchCV scores (ties may differ).
                if scorer is None:
                    scorer = check_scoring(model, scoring="roc_auc")
                fold_scores[i, j] = scorer(model, X_test, y_test)
            else:
                # What the scorer computes, without predicting twice.
                fold_scores[i, j] = roc_auc_score(y_test, oof[i, test])
        if on_fold is not None:
            on_fold()
    means = np.average(fold_scores, axis=1)
    # GridSearchCV's rule: rank by mean score (NaN last), first candidate on ties.
    if np.isnan(means).all():
        best = 0
    else:
        best = int(np.argmax(np.nan_to_num(means, nan=np.nanmin(means) - 1)))
    logger.debug(
        "grid search: %d candidates x %d folds, %d shared steps, best %s",
        len(candidates),
        len(folds),
        n_shared,
        candidates[best],
    )
    return GridSearchResult(
        best_params=candidates[best],
        best_index=best,
        mean_scores=means,
        fold_scores=fold_scores,
        oof_scores=oof,
        n_shared_steps=n_shared,
    )
