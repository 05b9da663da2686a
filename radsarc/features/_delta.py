"""Delta-radiomics: the change of each feature between two timepoints.

A longitudinal cohort has one manifest row (one ``case_id``) per patient and
timepoint, with two covariate columns naming them, by default ``patient_id`` and
``timepoint`` (e.g. ``"pre"`` and ``"post"``). Extraction stays per row; this
module pairs the rows of each patient afterwards. See ``docs/response.md``.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

__all__ = ["delta_features"]

logger = logging.getLogger(__name__)

_KINDS = ("relative", "absolute")


def _timepoint_table(features, timepoints, patient_column, timepoint_column):
    """A DataFrame with the two key columns, aligned on the features' index."""
    if timepoints is None:
        missing = [
            c for c in (patient_column, timepoint_column) if c not in features.columns
        ]
        if missing:
            raise ValueError(
                f"features has no column(s) {missing}; give them as columns of "
                "features or pass timepoints= (e.g. cohort.clinical()), a table "
                f"indexed by case id with columns {patient_column!r} and "
                f"{timepoint_column!r}."
            )
        return features[[patient_column, timepoint_column]]
    if not isinstance(timepoints, pd.DataFrame):
        raise TypeError(
            "timepoints must be a DataFrame indexed by case id; got "
            f"{type(timepoints).__name__}."
        )
    missing = [
        c for c in (patient_column, timepoint_column) if c not in timepoints.columns
    ]
    if missing:
        raise ValueError(
            f"timepoints has no column(s) {missing}; its columns are "
            f"{list(timepoints.columns)}."
        )
    absent = features.index.difference(timepoints.index)
    if len(absent):
        raise ValueError(
            f"{len(absent)} case id(s) of features are not in timepoints, e.g. "
            f"{list(absent[:3])}."
        )
    return timepoints.loc[features.index, [patient_column, timepoint_column]]


def delta_features(
    features: pd.DataFrame,
    timepoints: pd.DataFrame | None = None,
    *,
    baseline: str = "pre",
    followup: str = "post",
    kind: str = "relative",
    patient_column: str = "patient_id",
    timepoint_column: str = "timepoint",
) -> pd.DataFrame:
    """Change of every feature from a baseline to a follow-up scan, per patient.

    Parameters
    ----------
    features : DataFrame of shape (n_rows, n_features)
        One row per patient and timepoint, indexed by case id, e.g. the
        ``features`` of :func:`extract_features`. Every column other than the
        two key columns must be numeric.
    timepoints : DataFrame or None, default=None
        Table indexed by case id holding ``patient_column`` and
        ``timepoint_column`` (e.g. ``cohort.clinical()``). When None, the two
        columns must be columns of ``features``.
    baseline, followup : str, default="pre", "post"
        Values of ``timepoint_column`` of the two scans.
    kind : {"relative", "absolute"}, default="relative"
        ``"absolute"``: ``followup - baseline``. ``"relative"``:
        ``(followup - baseline) / |baseline|``; a feature that is 0 at baseline
        gives 0 when it is also 0 at follow-up, otherwise NaN (with a warning
        that counts them) -- impute or drop it downstream.
    patient_column, timepoint_column : str, default="patient_id", "timepoint"
        Names of the key columns.

    Returns
    -------
    delta : DataFrame of shape (n_patients, n_features)
        Indexed by patient id (sorted), columns ``delta_<feature>``. Patients
        without both timepoints are left out (with a warning naming them).

    Raises
    ------
    ValueError
        For an unknown ``kind``, missing key columns, a patient with two rows
        at the same timepoint, no patient with both scans, or a timepoint
        value not found.
    TypeError
        For non-numeric feature columns.

    Notes
    -----
    Peeken et al. (2021) defined delta-radiomic features by subtraction
    (``kind="absolute"``); the relative change is the other common choice and
    is independent of each feature's scale.

    References
    ----------
    Peeken JC, Asadpour R, Specht K, et al. MRI-based delta-radiomics predicts
    pathologic complete response in high-grade soft-tissue sarcoma patients
    treated with neoadjuvant therapy. Radiother Oncol. 2021;164:73-82.

    Examples
    --------
    >>> import pandas as pd
    >>> from radsarc.features import delta_features
    >>> table = pd.DataFrame(
    ...     {"patient_id": ["P1", "P1"], "timepoint": ["pre", "post"],
    ...      "T2FS_volume": [10.0, 4.0]}, index=["P1-pre", "P1-post"])
    >>> delta_features(table)["delta_T2FS_volume"].to_dict()
    {'P1': -0.6}
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}; got {kind!r}.")
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"features must be a DataFrame; got {type(features).__name__}.")
    keys = _timepoint_table(features, timepoints, patient_column, timepoint_column)
    values = features.drop(
        columns=[c for c in (patient_column, timepoint_column) if c in features]
    )
    non_numeric = [
        c for c in values.columns if not pd.api.types.is_numeric_dtype(values[c])
    ]
    if non_numeric:
        raise TypeError(
            f"Feature columns must be numeric; drop or encode {non_numeric[:5]}"
            f"{' ...' if len(non_numeric) > 5 else ''}."
        )
    found = set(keys[timepoint_column])
    for name, value in (("baseline", baseline), ("followup", followup)):
        if value not in found:
            raise ValueError(
                f"No row has {timepoint_column} == {value!r} ({name}); the "
                f"timepoints are {sorted(map(str, found))}."
            )
    frames = {}
    for value in (baseline, followup):
        rows = keys[timepoint_column] == value
        patients = keys.loc[rows, patient_column]
        repeated = sorted(patients[patients.duplicated()].astype(str).unique())
        if repeated:
            raise ValueError(
                f"Patient(s) {repeated[:5]} have more than one row at timepoint "
                f"{value!r}; a (patient, timepoint) pair must be unique."
            )
        frames[value] = values.loc[rows].set_axis(pd.Index(patients, name=None))
    both = frames[baseline].index.intersection(frames[followup].index)
    lonely = frames[baseline].index.symmetric_difference(frames[followup].index)
    if len(both) == 0:
        raise ValueError(f"No patient has both a {baseline!r} and a {followup!r} row.")
    if len(lonely):
        warnings.warn(
            f"{len(lonely)} patient(s) without both a {baseline!r} and a "
            f"{followup!r} row are left out: {sorted(map(str, lonely))[:10]}.",
            UserWarning,
            stacklevel=2,
        )
    both = both.sort_values()
    pre = frames[baseline].loc[both].astype(float)
    post = frames[followup].loc[both].astype(float)
    diff = post - pre
    if kind == "absolute":
        delta = diff
    else:
        base = pre.abs().to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(base > 0, diff.to_numpy() / base, np.nan)
        rel[(base == 0) & (diff.to_numpy() == 0)] = 0.0
        undefined = int(np.sum((base == 0) & (diff.to_numpy() != 0)))
        if undefined:
            warnings.warn(
                f"{undefined} relative change(s) are undefined (feature 0 at "
                f"{baseline!r}, not at {followup!r}) and set to NaN; impute or "
                "drop them, or use kind='absolute'.",
                UserWarning,
                stacklevel=2,
            )
        delta = pd.DataFrame(rel, index=both, columns=diff.columns)
    delta.index.name = patient_column
    delta.columns = [f"delta_{c}" for c in delta.columns]
    logger.info(
        "delta features (%s, %s -> %s): %d patients, %d features",
        kind,
        baseline,
        followup,
        len(delta),
        delta.shape[1],
    )
    return delta
