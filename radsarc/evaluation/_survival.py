"""Survival evaluation: concordance, time-dependent AUC, Kaplan-Meier, log-rank.

:func:`evaluate_survival` runs repeated stratified cross-validation of a
survival model (e.g. :func:`radsarc.model.make_cox_pipeline`): the model and
the cut-off splitting high from low risk are fitted on the training part of
each split only. See ``docs/survival.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import chi2, norm
from sklearn.base import clone
from sklearn.model_selection import RepeatedStratifiedKFold
from sksurv.metrics import cumulative_dynamic_auc
from sksurv.util import check_array_survival

from radsarc._parallel import watched
from radsarc.evaluation._corrected_ttest import corrected_resampled_ci

__all__ = [
    "LogRankResult",
    "SurvivalEvaluationResult",
    "concordance_index",
    "evaluate_survival",
    "kaplan_meier",
    "logrank_test",
]

logger = logging.getLogger(__name__)


def _check_survival(time, event) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event)
    if event.dtype != bool:
        if not np.isin(event, (0, 1)).all():
            raise ValueError("event must be boolean or 0/1.")
        event = event.astype(bool)
    if time.ndim != 1 or time.shape != event.shape:
        raise ValueError(
            f"time and event must be 1-d of the same length; got {time.shape} and "
            f"{event.shape}."
        )
    if not np.isfinite(time).all() or (time < 0).any():
        raise ValueError("time must be finite and non-negative.")
    return time, event


def concordance_index(time, event, risk) -> float:
    """Harrell's concordance index of a risk score.

    A pair of cases is comparable when the one with the shorter time had the
    event (``time_i < time_j`` and ``event_i``), or when an event and a
    censoring share a time (the censored case is known to have outlived the
    event); it is concordant when the case with the event has the higher risk.
    Tied risks count one half. Pairs of events at the same time are not
    comparable (as in :func:`sksurv.metrics.concordance_index_censored`).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Time to event or censoring.
    event : array-like of bool of shape (n_samples,)
        True when the event was observed.
    risk : array-like of shape (n_samples,)
        Higher = earlier event expected.

    Returns
    -------
    c_index : float
        In [0, 1]; 0.5 is chance.

    Raises
    ------
    ValueError
        When no pair is comparable.

    References
    ----------
    Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of
    medical tests. JAMA. 1982;247(18):2543-2546.

    Examples
    --------
    >>> concordance_index([1, 2, 3], [True, True, False], [3.0, 2.0, 1.0])
    1.0
    """
    time, event = _check_survival(time, event)
    risk = np.asarray(risk, dtype=float)
    if risk.shape != time.shape:
        raise ValueError(f"risk has shape {risk.shape}; expected {time.shape}.")
    shorter = event[:, None] & (
        (time[:, None] < time[None, :])
        | ((time[:, None] == time[None, :]) & ~event[None, :])
    )
    n_pairs = int(shorter.sum())
    if n_pairs == 0:
        raise ValueError("No comparable pair: the concordance index is undefined.")
    diff = risk[:, None] - risk[None, :]
    concordant = np.sum(shorter & (diff > 0)) + 0.5 * np.sum(shorter & (diff == 0))
    return float(concordant / n_pairs)


def kaplan_meier(time, event, confidence_level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival function with Greenwood's CI.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
    event : array-like of bool of shape (n_samples,)
    confidence_level : float, default=0.95
        Of the pointwise log(-log) interval.

    Returns
    -------
    table : DataFrame
        One row per distinct observed time: ``time``, ``n_at_risk``,
        ``n_events``, ``n_censored``, ``survival``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 3], [True, True, False, True])["survival"].tolist()
    [0.75, 0.5, 0.0]
    """
    time, event = _check_survival(time, event)
    times = np.unique(time)
    at_risk = np.array([(time >= t).sum() for t in times])
    events = np.array([(event & (time == t)).sum() for t in times])
    censored = np.array([(~event & (time == t)).sum() for t in times])
    surv = np.cumprod(1.0 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(
            at_risk > events, events / (at_risk * (at_risk - events)), np.inf
        )
        greenwood = np.cumsum(terms)
        # log(-log) transform keeps the interval inside (0, 1).
        se = np.sqrt(greenwood) / np.abs(np.log(surv))
        z = norm.ppf(0.5 + confidence_level / 2)
        low = surv ** np.exp(z * se)
        high = surv ** np.exp(-z * se)
    defined = (surv > 0) & (surv < 1) & np.isfinite(se)
    low = np.where(defined, low, np.where(surv >= 1, 1.0, 0.0))
    high = np.where(defined, high, np.where(surv >= 1, 1.0, 0.0))
    return pd.DataFrame(
        {
            "time": times,
            "n_at_risk": at_risk,
            "n_events": events,
            "n_censored": censored,
            "survival": surv,
            "ci_low": low,
            "ci_high": high,
        }
    )


@dataclass(frozen=True)
class LogRankResult:
    """The log-rank test of equal survival in several groups."""

    statistic: float
    df: int
    p_value: float


def logrank_test(time, event, groups) -> LogRankResult:
    """Log-rank test that the groups have the same survival function.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
    event : array-like of bool of shape (n_samples,)
    groups : array-like of shape (n_samples,)
        Group of each case (two or more groups).

    Returns
    -------
    result : LogRankResult
        Chi-squared statistic with ``n_groups - 1`` degrees of freedom.
    """
    time, event = _check_survival(time, event)
    groups = np.asarray(groups)
    labels = np.unique(groups)
    if labels.size < 2:
        raise ValueError(f"logrank_test needs two or more groups; got {labels}.")
    observed = np.zeros(labels.size)
    expected = np.zeros(labels.size)
    cov = np.zeros((labels.size, labels.size))
    for t in np.unique(time[event]):
        at_risk = np.array([((time >= t) & (groups == g)).sum() for g in labels])
        deaths = np.array([((time == t) & event & (groups == g)).sum() for g in labels])
        n, d = at_risk.sum(), deaths.sum()
        observed += deaths
        expected += d * at_risk / n
        if n > 1:
            frac = at_risk / n
            cov += d * (n - d) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    diff = (observed - expected)[:-1]
    stat = float(diff @ np.linalg.pinv(cov[:-1, :-1]) @ diff)
    dof = labels.size - 1
    return LogRankResult(statistic=stat, df=dof, p_value=float(chi2.sf(stat, dof)))


@dataclass
class SurvivalEvaluationResult:
    """What :func:`evaluate_survival` produced.

    Attributes
    ----------
    name : str
    times : ndarray
        Times (same unit as the data) of the time-dependent AUCs.
    split_metrics : DataFrame
        One row per split: ``repeat``, ``n_train``, ``n_test``, ``cutoff``,
        ``c_index``, ``auc_<t>`` per time and ``mean_td_auc``.
    summary : DataFrame
        One row per metric: ``mean``, ``ci_low``, ``ci_high`` (Nadeau-Bengio
        corrected resampled t interval), ``n_splits``.
    predictions : DataFrame
        One row per tested case and repeat: ``repeat``, ``case_id``, ``time``,
        ``event``, ``risk``, ``cutoff``, ``risk_group`` (``"high"``/``"low"``).
    logrank : DataFrame
        Per repeat, the log-rank test of the out-of-fold risk groups.
    """

    name: str
    times: np.ndarray
    split_metrics: pd.DataFrame
    summary: pd.DataFrame
    predictions: pd.DataFrame
    logrank: pd.DataFrame = field(repr=False)

    def kaplan_meier(self, repeat: int = 0) -> dict[str, pd.DataFrame]:
        """Kaplan-Meier tables of the out-of-fold risk groups of one repeat."""
        part = self.predictions[self.predictions["repeat"] == repeat]
        return {
            group: kaplan_meier(rows["time"], rows["event"])
            for group, rows in part.groupby("risk_group")
        }


def _time_label(t: float) -> str:
    return f"auc_{t:g}"


def _split(estimator, X, y, train, test, times, quantile):
    event, time = check_array_survival(X, y)
    model = clone(estimator).fit(X.iloc[train], y[train])
    risk_train = np.asarray(model.predict(X.iloc[train]), dtype=float)
    risk = np.asarray(model.predict(X.iloc[test]), dtype=float)
    cutoff = float(np.quantile(risk_train, quantile))
    row = {
        "n_train": train.size,
        "n_test": test.size,
        "cutoff": cutoff,
        "c_index": concordance_index(time[test], event[test], risk)
        if (event[test].any() and np.ptp(time[test]) > 0)
        else np.nan,
    }
    aucs = []
    for t in times:
        cases = event[test] & (time[test] <= t)
        controls = time[test] > t
        defined = (
            cases.any()
            and controls.any()
            and t < time[train].max()
            and t >= time[test].min()
        )
        if defined:
            auc = float(cumulative_dynamic_auc(y[train], y[test], risk, [t])[0][0])
        else:
            auc = np.nan
        row[_time_label(t)] = auc
        aucs.append(auc)
    row["mean_td_auc"] = float(np.nanmean(aucs)) if np.isfinite(aucs).any() else np.nan
    return row, test, risk, cutoff


def evaluate_survival(
    estimator,
    X: pd.DataFrame,
    y,
    *,
    n_splits: int = 5,
    n_repeats: int = 5,
    times=None,
    cutoff_quantile: float = 0.5,
    confidence_level: float = 0.95,
    random_state: int = 0,
    n_jobs: int | None = None,
    name: str | None = None,
) -> SurvivalEvaluationResult:
    """Repeated stratified cross-validation of a survival model.

    In every split the model is fitted on the training part; its risk scores of
    the training part set the cut-off (their ``cutoff_quantile``, the median by
    default) that labels the test cases high or low risk. Each repeat tests
    every case once, so its out-of-fold risk groups give Kaplan-Meier curves and
    a log-rank test that never saw the cut-off's data.

    Parameters
    ----------
    estimator : survival estimator
        Unfitted; ``predict`` returns a risk score (higher = earlier event),
        e.g. :func:`radsarc.model.make_cox_pipeline`.
    X : DataFrame of shape (n_cases, n_features)
        Indexed by case id.
    y : structured array of shape (n_cases,)
        Event (bool) and time, e.g. ``sksurv.util.Surv.from_arrays``.
    n_splits, n_repeats : int, default=5, 5
        Folds (stratified on the event) and repeats.
    times : array-like or None, default=None
        Times of the time-dependent AUC; default the 25th, 50th and 75th
        percentiles of the observed event times (a property of the outcome
        data only, not of any model).
    cutoff_quantile : float, default=0.5
        Quantile of the training risk scores that splits high from low risk.
    confidence_level : float, default=0.95
    random_state : int, default=0
        Seed of the splits.
    n_jobs : int, default=None
        Splits run in parallel with joblib.
    name : str, default=None
        Name in tables; default the estimator's class (last step).

    Returns
    -------
    result : SurvivalEvaluationResult

    Notes
    -----
    The time-dependent AUC is the cumulative/dynamic AUC with inverse
    probability of censoring weights (Uno et al. 2007), from
    :func:`sksurv.metrics.cumulative_dynamic_auc`, with the censoring
    distribution estimated on the training part. It is NaN for a split where
    no test case had the event by ``t`` or none was still event-free, or ``t``
    is outside the split's follow-up. ``mean_td_auc`` is the plain mean of the
    defined AUCs of a split.
    """
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
    event, time = check_array_survival(X, y)
    if not 0.0 < cutoff_quantile < 1.0:
        raise ValueError(f"cutoff_quantile must be in (0, 1); got {cutoff_quantile!r}.")
    if times is None:
        times = np.percentile(time[event], [25, 50, 75])
    times = np.unique(np.asarray(times, dtype=float))
    if int(event.sum()) < n_splits:
        raise ValueError(
            f"{int(event.sum())} events are too few for {n_splits} stratified folds."
        )
    cv = RepeatedStratifiedKFold(
        n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
    )
    splits = list(cv.split(X, event))
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(watched(_split))(estimator, X, y, train, test, times, cutoff_quantile)
        for train, test in splits
    )
    rows, preds = [], []
    for i, (row, test, risk, cutoff) in enumerate(outputs):
        repeat = i // n_splits
        rows.append({"repeat": repeat, **row})
        preds.append(
            pd.DataFrame(
                {
                    "repeat": repeat,
                    "case_id": X.index[test],
                    "time": time[test],
                    "event": event[test],
                    "risk": risk,
                    "cutoff": cutoff,
                    "risk_group": np.where(risk > cutoff, "high", "low"),
                }
            )
        )
    split_metrics = pd.DataFrame(rows)
    predictions = pd.concat(preds, ignore_index=True)
    n_train = float(split_metrics["n_train"].mean())
    n_test = float(split_metrics["n_test"].mean())
    summary_rows = {}
    for metric in ["c_index", *(_time_label(t) for t in times), "mean_td_auc"]:
        values = split_metrics[metric].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size >= 2:
            mean, low, high = corrected_resampled_ci(
                finite, n_train, n_test, confidence_level
            )
        else:
            mean = float(finite.mean()) if finite.size else np.nan
            low = high = np.nan
        summary_rows[metric] = {
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "n_splits": int(finite.size),
        }
    logrank_rows = []
    for repeat, part in predictions.groupby("repeat"):
        if part["risk_group"].nunique() == 2:
            test = logrank_test(part["time"], part["event"], part["risk_group"])
            logrank_rows.append(
                {"repeat": repeat, "statistic": test.statistic, "p_value": test.p_value}
            )
    est = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    result = SurvivalEvaluationResult(
        name=name or type(est).__name__,
        times=times,
        split_metrics=split_metrics,
        summary=pd.DataFrame(summary_rows).T,
        predictions=predictions,
        logrank=pd.DataFrame(logrank_rows),
    )
    logger.info(
        "%s: c-index %.3f over %d splits",
        result.name,
        summary_rows["c_index"]["mean"],
        len(splits),
    )
    return result
