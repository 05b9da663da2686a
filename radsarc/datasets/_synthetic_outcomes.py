"""Synthetic time-to-metastasis outcomes for a synthetic sarcoma cohort.

The hazard depends on what was drawn into the images (grade, volume, necrosis,
recorded in ``truth.csv`` by :func:`make_synthetic_cohort`) and on age, so a
radiomics model can find the signal and a clinical covariate adds to it. See
``docs/survival.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from radsarc.images import Cohort

__all__ = ["make_synthetic_survival"]


def _z(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    return (values - values.mean()) / (sd if sd > 0 else 1.0)


def make_synthetic_survival(
    cohort: Cohort,
    *,
    random_state: int = 0,
    effect_size: float = 1.0,
    median_time: float = 36.0,
    follow_up: float = 60.0,
    return_truth: bool = False,
) -> pd.DataFrame:
    """Draw a time to metastasis for every case of a synthetic cohort.

    The linear predictor (log hazard ratio) of case ``i`` is::

        lp = effect_size * (0.8 * grade + 0.6 * z(log volume) + 0.6 * z(necrosis))
             + 0.3 * (age - 55) / 10

    with ``grade`` the case's label (1 = high grade), ``z`` a standardisation
    over the cohort, volume and necrosis fraction read from the cohort's
    ``truth.csv``. Times are exponential with hazard
    ``log(2) / median_time * exp(lp)``; censoring is the earlier of a uniform
    loss to follow-up on (6, 2 x ``follow_up``) months and the end of follow-up
    at ``follow_up`` months.

    Parameters
    ----------
    cohort : Cohort
        Made by :func:`make_synthetic_cohort` (read from its ``manifest.csv``, so
        that ``truth.csv`` is found beside it).
    random_state : int, default=0
        Seed.
    effect_size : float, default=1.0
        Scales the imaging part of the hazard; 0 leaves only age.
    median_time : float, default=36.0
        Median time to metastasis (months) at ``lp = 0``.
    follow_up : float, default=60.0
        End of follow-up (months).
    return_truth : bool, default=False
        Add the column ``linear_predictor`` (the truth; never a model input).

    Returns
    -------
    outcomes : DataFrame
        Indexed by case id: ``time`` (months, float) and ``event`` (bool,
        metastasis observed).

    Raises
    ------
    FileNotFoundError
        If the cohort's ``truth.csv`` is missing.

    Examples
    --------
    >>> from radsarc.datasets import make_synthetic_cohort, make_synthetic_survival
    >>> cohort = make_synthetic_cohort(40, "cohort")  # doctest: +SKIP
    >>> outcomes = make_synthetic_survival(cohort)  # doctest: +SKIP
    """
    if not 0.0 <= effect_size <= 1.0:
        raise ValueError(f"effect_size must be in [0, 1]; got {effect_size!r}.")
    if median_time <= 0 or follow_up <= 0:
        raise ValueError(
            "median_time and follow_up must be positive; got "
            f"{median_time!r} and {follow_up!r}."
        )
    truth_path = Path(cohort.source).parent / "truth.csv"
    if not cohort.source or not truth_path.is_file():
        raise FileNotFoundError(
            f"No truth.csv beside the manifest of cohort {cohort.source!r}; "
            "make_synthetic_survival needs a cohort from make_synthetic_cohort."
        )
    truth = pd.read_csv(truth_path, dtype={"case_id": str}).set_index("case_id")
    clinical = cohort.clinical()
    truth = truth.loc[clinical.index]
    grade = clinical["label"].astype(float)
    lp = (
        effect_size
        * (
            0.8 * grade
            + 0.6 * _z(np.log(truth["volume_ml"].clip(lower=1e-3)))
            + 0.6 * _z(truth["necrosis_fraction"])
        )
        + 0.3 * (clinical["age"].astype(float) - 55.0) / 10.0
    )
    rng = np.random.default_rng(random_state)
    n = len(lp)
    hazard = np.log(2.0) / median_time * np.exp(lp.to_numpy())
    event_time = rng.exponential(1.0 / hazard)
    censor_time = np.minimum(rng.uniform(6.0, 2.0 * follow_up, n), follow_up)
    out = pd.DataFrame(
        {
            "time": np.round(np.minimum(event_time, censor_time), 2).clip(0.01),
            "event": event_time <= censor_time,
        },
        index=clinical.index,
    )
    if return_truth:
        out["linear_predictor"] = lp.to_numpy()
    return out
