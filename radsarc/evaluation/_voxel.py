"""Leave-one-patient-out evaluation of voxel tissue classifiers.

Voxels of one patient are strongly correlated, so a voxel classifier is always
tested on patients it has not seen: each patient in turn is held out, the model
is trained on (a per-patient sample of) the labelled voxels of the others, and
every voxel of the held-out patient is predicted. See ``docs/voxel.md``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from radsarc._parallel import watched
from radsarc.features import voxel_map
from radsarc.images import Cohort, read_image

__all__ = [
    "VoxelEvaluationResult",
    "compare_voxel_classifiers",
    "leave_one_patient_out",
    "write_label_maps",
]

logger = logging.getLogger(__name__)


@dataclass
class VoxelEvaluationResult:
    """What a leave-one-patient-out voxel evaluation produced.

    Attributes
    ----------
    name : str
        Name of the classifier.
    predictions : DataFrame
        Indexed like the voxel table: ``y_true`` (0 = unlabelled) and
        ``y_pred`` for every voxel of every held-out patient.
    accuracy, balanced_accuracy, macro_f1 : float
        Over all labelled voxels of all held-out patients.
    per_class : DataFrame
        One row per class: ``name``, ``precision``, ``recall``, ``f1``,
        ``support`` (labelled voxels).
    confusion : DataFrame
        Rows true class, columns predicted class (voxel counts).
    per_patient : DataFrame
        One row per patient: ``accuracy``, ``n_voxels``, ``n_labelled``.
    fractions : DataFrame
        One row per patient and class: ``true`` (fraction of the patient's
        labelled voxels) and ``predicted`` (fraction of all its voxels).
    fit_seconds : float
        Total time spent fitting and predicting.
    """

    name: str
    predictions: pd.DataFrame
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    per_patient: pd.DataFrame
    fractions: pd.DataFrame
    fit_seconds: float = field(default=0.0)


def _split_xy(X, y, label_column):
    if not isinstance(X, pd.DataFrame) or "case_id" not in (X.index.names or []):
        raise TypeError(
            "X must be a DataFrame indexed by (case_id, z, y, x), as returned by "
            "radsarc.features.voxel_features."
        )
    if y is None:
        if label_column not in X.columns:
            raise ValueError(
                f"X has no column {label_column!r}; pass y or a voxel table made "
                "with voxel_features(..., labels=...)."
            )
        y = X[label_column]
        X = X.drop(columns=[label_column])
    y = pd.Series(np.asarray(y).astype(int), index=X.index, name="y_true")
    return X, y


def _fold(estimator, X, y, patients, held_out, max_train_voxels, seed):
    rng = np.random.default_rng(seed)
    train_idx = []
    for patient in patients:
        if patient == held_out:
            continue
        rows = np.flatnonzero(X.index.get_level_values("case_id") == patient)
        rows = rows[y.to_numpy()[rows] > 0]
        if max_train_voxels is not None and rows.size > max_train_voxels:
            rows = np.sort(rng.choice(rows, max_train_voxels, replace=False))
        train_idx.append(rows)
    train = np.concatenate(train_idx)
    test = np.flatnonzero(X.index.get_level_values("case_id") == held_out)
    start = time.perf_counter()
    model = clone(estimator).fit(X.iloc[train], y.iloc[train])
    pred = model.predict(X.iloc[test])
    return test, np.asarray(pred).astype(int), time.perf_counter() - start


def leave_one_patient_out(
    estimator,
    X: pd.DataFrame,
    y=None,
    *,
    label_column: str = "label",
    max_train_voxels: int | None = 500,
    class_names: Mapping[int, str] | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    name: str | None = None,
) -> VoxelEvaluationResult:
    """Train on all patients but one, predict every voxel of the held-out one.

    Parameters
    ----------
    estimator : classifier
        Unfitted, e.g. :func:`radsarc.model.make_voxel_classifier` or
        ``make_preset("blackledge2019")``.
    X : DataFrame
        Voxel table of :func:`radsarc.features.voxel_features`, indexed by
        (``case_id``, ``z``, ``y``, ``x``).
    y : array-like or None, default=None
        Voxel labels (0 = unlabelled); default the column ``label_column``.
    label_column : str, default="label"
        Column of ``X`` holding the labels when ``y`` is None (dropped from X).
    max_train_voxels : int or None, default=500
        Labelled voxels sampled from each training patient (so that large
        tumours do not dominate and fitting stays fast); None uses all.
    class_names : mapping of int to str, default=None
        Names of the classes in the tables (e.g.
        :data:`radsarc.datasets.TISSUE_CLASSES`).
    random_state : int, default=0
        Seed of the voxel sampling.
    n_jobs : int, default=None
        Folds run in parallel with joblib.
    name : str, default=None
        Name of the classifier; default the estimator's class (last step).

    Returns
    -------
    result : VoxelEvaluationResult

    Raises
    ------
    ValueError
        With fewer than two patients, or no labelled voxel.
    """
    X, y = _split_xy(X, y, label_column)
    patients = list(dict.fromkeys(X.index.get_level_values("case_id")))
    if len(patients) < 2:
        raise ValueError(
            f"Leave-one-patient-out needs at least two patients; got {patients}."
        )
    if not (y > 0).any():
        raise ValueError("No labelled voxel (every label is 0).")
    seeds = np.random.SeedSequence(random_state).generate_state(len(patients))
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(watched(_fold))(estimator, X, y, patients, p, max_train_voxels, int(s))
        for p, s in zip(patients, seeds, strict=True)
    )
    y_pred = np.zeros(len(X), dtype=int)
    seconds = 0.0
    for test, pred, secs in outputs:
        y_pred[test] = pred
        seconds += secs
    predictions = pd.DataFrame(
        {"y_true": y.to_numpy(), "y_pred": y_pred}, index=X.index
    )
    labelled = predictions[predictions["y_true"] > 0]
    classes = sorted(set(labelled["y_true"]) | set(labelled["y_pred"]))
    names = {c: (class_names or {}).get(c, str(c)) for c in classes}
    precision, recall, f1, support = precision_recall_fscore_support(
        labelled["y_true"], labelled["y_pred"], labels=classes, zero_division=0
    )
    per_class = pd.DataFrame(
        {
            "name": [names[c] for c in classes],
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
        },
        index=pd.Index(classes, name="class"),
    )
    confusion = pd.DataFrame(
        confusion_matrix(labelled["y_true"], labelled["y_pred"], labels=classes),
        index=pd.Index(classes, name="true"),
        columns=pd.Index(classes, name="predicted"),
    )
    rows, fractions = [], []
    for patient in patients:
        part = predictions.xs(patient, level="case_id", drop_level=False)
        lab = part[part["y_true"] > 0]
        rows.append(
            {
                "case_id": patient,
                "accuracy": float(np.mean(lab["y_true"] == lab["y_pred"]))
                if len(lab)
                else np.nan,
                "n_voxels": len(part),
                "n_labelled": len(lab),
            }
        )
        for c in classes:
            fractions.append(
                {
                    "case_id": patient,
                    "class": c,
                    "name": names[c],
                    "true": float(np.mean(lab["y_true"] == c)) if len(lab) else np.nan,
                    "predicted": float(np.mean(part["y_pred"] == c)),
                }
            )
    estimator_name = (
        name
        or type(
            estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        ).__name__
    )
    result = VoxelEvaluationResult(
        name=estimator_name,
        predictions=predictions,
        accuracy=float(accuracy_score(labelled["y_true"], labelled["y_pred"])),
        balanced_accuracy=float(
            balanced_accuracy_score(labelled["y_true"], labelled["y_pred"])
        ),
        macro_f1=float(
            f1_score(
                labelled["y_true"],
                labelled["y_pred"],
                labels=classes,
                average="macro",
                zero_division=0,
            )
        ),
        per_class=per_class,
        confusion=confusion,
        per_patient=pd.DataFrame(rows).set_index("case_id"),
        fractions=pd.DataFrame(fractions),
        fit_seconds=seconds,
    )
    logger.info(
        "%s leave-one-patient-out: accuracy %.3f over %d patients",
        result.name,
        result.accuracy,
        len(patients),
    )
    return result


def compare_voxel_classifiers(
    estimators: Mapping[str, object],
    X: pd.DataFrame,
    y=None,
    **kwargs,
) -> tuple[pd.DataFrame, dict[str, VoxelEvaluationResult]]:
    """Leave-one-patient-out evaluation of several classifiers on the same voxels.

    Parameters
    ----------
    estimators : mapping of str to classifier
        Name to unfitted classifier.
    X, y
        As in :func:`leave_one_patient_out`.
    **kwargs
        Keyword arguments of :func:`leave_one_patient_out` (the same for all).

    Returns
    -------
    summary : DataFrame
        One row per classifier: ``accuracy``, ``balanced_accuracy``,
        ``macro_f1``, ``median_patient_accuracy``, ``fraction_mae`` (mean absolute
        error of the per-patient tissue fractions) and ``seconds``; sorted by
        accuracy.
    results : dict of str to VoxelEvaluationResult
    """
    if not estimators:
        raise ValueError("estimators must hold at least one classifier.")
    results = {}
    rows = []
    for key, estimator in estimators.items():
        res = leave_one_patient_out(estimator, X, y, name=key, **kwargs)
        results[key] = res
        rows.append(
            {
                "classifier": key,
                "accuracy": res.accuracy,
                "balanced_accuracy": res.balanced_accuracy,
                "macro_f1": res.macro_f1,
                "median_patient_accuracy": float(res.per_patient["accuracy"].median()),
                "fraction_mae": float(
                    (res.fractions["true"] - res.fractions["predicted"]).abs().mean()
                ),
                "seconds": res.fit_seconds,
            }
        )
    summary = (
        pd.DataFrame(rows)
        .set_index("classifier")
        .sort_values("accuracy", ascending=False)
    )
    return summary, results


def write_label_maps(
    labels: pd.Series,
    cohort: Cohort,
    out_dir: str | os.PathLike,
    *,
    suffix: str = "labels",
) -> dict[str, Path]:
    """Write per-voxel labels (e.g. predicted tissue classes) as NIfTI maps.

    Parameters
    ----------
    labels : Series
        Indexed by (``case_id``, ``z``, ``y``, ``x``), e.g.
        ``result.predictions["y_pred"]``.
    cohort : Cohort
        The cohort the voxels come from; each map takes the grid of the case's
        first sequence.
    out_dir : path-like
        Folder (created); files ``<case_id>_<suffix>.nii.gz``.
    suffix : str, default="labels"
        End of the file names.

    Returns
    -------
    paths : dict of str to Path
        Case id to written file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case_id in dict.fromkeys(labels.index.get_level_values("case_id")):
        case = cohort[case_id]
        reference = read_image(next(iter(case.images.values())))
        image = voxel_map(labels.xs(case_id, level="case_id"), reference)
        path = out / f"{case_id}_{suffix}.nii.gz"
        sitk.WriteImage(image, str(path), useCompression=True)
        paths[case_id] = path
    return paths
