"""Which features a fitted pipeline kept, how often, and how much they matter."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from radsarc.evaluation._metrics import auc_score

__all__ = ["permutation_importance", "selected_features", "selection_frequency"]

logger = logging.getLogger(__name__)


def _steps(model) -> list:
    model = getattr(model, "best_estimator_", model)  # a fitted GridSearchCV
    if hasattr(model, "steps"):
        return [step for _, step in model.steps[:-1]]
    return []


def selected_features(model, feature_names: Sequence[str]) -> list[str] | None:
    """Names of the input features that reach the final estimator of a pipeline.

    Walks the fitted pipeline's steps (a fitted search object is unwrapped to its
    ``best_estimator_``): a step with ``get_support()`` (a selector) keeps the
    supported names; a resampler or a step whose ``get_feature_names_out`` returns
    the same names changes nothing. The walk stops at the first step that builds
    new features (e.g. PCA), since input names no longer apply after it. An
    embedded L1 model at the end (LASSO logistic regression, ``penalty="l1"`` or
    ``l1_ratio > 0``) keeps only the features with a non-zero coefficient.

    Returns
    -------
    names : list of str or None
        None when no step selects features.
    """
    names = np.asarray(feature_names, dtype=object)
    selected = False
    complete = True
    for step in _steps(model):
        if step is None or step == "passthrough":
            continue
        if hasattr(step, "get_support"):
            names = names[step.get_support()]
            selected = True
        elif hasattr(step, "fit_resample"):
            continue
        elif hasattr(step, "get_feature_names_out"):
            try:
                out = np.asarray(step.get_feature_names_out(names), dtype=object)
            except (ValueError, TypeError, AttributeError) as exc:
                logger.debug("Step %s: get_feature_names_out failed: %s", step, exc)
                complete = False
                break
            if out.shape != names.shape or np.any(out != names):
                logger.debug("Step %s builds new features; selection walk stops.", step)
                complete = False
                break
        else:
            complete = False
            break
    if complete:
        # An embedded L1 model (LASSO logistic regression) selects by itself:
        # the features it uses are those with a non-zero coefficient.
        kept = _l1_support(_final(model), names.size)
        if kept is not None:
            names = names[kept]
            selected = True
    return [str(n) for n in names] if selected else None


def _final(model):
    model = getattr(model, "best_estimator_", model)
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _l1_support(estimator, n_features: int) -> np.ndarray | None:
    """Non-zero coefficients of an L1-penalised linear model, else None."""
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        return None
    l1 = getattr(estimator, "penalty", None) == "l1" or (
        getattr(estimator, "l1_ratio", None) is not None
        and not isinstance(getattr(estimator, "l1_ratio", None), str)
        and float(estimator.l1_ratio) > 0
    )
    coef = np.atleast_2d(np.asarray(coef))
    if not l1 or coef.shape[1] != n_features:
        return None
    return np.any(coef != 0, axis=0)


def selection_frequency(
    selections: Iterable[Sequence[str] | None], feature_names: Sequence[str]
) -> pd.Series | None:
    """Fraction of splits in which each feature was selected, highest first.

    Returns None when no split had a selecting step.
    """
    selections = [s for s in selections if s is not None]
    if not selections:
        return None
    counts = pd.Series(
        0, index=pd.Index(list(feature_names), name="feature"), dtype=float
    )
    for chosen in selections:
        counts.loc[list(chosen)] += 1
    freq = counts / len(selections)
    freq.name = "selection_frequency"
    return freq[freq > 0].sort_values(ascending=False, kind="mergesort")


def permutation_importance(
    model,
    X: pd.DataFrame,
    y,
    score_fn,
    *,
    features: Sequence[str] | None = None,
    n_repeats: int = 5,
    random_state=None,
) -> pd.Series:
    """Mean drop in AUC when one feature's column is shuffled (on held-out data).

    Only ``features`` are permuted (default: all columns); a feature that a
    pipeline's selector dropped cannot change the prediction and has importance 0
    without being permuted.

    Parameters
    ----------
    model : fitted estimator
    X : DataFrame
        Held-out cases (never the data the model was fitted on).
    y : array-like
        Their 0/1 labels.
    score_fn : callable
        ``score_fn(model, X) -> positive-class scores``.

    References
    ----------
    Breiman L. Random forests. Machine Learning 2001;45:5-32.
    """
    rng = check_random_state(random_state)
    y = np.asarray(y).astype(int)
    base = auc_score(y, score_fn(model, X))
    features = list(X.columns) if features is None else list(features)
    out = pd.Series(0.0, index=pd.Index(list(X.columns), name="feature"))
    for name in features:
        drops = []
        for _ in range(n_repeats):
            Xp = X.copy()
            Xp[name] = rng.permutation(Xp[name].to_numpy())
            drops.append(base - auc_score(y, score_fn(model, Xp)))
        out[name] = float(np.mean(drops))
    out.name = "permutation_importance"
    return out
