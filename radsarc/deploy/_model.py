"""A trained radiomics model that goes from raw images to a probability and a class.

:class:`RadiomicsModel` holds everything needed to score a new patient: the
extraction settings (with the preprocessing, e.g. Nyul landmarks learned on the
training images), the fitted pipeline of a preset and the cut-off chosen on the
training data. It is saved in a safe format: a zip archive with a JSON header
(versions, settings, cut-off) and the pipeline serialised by skops, which is
loaded only if it holds no type beyond those radsarc's pipelines use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from radsarc._files import atomic_write
from radsarc._progress import progress_bar
from radsarc._version import __version__
from radsarc.evaluation import auc_score, choose_threshold, positive_scores
from radsarc.evaluation._cv import inner_cv
from radsarc.evaluation._tuning import grid_search
from radsarc.feature_selection import ICCFilter
from radsarc.features import ExtractionSettings, extract_features
from radsarc.features._extract import ERROR_COLUMNS
from radsarc.harmonisation import ComBat
from radsarc.images import Cohort
from radsarc.images._cohort import roi_names, with_default_roi
from radsarc.model import get_preset, list_presets

__all__ = [
    "FORMAT_VERSION",
    "PredictionResult",
    "RadiomicsModel",
    "TRUSTED_TYPES",
    "load_model",
]

logger = logging.getLogger(__name__)

#: Version of the model-file layout; a file of another version is refused.
FORMAT_VERSION = 1
_FORMAT = "radsarc-model"
_HEADER = "radsarc-model.json"
_PIPELINE = "pipeline.skops"
#: Member holding the SHA-256 of every other member: the checksum covers the
#: whole file (header: settings, feature names, cut-off; and the pipeline).
_CHECKSUMS = "checksums.sha256.json"

#: The only types (beyond skops' own defaults: scikit-learn's estimators, numpy,
#: builtins) that a saved pipeline may hold. Anything else is refused on load.
TRUSTED_TYPES: tuple[str, ...] = (
    "imblearn.combine._smote_tomek.SMOTETomek",
    "imblearn.over_sampling._adasyn.ADASYN",
    "imblearn.over_sampling._smote.base.SMOTE",
    "imblearn.over_sampling._smote.filter.BorderlineSMOTE",
    "imblearn.pipeline.Pipeline",
    "imblearn.under_sampling._prototype_selection._random_under_sampler."
    "RandomUnderSampler",
    "imblearn.under_sampling._prototype_selection._tomek_links.TomekLinks",
    "numpy.dtype",
    "radsarc.feature_selection._correlation.CorrelationFilter",
    "radsarc.feature_selection._icc.ICCFilter",
    "radsarc.feature_selection._lasso.LassoSelector",
    "radsarc.feature_selection._mrmr.MRMRSelector",
    "radsarc.feature_selection._univariate.UnivariateSelector",
    "radsarc.harmonisation._combat.ComBat",
    "radsarc.model._bootstrap.BootstrapLogisticRegression",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
)

PREDICTION_COLUMNS = ["case_id", "probability", "class"]


def _compatible(version: str) -> bool:
    """Same major.minor as this radsarc (0.1.x reads 0.1.y)."""
    return version.split(".")[:2] == __version__.split(".")[:2]


@dataclass
class PredictionResult:
    """What :meth:`RadiomicsModel.predict_cohort` produced.

    Attributes
    ----------
    predictions : DataFrame
        One row per scored case, in cohort order: ``case_id``, ``probability``
        (of class 1) and ``class`` (1 when ``probability >= threshold``).
    errors : DataFrame
        One row per case (and sequence) that could not be scored: ``case_id,
        sequence, stage, file, message``.
    threshold : float
        The cut-off that was applied.
    """

    predictions: pd.DataFrame
    errors: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ERROR_COLUMNS)
    )
    threshold: float = 0.5

    @property
    def summary(self) -> str:
        """One line: ``predicted: <n> cases, <k> failed``."""
        n_failed = self.errors["case_id"].nunique() if len(self.errors) else 0
        return f"predicted: {len(self.predictions)} cases, {n_failed} failed"


class RadiomicsModel:
    """A preset fitted on a cohort's images, with its cut-off; saved and reloaded.

    Parameters
    ----------
    preset : str, default="peeken2019"
        Name of a preset (:func:`radsarc.presets.list_presets`).
    settings : ExtractionSettings, dict, path-like or None, default=None
        Extraction settings (pyradiomics parameters and radsarc's
        ``preprocessing`` section). None: pyradiomics' defaults.
    params : dict, default=None
        ``set_params`` overrides of the preset's pipeline, e.g.
        ``{"classifier__C": 0.1}`` or ``{"stability": ICCFilter(icc=table)}``.
    harmonise : bool, default=False
        Put :class:`~radsarc.harmonisation.ComBat` on the manifest's ``group``
        (centre or scanner) into the pipeline's ``harmonisation`` step (added
        as the first step when the preset has none). New cases must come from
        a centre seen in training; others are listed in the errors table.
    nyul_region : {"body", "roi"} or None, default=None
        Learn Nyul landmarks on the training images (this region) and put them
        into the settings' preprocessing.
    cutoff : {"youden", "specificity"} or float, default="youden"
        Rule for the cut-off, applied to out-of-fold probabilities of the
        training cases (never to test data); a float fixes it.
    min_sensitivity : float, default=0.9
        With ``cutoff="specificity"``: the sensitivity to keep.
    cv : int, default=5
        Folds for the out-of-fold probabilities (stratified, shuffled).
    tuning : bool, default=True
        Tune the preset's hyper-parameter grid (less the keys fixed in
        ``params``) by ``cv``-fold AUC on the training cases before the final
        fit; the cut-off then comes from the chosen candidate's out-of-fold
        probabilities on the same folds (CLI: ``--tuning/--no-tuning``).
    group_column : str, default=None
        Manifest column with the patient id when a patient has several lesions
        (cases): every fold (tuning, cut-off, the out-of-fold AUC) keeps a
        patient's lesions together (CLI: ``--group``). ``"group"`` uses the
        manifest's centre column.
    positive : object, default=None
        Label value of class 1 when labels are not 0/1.
    roi : str or list of str, default=None
        Structure(s) of RTSTRUCT masks / segment(s) of DICOM SEG masks for the
        cases whose manifest has no ``roi`` cell (CLI: ``--roi``), in training
        and, saved with the model, when scoring new cases; label-image masks
        (NIfTI, NRRD) keep their ``label`` region. A name (case-insensitive) or
        a regular expression matching one whole name; several give several
        regions.
    n_jobs : int, default=1
        Cases extracted in parallel.
    cache_dir : path-like, default=None
        Extraction cache (see :func:`radsarc.features.extract_features`).
    random_state : int, default=0
        Seed of the folds (CLI: ``--seed``).
    progress : bool or None, default=False
        Progress bars (tqdm, on stderr) for the extraction, the cross-validation
        of :meth:`fit` and the extraction of :meth:`predict_proba`; None shows
        them only when stderr is a terminal (what the CLI does).
    tune : bool or None, default=None
        Deprecated name of ``tuning``; when given, it wins (with a
        FutureWarning).

    Attributes
    ----------
    pipeline_ : imblearn.pipeline.Pipeline
        The preset fitted on every training case that was extracted.
    threshold_ : float
        The cut-off on the probability of class 1.
    settings_ : ExtractionSettings
        The settings used (with learned preprocessing).
    feature_names_ : list of str
        Columns the pipeline expects (features, and the batch column if any).
    sequences_ : list of str
        The sequences of the training cohort (``[""]`` for a single sequence);
        a cohort to score must have every one of them.
    training_errors_ : DataFrame
        Training cases that failed extraction (not used for fitting).
    training_summary_ : dict
        ``n_cases``, ``n_positive``, ``oof_auc``, ``oof_auc_method``,
        ``cutoff``, ``cv``, ``group_column``, ``best_params`` (empty without
        tuning) and ``tuned_inner_auc``. With tuning, ``oof_auc`` is nested:
        in each of the ``cv`` folds the grid is tuned on the training part
        only (3-fold inner search) and the held-out part scored, so the figure
        is not inflated by the choice of the candidate; ``tuned_inner_auc`` is
        the chosen candidate's own mean inner AUC (optimistic, for reference).
    radsarc_version_ : str
        radsarc version that fitted the model.
    classes_ : ndarray of shape (2,)
        ``[0, 1]``: the columns of :meth:`predict_proba`.

    Examples
    --------
    >>> from radsarc.deploy import RadiomicsModel, load_model
    >>> model = RadiomicsModel(preset="peeken2019", settings="params.yaml")
    >>> model.fit("train/manifest.csv").save("model.radsarc")  # doctest: +SKIP
    >>> model = load_model("model.radsarc")  # doctest: +SKIP
    >>> model.predict_proba("new/manifest.csv")[:, 1]  # doctest: +SKIP
    >>> model.predict("new/manifest.csv")  # cut-off threshold_  # doctest: +SKIP
    >>> result = model.predict_cohort("new/manifest.csv")  # doctest: +SKIP
    >>> result.predictions.columns.tolist()  # doctest: +SKIP
    ['case_id', 'probability', 'class']
    """

    def __init__(
        self,
        *,
        preset: str = "peeken2019",
        settings: ExtractionSettings | dict | str | os.PathLike | None = None,
        params: dict[str, Any] | None = None,
        harmonise: bool = False,
        nyul_region: str | None = None,
        cutoff: str | float = "youden",
        min_sensitivity: float = 0.9,
        cv: int = 5,
        tuning: bool = True,
        group_column: str | None = None,
        positive: object = None,
        roi: str | list[str] | None = None,
        n_jobs: int = 1,
        cache_dir: str | os.PathLike | None = None,
        random_state: int = 0,
        progress: bool | None = False,
        tune: bool | None = None,
    ) -> None:
        self.preset = preset
        self.settings = settings
        self.params = params
        self.harmonise = harmonise
        self.nyul_region = nyul_region
        self.cutoff = cutoff
        self.min_sensitivity = min_sensitivity
        self.cv = cv
        self.tuning = tuning
        self.group_column = group_column
        self.positive = positive
        self.roi = roi
        self.n_jobs = n_jobs
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.progress = progress
        self.tune = tune

    def _tuning(self) -> bool:
        if self.tune is None:
            return bool(self.tuning)
        warnings.warn(
            "RadiomicsModel(tune=...) is deprecated; use tuning=... (the name of "
            "the CLI's --tuning/--no-tuning).",
            FutureWarning,
            stacklevel=3,
        )
        return bool(self.tune)

    def _cohort(self, cohort: Cohort | str | os.PathLike) -> Cohort:
        """The cohort (read from a manifest), with ``roi`` for the RTSTRUCT and
        SEG masks whose manifest cell is empty."""
        roi = getattr(self, "roi", None)
        if not isinstance(cohort, Cohort):
            return Cohort.from_csv(cohort, roi=roi)
        return with_default_roi(cohort, roi)

    # -- building -------------------------------------------------------------
    def _pipeline(self) -> Pipeline:
        pipeline = get_preset(self.preset).make(**dict(self.params or {}))
        if self.harmonise:
            if "harmonisation" in pipeline.named_steps:
                pipeline.set_params(harmonisation=ComBat(batch_column="group"))
            else:
                pipeline = Pipeline(
                    [("harmonisation", ComBat(batch_column="group")), *pipeline.steps]
                )
        for _, step in pipeline.steps:
            if isinstance(step, ICCFilter) and not isinstance(step.icc, dict):
                # A plain dict is what a safe model file can hold.
                step.set_params(icc=step._table().to_dict(), kind=step.kind)
        return pipeline

    @staticmethod
    def _batch_column(pipeline) -> str | None:
        for _, step in pipeline.steps:
            if isinstance(step, ComBat) and isinstance(step.batch_column, str):
                return step.batch_column
        return None

    def _labels(self, cohort: Cohort) -> pd.Series:
        labels = cohort.labels
        missing = labels.index[labels.isna()].tolist()
        if missing:
            raise ValueError(
                f"Cases {missing[:5]}{' ...' if len(missing) > 5 else ''} of "
                f"{cohort.source or 'the cohort'} have no label; fitting needs the "
                "'label' column filled for every case (0/1, or set positive=)."
            )
        if self.positive is not None:
            y = (labels.astype(str) == str(self.positive)).astype(int)
        else:
            values = set(labels.tolist())
            if not values <= {0, 1}:
                raise ValueError(
                    f"Column 'label' of {cohort.source or 'the cohort'} holds "
                    f"{sorted(map(str, values))[:10]}; expected 0/1, or name the "
                    "positive class with positive=VALUE (--positive)."
                )
            y = labels.astype(int)
        return y.rename("label")

    def _check_classes(
        self, y: pd.Series, where: str, patients: pd.Series | None = None
    ) -> None:
        counts = y.value_counts()
        if counts.size < 2:
            raise ValueError(
                f"Fitting needs both classes in 'label'; {where} has only label "
                f"{int(counts.index[0])} ({int(counts.iloc[0])} cases)."
            )
        if isinstance(self.cv, bool) or not isinstance(self.cv, int) or self.cv < 2:
            raise ValueError(f"cv must be an integer >= 2; got {self.cv!r}.")
        if counts.min() < self.cv:
            raise ValueError(
                f"Fewer samples than folds: {where} has {int(counts.min())} case(s) "
                f"of label {int(counts.idxmin())}, but the cut-off is chosen on "
                f"{self.cv}-fold out-of-fold probabilities, which needs at least "
                f"{self.cv} of each class. Use more cases or a smaller cv (--cv)."
            )
        if patients is not None:
            per_class = {
                int(c): patients[y == c].nunique() for c in sorted(counts.index)
            }
            label, n = min(per_class.items(), key=lambda kv: kv[1])
            if n < self.cv:
                raise ValueError(
                    f"Fewer patients than folds: {where} has {n} patient(s) with "
                    f"label {label} ({self.group_column!r}), but each of the "
                    f"{self.cv} folds keeps a patient's lesions together and needs "
                    "one of each class. Use a smaller cv (--cv)."
                )

    # -- fitting --------------------------------------------------------------
    def fit(self, cohort: Cohort | str | os.PathLike) -> RadiomicsModel:
        """Extract the training cohort, choose the cut-off, fit the pipeline.

        Parameters
        ----------
        cohort : Cohort or path-like
            Training cohort (or its manifest) with a ``label`` for every case
            (and a ``group`` with ``harmonise=True``).

        Returns
        -------
        self : RadiomicsModel
            The fitted model.

        Raises
        ------
        ValueError
            For missing or non-binary labels, a single class, fewer cases of a
            class than folds (also after failed cases are left out), or when no
            case could be extracted.
        """
        preset = get_preset(self.preset)
        if preset.input != "features":
            raise ValueError(
                f"Preset {self.preset!r} takes {preset.input} input "
                f"(Preset.input={preset.input!r}); radsarc fit extracts one row of "
                "radiomic features per case. Presets for it: "
                f"{', '.join(list_presets('features'))}."
            )
        cohort = self._cohort(cohort)
        where = f"manifest {cohort.source}" if cohort.source else "the cohort"
        y_all = self._labels(cohort)
        patients_all = self._patients(cohort, where)
        self._check_classes(y_all, where, patients_all)
        pipeline = self._pipeline()
        if self._batch_column(pipeline) is not None:
            # A centre too small for the folds fails before any extraction.
            self._centre_folds(
                self._folds(patients_all),
                cohort.groups.loc[y_all.index],
                y_all,
                where,
                patients_all,
            )
        settings = ExtractionSettings.coerce(self.settings)
        if self.nyul_region is not None:
            settings = settings.with_nyul_landmarks(cohort, region=self.nyul_region)
        result = extract_features(
            cohort,
            settings,
            n_jobs=self.n_jobs,
            cache_dir=self.cache_dir,
            progress=self.progress,
            return_result=True,
        )
        X = result.features
        if X.empty:
            first = result.errors.iloc[0] if len(result.errors) else None
            raise ValueError(
                f"No case of {where} could be extracted"
                + (
                    f"; first failure: case {first.case_id!r}, file {first.file}: "
                    f"{first.message}"
                    if first is not None
                    else "."
                )
            )
        y = y_all.loc[X.index]
        patients = None if patients_all is None else patients_all.loc[X.index]
        if result.n_failed:
            self._check_classes(
                y, f"{where} (without its {result.n_failed} failed cases)", patients
            )
        batch = self._batch_column(pipeline)
        if batch is not None:
            X = X.assign(**{batch: cohort.groups.loc[X.index].to_numpy()})
        folds = self._folds(patients)
        fixed = set(self.params or {})
        tuning = self._tuning()
        grid = {
            k: v
            for k, v in (get_preset(self.preset).param_grid if tuning else {}).items()
            if k not in fixed
        }
        best_params: dict[str, Any] = {}
        fold_list = (
            list(folds.split(X, y.to_numpy(), None if patients is None else patients))
            if batch is None
            else self._centre_folds(folds, X[batch], y, where, patients)
        )
        unfitted = clone(pipeline)
        with progress_bar(
            self.progress,
            total=len(fold_list),
            desc="tune and choose the cut-off" if grid else "choose the cut-off",
            unit="fold",
        ) as bar:
            if grid:
                search = grid_search(
                    pipeline, grid, X, y.to_numpy(), fold_list, on_fold=bar.update
                )
                best_params = dict(search.best_params)
                pipeline.set_params(**best_params)
                oof = search.oof_scores[search.best_index]
                tuned_inner_auc = float(search.mean_scores[search.best_index])
            else:
                tuned_inner_auc = None
                oof = np.full(len(y), np.nan)
                for train, test in fold_list:
                    model = clone(pipeline).fit(X.iloc[train], y.to_numpy()[train])
                    oof[test] = positive_scores(model, X.iloc[test])
                    bar.update()
        if grid:
            # The tuned candidate's own out-of-fold AUC is what it was chosen
            # for: optimistic. The reported AUC is nested: each fold's training
            # part tunes the grid on its own inner folds.
            centres = None if batch is None else X[batch].astype(str).to_numpy()
            try:
                scored = self._nested_oof(
                    unfitted, grid, X, y, fold_list, patients, centres
                )
                oof_method = (
                    f"nested: the grid tuned inside each of the {self.cv} training "
                    "parts (3-fold inner search), the held-out part scored once"
                )
            except ValueError as exc:
                # Too few cases (or centres) for inner folds: no nested figure,
                # and the tuned candidate's own AUC is not passed off as one.
                scored = np.full(len(y), np.nan)
                oof_method = f"nested AUC not computed: {exc}"
                logger.warning("Nested out-of-fold AUC not computed: %s", exc)
        else:
            scored = oof
            oof_method = f"{self.cv}-fold out-of-fold (no tuning)"
        threshold = choose_threshold(
            y.to_numpy(), oof, self.cutoff, min_sensitivity=self.min_sensitivity
        )
        pipeline.fit(X, y.to_numpy())
        self.pipeline_ = pipeline
        self.threshold_ = float(threshold)
        self.settings_ = settings
        self.feature_names_ = [str(c) for c in X.columns]
        self.sequences_ = list(cohort.sequences)
        self.training_errors_ = result.errors.reset_index(drop=True)
        self.training_summary_ = {
            "n_cases": int(len(y)),
            "n_positive": int(y.sum()),
            "n_failed": int(result.n_failed),
            "oof_auc": None
            if np.isnan(scored).any()
            else float(auc_score(y.to_numpy(), scored)),
            "oof_auc_method": oof_method,
            "tuned_inner_auc": tuned_inner_auc,
            "cutoff": self.cutoff if isinstance(self.cutoff, str) else "fixed",
            "cv": int(self.cv),
            "group_column": self.group_column,
            "best_params": {k: _plain(v) for k, v in best_params.items()},
        }
        self.radsarc_version_ = __version__
        logger.info(
            "fitted %s on %d cases (out-of-fold AUC %s), cut-off %.4f",
            self.preset,
            len(y),
            self.training_summary_["oof_auc"],
            self.threshold_,
        )
        return self

    def _patients(self, cohort: Cohort, where: str) -> pd.Series | None:
        """The patient of each case (``group_column``), or None."""
        if self.group_column is None:
            return None
        table = cohort.clinical()
        if self.group_column not in table.columns:
            raise ValueError(
                f"group_column {self.group_column!r} (--group) is not a column of "
                f"{where}; its columns besides the images are "
                f"{list(table.columns)}."
            )
        patients = table[self.group_column]
        missing = patients.index[patients.isna()].tolist()
        if missing:
            raise ValueError(
                f"Cases {missing[:5]} of {where} have no {self.group_column!r} "
                "(patient); every case needs one to keep a patient's lesions in "
                "one fold."
            )
        return patients.astype(str)

    def _folds(self, patients: pd.Series | None):
        if patients is None:
            return StratifiedKFold(
                n_splits=self.cv, shuffle=True, random_state=self.random_state
            )
        return StratifiedGroupKFold(
            n_splits=self.cv, shuffle=True, random_state=self.random_state
        )

    def _nested_oof(
        self, pipeline, grid, X, y, fold_list, patients, centres=None
    ) -> np.ndarray:
        """Out-of-fold scores with the grid tuned inside each training part.

        With harmonisation (``centres``), the inner folds are stratified by
        label and centre and every inner training part must hold every centre.
        """
        labels = y.to_numpy()
        scores = np.full(len(labels), np.nan)
        groups = None if patients is None else patients.to_numpy()
        with progress_bar(
            self.progress, total=len(fold_list), desc="nested AUC", unit="fold"
        ) as bar:
            for i, (train, test) in enumerate(fold_list):
                g_train = None if groups is None else groups[train]
                y_train = labels[train]
                counts = (
                    np.bincount(y_train, minlength=2)
                    if g_train is None
                    else np.array(
                        [np.unique(g_train[y_train == c]).size for c in (0, 1)]
                    )
                )
                k = int(min(3, counts.min()))
                if centres is not None:
                    k = int(min(k, pd.Series(centres[train]).value_counts().min()))
                if k < 2:
                    raise ValueError(
                        f"A training part of the {self.cv}-fold cross-validation "
                        f"has {int(counts.min())} case(s) of a class: too few for "
                        "the inner tuning folds of the nested AUC (needs 2). Use "
                        "fewer folds (--cv) or --no-tuning."
                    )
                strata = (
                    y_train
                    if centres is None
                    else np.array(
                        [
                            f"{a}|{b}"
                            for a, b in zip(y_train, centres[train], strict=True)
                        ]
                    )
                )
                with warnings.catch_warnings():
                    warnings.filterwarnings(
                        "ignore", "The least populated class", UserWarning
                    )
                    inner = list(
                        inner_cv(k, g_train, self.random_state + i).split(
                            X.iloc[train], strata, g_train
                        )
                    )
                if centres is not None:
                    c_train = centres[train]
                    for a, _ in inner:
                        if set(c_train) - set(c_train[a]):
                            raise ValueError(
                                "an inner training part of the nested AUC lacks a "
                                "centre, which ComBat cannot harmonise"
                            )
                search = grid_search(pipeline, grid, X.iloc[train], y_train, inner)
                model = clone(pipeline).set_params(
                    **clone(search.best_params, safe=False)
                )
                model.fit(X.iloc[train], y_train)
                scores[test] = positive_scores(model, X.iloc[test])
                bar.update()
        return scores

    def _centre_folds(
        self,
        folds,
        centres: pd.Series,
        y: pd.Series,
        where: str,
        patients: pd.Series | None = None,
    ):
        """Folds stratified by label and centre, with every centre in every
        training part (ComBat cannot harmonise a centre it was not fitted on)."""
        centres = centres.astype(str).to_numpy()
        labels = y.to_numpy()
        strata = [f"{lab}|{c}" for lab, c in zip(labels, centres, strict=True)]
        with warnings.catch_warnings():
            # A stratum smaller than the number of folds is expected here.
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            fold_list = list(
                folds.split(
                    centres.reshape(-1, 1),
                    strata,
                    None if patients is None else patients.to_numpy(),
                )
            )
        counts = pd.Series(centres).value_counts()
        for train, test in fold_list:
            missing = sorted(set(centres[test]) - set(centres[train]))
            if missing:
                shown = ", ".join(f"{c!r} ({counts[c]} case(s))" for c in missing)
                raise ValueError(
                    f"Harmonisation by centre (--harmonise): centre {shown} of "
                    f"{where} is missing from a training part of the {self.cv}-fold "
                    "cross-validation that chooses the cut-off, so ComBat cannot "
                    "harmonise its held-out case(s). Give every centre at least 2 "
                    "cases (e.g. merge a small centre into another in the "
                    "manifest's 'group' column), or fit without --harmonise."
                )
        return fold_list

    @property
    def preprocessing(self) -> dict:
        """The learned preprocessing (e.g. Nyul landmarks) as plain numbers/lists."""
        self._check_fitted()
        return self.settings_.to_full_dict().get("preprocessing", {})

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise ValueError(
                "This RadiomicsModel is not fitted; call fit(cohort) or load_model()."
            )

    # -- prediction -----------------------------------------------------------
    def predict_features(self, X: pd.DataFrame) -> pd.DataFrame:
        """Probability and class of cases given as a feature table.

        Parameters
        ----------
        X : DataFrame
            Indexed by case id, with the columns in ``feature_names_``.

        Returns
        -------
        DataFrame
            ``case_id``, ``probability``, ``class``.
        """
        self._check_fitted()
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ValueError(
                f"The feature table lacks {len(missing)} column(s) the model was "
                f"trained on, e.g. {missing[:5]}; extract with the model's settings."
            )
        proba = self.pipeline_.predict_proba(X[self.feature_names_])
        classes = list(self.pipeline_.classes_)
        p = np.asarray(proba)[:, classes.index(1)]
        return pd.DataFrame(
            {
                "case_id": X.index.astype(str),
                "probability": p,
                "class": (p >= self.threshold_).astype(int),
            },
            columns=PREDICTION_COLUMNS,
        )

    def _extract(
        self,
        cohort: Cohort | str | os.PathLike,
        n_jobs: int | None,
        cache_dir: str | os.PathLike | None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Features of the cases that could be extracted (and harmonised), and an
        errors table naming every other case."""
        self._check_fitted()
        cohort = self._cohort(cohort)
        self._check_sequences(cohort)
        result = extract_features(
            cohort,
            self.settings_,
            n_jobs=self.n_jobs if n_jobs is None else n_jobs,
            cache_dir=cache_dir,
            progress=getattr(self, "progress", False),
            return_result=True,
        )
        errors = [result.errors]
        X = result.features
        batch = self._batch_column(self.pipeline_)
        if batch is not None and len(X):
            combat = next(s for _, s in self.pipeline_.steps if isinstance(s, ComBat))
            groups = cohort.groups.loc[X.index]
            known = {str(b) for b in combat.batches_}
            bad = [
                cid
                for cid, g in groups.items()
                if g is None or (combat.unseen_batch == "error" and str(g) not in known)
            ]
            if bad:
                errors.append(
                    pd.DataFrame(
                        [
                            {
                                "case_id": cid,
                                "sequence": "",
                                "stage": "harmonise",
                                "file": cohort.source,
                                "message": (
                                    f"group {groups[cid]!r} was not seen in training "
                                    f"(centres seen: {sorted(known)}); ComBat cannot "
                                    "harmonise a case of an unknown centre"
                                    if groups[cid] is not None
                                    else "the manifest gives no 'group' (centre) for "
                                    "this case; the model harmonises by centre"
                                ),
                            }
                            for cid in bad
                        ],
                        columns=ERROR_COLUMNS,
                    )
                )
                X = X.drop(index=bad)
            X = X.assign(**{batch: cohort.groups.loc[X.index].to_numpy()})
        errors_frame = pd.concat(
            [e for e in errors if len(e)] or [pd.DataFrame(columns=ERROR_COLUMNS)],
            ignore_index=True,
        )
        return X, errors_frame

    def predict_cohort(
        self,
        cohort: Cohort | str | os.PathLike,
        *,
        n_jobs: int | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> PredictionResult:
        """From raw images to probability and class, case by case.

        Parameters
        ----------
        cohort : Cohort or path-like
            New cases (labels are not needed and not used).
        n_jobs : int, default=None
            Cases extracted in parallel (default: the model's ``n_jobs``).
        cache_dir : path-like, default=None
            Extraction cache.

        Returns
        -------
        PredictionResult
            Predictions for every case that could be extracted (and harmonised);
            every other case is a row of ``errors`` naming it, its file and the
            problem.
        """
        X, errors = self._extract(cohort, n_jobs, cache_dir)
        if len(X):
            predictions = self.predict_features(X)
        else:
            predictions = pd.DataFrame(columns=PREDICTION_COLUMNS)
        logger.info(
            "predicted %d cases, %d failed",
            len(predictions),
            errors["case_id"].nunique(),
        )
        return PredictionResult(predictions, errors, self.threshold_)

    @property
    def classes_(self) -> np.ndarray:
        """``[0, 1]``: the classes, in the column order of :meth:`predict_proba`."""
        self._check_fitted()
        return np.array([0, 1])

    def _features(self, X) -> pd.DataFrame:
        """A feature table from a DataFrame, a cohort or a manifest path; every
        case must be scored (a failed case is an error naming it)."""
        if isinstance(X, pd.DataFrame):
            return X
        if not isinstance(X, Cohort | str | os.PathLike):
            raise TypeError(
                "X must be a feature DataFrame (indexed by case id), a Cohort or the "
                f"path of a manifest CSV; got {type(X).__name__}."
            )
        features, errors = self._extract(X, None, self.cache_dir)
        if len(errors):
            lines = "; ".join(
                f"case {r.case_id!r} ({r.stage}, {r.file}): {r.message}"
                for r in errors.head(5).itertuples(index=False)
            )
            n = errors["case_id"].nunique()
            raise ValueError(
                f"{n} case(s) could not be scored: {lines}"
                + (" ..." if len(errors) > 5 else "")
                + ". predict_cohort() scores the others and lists these in its "
                "errors table."
            )
        return features

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of class 0 and class 1, like a scikit-learn classifier.

        Parameters
        ----------
        X : DataFrame, Cohort or path-like
            A feature table indexed by case id (with the columns in
            ``feature_names_``), a cohort, or the path of its manifest CSV (its
            images are extracted with the model's settings).

        Returns
        -------
        ndarray of shape (n_cases, 2)
            Rows in the order of ``X`` (manifest order for a cohort); columns
            ``classes_`` = ``[0, 1]``.

        Raises
        ------
        ValueError
            If a case of a cohort cannot be extracted or harmonised (every row
            must be scored; :meth:`predict_cohort` scores the others and lists
            the failed ones), or if the feature table lacks columns.
        """
        p = self.predict_features(self._features(X))["probability"].to_numpy()
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Class 0/1 of every case, by the model's cut-off ``threshold_``.

        Unlike a plain scikit-learn classifier (which takes the more probable
        class, a cut-off of 0.5), a case is 1 when its probability of class 1
        is at least ``threshold_``, the cut-off chosen on the training data.

        Parameters
        ----------
        X : DataFrame, Cohort or path-like
            As for :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_cases,)
            0 or 1 per case, in the order of ``X``.
        """
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)

    def _check_sequences(self, cohort: Cohort) -> None:
        """Refuse a cohort that lacks a sequence the model was trained on."""
        needed = list(getattr(self, "sequences_", None) or [])
        if not needed:
            return
        where = f"Manifest {cohort.source}" if cohort.source else "The cohort"
        if needed == [""] and cohort.sequences != ("",):
            raise ValueError(
                f"{where} has the sequences {list(cohort.sequences)} (columns "
                "image_<SEQ>), but the model was trained on a single-sequence "
                "cohort: expected one 'image' column and a 'mask' column."
            )
        missing = [s for s in needed if s not in cohort.sequences]
        if missing:
            have = [s for s in cohort.sequences if s] or ["(a single 'image')"]
            raise ValueError(
                f"{where} lacks the sequence(s) {missing} the model needs (columns "
                f"{['image_' + s for s in missing if s]}); it has {have}. The "
                f"model was trained on the sequences {needed}."
            )

    # -- persistence ----------------------------------------------------------
    def _header(self, pipeline_bytes: bytes) -> dict:
        full = self.settings_.to_full_dict()
        return {
            "format": _FORMAT,
            "format_version": FORMAT_VERSION,
            "radsarc_version": self.radsarc_version_,
            "preset": self.preset,
            "settings": full,
            "preprocessing": full.get("preprocessing", {}),
            "threshold": self.threshold_,
            "cutoff": self.cutoff,
            "min_sensitivity": self.min_sensitivity,
            "cv": self.cv,
            "tuning": self._tuning(),
            "group_column": self.group_column,
            "harmonise": bool(self.harmonise),
            "positive": None if self.positive is None else str(self.positive),
            "roi": list(roi_names(getattr(self, "roi", None))) or None,
            "random_state": self.random_state,
            "feature_names": self.feature_names_,
            "sequences": list(getattr(self, "sequences_", None) or []),
            "training_summary": self.training_summary_,
            "training_errors": self.training_errors_.astype(str).to_dict("records"),
            "pipeline_sha256": hashlib.sha256(pipeline_bytes).hexdigest(),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` (a zip archive; written atomically).

        Parameters
        ----------
        path : path-like
            File to write (conventionally ``*.radsarc``).

        Returns
        -------
        Path
            The file written.
        """
        import skops.io as sio

        self._check_fitted()
        path = Path(path)
        pipeline_bytes = sio.dumps(self.pipeline_)
        untrusted = set(sio.get_untrusted_types(data=pipeline_bytes))
        unexpected = sorted(untrusted - set(TRUSTED_TYPES))
        if unexpected:
            raise TypeError(
                f"The pipeline holds types a radsarc model file may not hold: "
                f"{unexpected}; only radsarc's presets and their steps can be saved."
            )
        header = json.dumps(
            self._header(pipeline_bytes), indent=1, default=_plain
        ).encode("utf-8")
        checksums = json.dumps(
            {
                _HEADER: hashlib.sha256(header).hexdigest(),
                _PIPELINE: hashlib.sha256(pipeline_bytes).hexdigest(),
            },
            indent=1,
        )
        with (
            atomic_write(path) as tmp,
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr(_HEADER, header)
            archive.writestr(_PIPELINE, pipeline_bytes)
            archive.writestr(_CHECKSUMS, checksums)
        logger.info("saved model to %s", path)
        return path


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load_model(path: str | os.PathLike) -> RadiomicsModel:
    """Read a model written by :meth:`RadiomicsModel.save`, refusing unsafe files.

    The file is refused, with a message saying why, when it is not a radsarc
    model, was written in another format version or by a radsarc of another
    major.minor version, when its pipeline does not match the checksum in its
    header, or when the pipeline holds any type outside :data:`TRUSTED_TYPES`
    (and skops' defaults). Nothing from the file is executed before these checks.

    Parameters
    ----------
    path : path-like
        The model file.

    Returns
    -------
    RadiomicsModel
        Fitted, ready for :meth:`~RadiomicsModel.predict_cohort`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is refused (see above).
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {_HEADER, _PIPELINE} <= names:
                raise ValueError(
                    f"Model file {path} is not a radsarc model: expected the members "
                    f"{_HEADER} and {_PIPELINE}, found {sorted(names)[:5]}."
                )
            header_bytes = archive.read(_HEADER)
            pipeline_bytes = archive.read(_PIPELINE)
            checksum_bytes = archive.read(_CHECKSUMS) if _CHECKSUMS in names else None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(
            f"Model file {path} is not a readable radsarc model (a zip archive "
            f"written by `radsarc fit`); it may be truncated or corrupt: {exc}"
        ) from None
    _verify_checksums(path, names, checksum_bytes, header_bytes, pipeline_bytes)
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"Model file {path} has an unreadable header {_HEADER}: {exc}"
        ) from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(f"Model file {path} is not a radsarc model.")
    version = str(header.get("radsarc_version", "?"))
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Model file {path} uses model format {header.get('format_version')!r} "
            f"(written by radsarc {version}); this radsarc {__version__} reads "
            f"format {FORMAT_VERSION}. Install radsarc {version} to use it, or refit."
        )
    if not _compatible(version):
        major_minor = ".".join(__version__.split(".")[:2])
        raise ValueError(
            f"Model file {path} was written by radsarc {version}; this is radsarc "
            f"{__version__}, which loads models of radsarc {major_minor}.x only "
            "(the same major.minor version). Refit the model with this version, or "
            f"install radsarc {version}."
        )
    if hashlib.sha256(pipeline_bytes).hexdigest() != header.get("pipeline_sha256"):
        raise ValueError(
            f"Model file {path}: the pipeline does not match the checksum in its "
            "header; the file was modified after it was written. Refusing to load it."
        )
    try:
        untrusted = sio.get_untrusted_types(data=pipeline_bytes)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "refuse"
        raise ValueError(
            f"Model file {path}: its pipeline cannot be read safely "
            f"({type(exc).__name__}: {exc}). Refusing to load it."
        ) from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ValueError(
            f"Model file {path} holds types that a radsarc model never contains: "
            f"{unexpected}. It may have been tampered with or written by other "
            "software; refusing to load it."
        )
    try:
        pipeline = sio.loads(pipeline_bytes, trusted=list(untrusted))
    except Exception as exc:  # noqa: BLE001 - a malformed archive is refused
        raise ValueError(
            f"Model file {path}: its pipeline could not be loaded "
            f"({type(exc).__name__}: {exc})."
        ) from None
    if not isinstance(pipeline, Pipeline):
        raise ValueError(
            f"Model file {path} holds a {type(pipeline).__name__}, not a radsarc "
            "pipeline; refusing to use it."
        )
    try:
        settings = ExtractionSettings.from_dict(
            header["settings"], source=f"model file {path}"
        )
        model = RadiomicsModel(
            preset=header["preset"],
            settings=settings,
            harmonise=bool(header.get("harmonise", False)),
            cutoff=header.get("cutoff", "youden"),
            min_sensitivity=float(header.get("min_sensitivity", 0.9)),
            cv=int(header.get("cv", 5)),
            tuning=bool(header.get("tuning", header.get("tune", True))),
            group_column=header.get("group_column"),
            positive=header.get("positive"),
            roi=header.get("roi"),
            random_state=header.get("random_state", 0),
        )
        model.pipeline_ = pipeline
        model.threshold_ = _header_threshold(
            path, header["threshold"], hasattr(pipeline, "predict_proba")
        )
        model.settings_ = settings
        model.feature_names_ = [str(c) for c in header["feature_names"]]
        model.sequences_ = [str(s) for s in header.get("sequences") or []]
        model.training_summary_ = dict(header.get("training_summary", {}))
        model.training_errors_ = pd.DataFrame(
            header.get("training_errors", []), columns=ERROR_COLUMNS
        )
        model.radsarc_version_ = version
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"Model file {path} has an incomplete header ({type(exc).__name__}: {exc})."
        ) from None
    logger.info("loaded model %s (radsarc %s)", path, version)
    return model


def _header_threshold(path, value, probability: bool) -> float:
    """The cut-off of a model header: a finite number (a probability in [0, 1]
    when the pipeline gives probabilities), else refused.

    A cut-off of 7.5 (or "abc") in a header written with matching checksums
    would otherwise class every case negative (or fail with no file named).
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and np.isfinite(value) and (not probability or 0.0 <= value <= 1.0)
    if not ok:
        expected = "a probability between 0 and 1" if probability else "a number"
        raise ValueError(
            f"Model file {path}: its cut-off (header field 'threshold') is "
            f"{value!r}; expected {expected}. The header was edited or written by "
            "other software; refusing to load it."
        )
    return float(value)


def _verify_checksums(path, names, checksum_bytes, header_bytes, pipeline_bytes):
    """Refuse a model file whose members do not match its recorded checksums."""
    extra = sorted(set(names) - {_HEADER, _PIPELINE, _CHECKSUMS})
    if extra:
        raise ValueError(
            f"Model file {path} holds members a radsarc model never has: {extra}. "
            "It was modified after it was written; refusing to load it."
        )
    if checksum_bytes is None:
        raise ValueError(
            f"Model file {path} has no checksum member ({_CHECKSUMS}); it was "
            "written by an older radsarc or modified. Refit the model with this "
            "radsarc; refusing to load it."
        )
    try:
        recorded = json.loads(checksum_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"Model file {path} has an unreadable checksum member {_CHECKSUMS}: "
            f"{exc}. Refusing to load it."
        ) from None
    for member, data in ((_HEADER, header_bytes), (_PIPELINE, pipeline_bytes)):
        expected = recorded.get(member) if isinstance(recorded, dict) else None
        if hashlib.sha256(data).hexdigest() != expected:
            what = (
                "header (settings, feature names, cut-off)"
                if member == _HEADER
                else "pipeline"
            )
            raise ValueError(
                f"Model file {path}: its {what} ({member}) does not match the "
                "checksum recorded when it was written; the file was modified "
                "or corrupted. Refusing to load it."
            )


def _plain(value):
    """A JSON-friendly copy of a hyper-parameter value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)
