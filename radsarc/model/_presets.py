"""The non-deep pipelines of the soft-tissue-sarcoma MRI literature as presets.

Each preset is an unfitted :class:`imblearn.pipeline.Pipeline` (imputation,
constant-column removal, scaling, selection, optional resampling, classifier)
with a small hyper-parameter grid for inner tuning, and the metadata needed to
cite it and to know where radsarc departs from the paper. The papers are those
of Table 1 of Voigtlaender et al. (2025) without a deep network, plus Vallieres
et al. (2015), the reference model of the public TCIA soft-tissue-sarcoma cohort.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Callable
from typing import Any

from imblearn.pipeline import Pipeline
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from radsarc.feature_selection import (
    CorrelationFilter,
    LassoSelector,
    MRMRSelector,
    UnivariateSelector,
)
from radsarc.model._auto import AutoEnsemble
from radsarc.model._bootstrap import BootstrapLogisticRegression
from radsarc.model._registry import (
    make_classifier,
    make_pipeline,
    make_sampler,
    make_selector,
    make_svm,
)
from radsarc.model._smote import AdaptiveSMOTE

__all__ = ["Preset", "get_preset", "list_presets", "make_preset"]

logger = logging.getLogger(__name__)

_SEED = 0
#: The review whose Table 1 the presets follow.
REVIEW = (
    "Voigtlaender et al., Front Oncol 2025 (review of MRI-based AI in soft-tissue "
    "sarcoma), Table 1"
)


@dataclasses.dataclass(frozen=True)
class Preset:
    """A published pipeline: how to build it, and what the paper reported.

    Parameters
    ----------
    name : str
        Short name, ``<first author><year>``.
    title : str
        Title of the paper.
    citation : str
        Full reference.
    doi : str
        DOI of the paper.
    task : str
        What is predicted (class 1 first).
    cohort : str
        The paper's patients.
    sequences : tuple of str
        MRI sequences the paper used.
    reported_metrics : dict of str to float
        Published figures of the model radsarc's pipeline reproduces (keys among
        ``"auc"``, ``"sensitivity"``, ``"specificity"``, ``"accuracy"``), on the
        paper's own cohort; ``reported_source`` says where they come from.
    departures : tuple of str
        Where radsarc's pipeline departs from the paper, and why.
    param_grid : dict of str to list
        Small grid for inner tuning; keys are ``set_params`` keys of the pipeline.
        Empty for ``auto``, which tunes inside its own ``fit``.
    builder : callable
        Returns a new unfitted pipeline.
    input : {"features", "delta", "voxels"}, default="features"
        What one row of ``X`` is: a case's radiomic features (the tabular
        presets, e.g. on the WORC tables), a patient's delta-radiomic features
        between timepoints, or one voxel's feature vector. ``fit``,
        ``evaluate`` and ``benchmark`` refuse a preset on the wrong kind of
        table.
    reported_source : str, default=""
        Where ``reported_metrics`` come from: the review's Table 1 or the paper
        (and which of the paper's models, cohorts and sets).
    review_metrics : dict of str to float, default={}
        The row of Table 1 of Voigtlaender et al. (2025) for this paper, as
        printed (empty when the paper is not in it).
    review_model : str, default=""
        The model that row describes ("Best performed CNN" column), which is
        not always the pipeline radsarc builds.
    """

    name: str
    title: str
    citation: str
    doi: str
    task: str
    cohort: str
    sequences: tuple[str, ...]
    reported_metrics: dict[str, float]
    departures: tuple[str, ...]
    param_grid: dict[str, list]
    builder: Callable[[], Pipeline] = dataclasses.field(repr=False, compare=False)
    input: str = "features"
    reported_source: str = ""
    review_metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    review_model: str = ""

    def to_markdown(self) -> str:
        """The preset's section of ``docs/presets.md`` (kept equal by a test)."""

        def figures(metrics: dict) -> str:
            return ", ".join(f"{k} {v:g}" for k, v in metrics.items()) or "none"

        steps = " -> ".join(f"`{n}`" for n, _ in self.make().steps)
        review = (
            f"{self.review_model}: {figures(self.review_metrics)}"
            if self.review_metrics
            else "not listed"
        )
        lines = [
            f"## `{self.name}`: {self.title}",
            "",
            f"- Citation: {self.citation} doi:{self.doi}",
            f"- Input: `{self.input}`",
            f"- Task: {self.task}",
            f"- Cohort: {self.cohort}",
            f"- MRI sequences: {', '.join(self.sequences)}",
            f"- Reported metrics: {figures(self.reported_metrics)}",
            f"- Source of the reported metrics: {self.reported_source or 'none'}",
            f"- Review (Table 1 of Voigtlaender et al. 2025): {review}",
            f"- radsarc pipeline: {steps}",
            f"- Grid: `{dict(self.param_grid)}`",
            "- Departures from the paper:",
            *[f"  - {d}" for d in self.departures],
        ]
        return "\n".join(lines) + "\n"

    def make(self, **overrides: Any) -> Pipeline:
        """Build the unfitted pipeline, with ``set_params`` overrides.

        Parameters
        ----------
        **overrides
            ``set_params`` keys of the pipeline, e.g. ``classifier__n_estimators=50``.
            A step may be replaced by an estimator or, as in
            :func:`~radsarc.model.make_pipeline`, by a registry name:
            ``classifier="rf"`` (:func:`~radsarc.model.make_classifier`),
            ``sampler="adasyn"`` (:func:`~radsarc.model.make_sampler`; added
            before the classifier when the preset has none, ``"none"`` removes
            it), ``selector="mrmr"`` or any selection step, e.g. ``lasso="mrmr"``
            (:func:`~radsarc.model.make_selector`; a ``"selector"`` step is added
            before the sampler and classifier when the preset has none). Step
            parameters given with it apply to the new step
            (``classifier="rf", classifier__n_estimators=50``).

        Returns
        -------
        pipeline : imblearn.pipeline.Pipeline
            Unfitted; the last step is ``"classifier"``.
        """
        pipeline = self.builder()
        named = {k: v for k, v in overrides.items() if isinstance(v, str)}
        named = {k: v for k, v in named.items() if "__" not in k and v != "passthrough"}
        if named:
            pipeline = _replace_steps(pipeline, named, self.name)
            overrides = {k: v for k, v in overrides.items() if k not in named}
        if overrides:
            valid = pipeline.get_params()
            unknown = sorted(key for key in overrides if key not in valid)
            if unknown:
                raise ValueError(
                    f"Unknown parameter(s) {unknown} for preset {self.name!r}; "
                    f"valid keys include the steps {[n for n, _ in pipeline.steps]} "
                    "and '<step>__<parameter>' (see pipeline.get_params())."
                )
            pipeline.set_params(**overrides)
        return pipeline


def _replace_steps(pipeline: Pipeline, named: dict[str, str], preset: str) -> Pipeline:
    """Steps given by registry name (``classifier="rf"``) built and put in place."""
    steps = list(pipeline.steps)
    names = [n for n, _ in steps]
    for key, value in named.items():
        current = dict(steps).get(key)
        if key == "classifier":
            new = make_classifier(value)
        elif key == "sampler" or hasattr(current, "fit_resample"):
            new = make_sampler(value)
            if new is None:
                new = "passthrough"
        elif key == "selector" or isinstance(current, SelectorMixin):
            if key == "variance":
                raise ValueError(
                    f"The step 'variance' of preset {preset!r} drops constant "
                    "columns and cannot be replaced by name; steps you can name: "
                    f"{[n for n in names if n != 'variance']}."
                )
            new = make_selector(value)
        else:
            raise ValueError(
                f"Step {key!r} of preset {preset!r} cannot be given by a registry "
                f"name ({value!r}); registry names work for 'classifier', "
                "'sampler', 'selector' and the selection steps "
                f"{[n for n, s in steps if isinstance(s, SelectorMixin)]}; pass an "
                "estimator otherwise. Steps: " + str(names) + "."
            )
        if key in names:
            steps[names.index(key)] = (key, new)
            continue
        if key not in ("sampler", "selector"):
            raise ValueError(
                f"Preset {preset!r} has no step {key!r}; its steps are {names}."
            )
        if new == "passthrough":
            continue
        # A new sampler goes just before the classifier; a new selector before
        # the sampler (resampling comes after selection, as in make_pipeline).
        before = "sampler" if key == "selector" and "sampler" in names else "classifier"
        steps.insert(names.index(before), (key, new))
        names = [n for n, _ in steps]
    return Pipeline(steps)


def _gitto2023() -> Pipeline:
    return make_pipeline(
        selector=[
            ("correlation", CorrelationFilter(threshold=0.9)),
            (
                "univariate",
                UnivariateSelector(alpha=0.05, min_features=2, max_features=8),
            ),
        ],
        classifier=RandomForestClassifier(
            n_estimators=100, n_jobs=1, random_state=_SEED
        ),
    )


def _malinauskaite2020() -> Pipeline:
    return make_pipeline(
        classifier=make_svm(kernel="rbf", random_state=_SEED),
    )


def _peeken2019() -> Pipeline:
    # The harmonisation and stability slots come first, while X is still the named
    # feature table: radsarc.harmonisation.ComBat reads the batch column and
    # radsarc.feature_selection.ICCFilter matches features by name.
    pipeline = make_pipeline(
        classifier=LogisticRegression(
            l1_ratio=1.0,
            solver="liblinear",
            C=0.5,
            max_iter=1000,
            random_state=_SEED,
        ),
    )
    slots = [("harmonisation", "passthrough"), ("stability", "passthrough")]
    return Pipeline([*slots, *pipeline.steps])


def _xu2020() -> Pipeline:
    return make_pipeline(
        selector=LassoSelector(C=0.1, min_features=1, random_state=_SEED),
        classifier=RandomForestClassifier(
            n_estimators=100, n_jobs=1, random_state=_SEED
        ),
    )


def _liang2022() -> Pipeline:
    return make_pipeline(
        selector=[
            ("mrmr", MRMRSelector(n_features_to_select=20)),
            ("lasso", LassoSelector(C=0.5, min_features=1, random_state=_SEED)),
        ],
        sampler=AdaptiveSMOTE(k_neighbors=3, random_state=_SEED),
        classifier=make_svm(kernel="rbf", random_state=_SEED),
    )


def _peeken2021() -> Pipeline:
    return make_pipeline(
        selector=CorrelationFilter(threshold=0.9),
        classifier=RandomForestClassifier(
            n_estimators=200, n_jobs=1, random_state=_SEED
        ),
    )


def _blackledge2019() -> Pipeline:
    return make_pipeline(classifier=GaussianNB())


def _vallieres2015() -> Pipeline:
    return make_pipeline(
        selector=MRMRSelector(n_features_to_select=4),
        classifier=BootstrapLogisticRegression(n_bootstrap=25, random_state=_SEED),
    )


def _auto() -> Pipeline:
    # One step, so that "auto" has the shape of every preset (last step
    # "classifier"); the ensemble does its own imputation, scaling and selection.
    return Pipeline([("classifier", AutoEnsemble(random_state=_SEED))])


_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset(
            name="gitto2023",
            title="MRI radiomics-based machine learning for classification of "
            "deep-seated lipoma and atypical lipomatous tumor of the extremities",
            citation="Gitto S, Interlenghi M, Cuocolo R, et al. Radiol Med. "
            "2023;128(8):989-998.",
            doi="10.1007/s11547-023-01657-y",
            task="atypical lipomatous tumour (1) vs deep-seated lipoma (0)",
            cohort="150 patients, 3 sarcoma centres: 114 training-validation (64 "
            "lipoma, 50 ALT), 36 external test (24 lipoma, 12 ALT)",
            sequences=("T1", "T2"),
            reported_metrics={"auc": 0.74, "sensitivity": 0.92, "specificity": 0.33},
            departures=(
                "Features: the paper used its TRACE4 platform on T1 and T2 "
                "segmentations; radsarc uses whatever table it is given "
                "(pyradiomics features).",
                "Selection: the paper kept 8 features after its platform's "
                "reproducibility and statistical filters; radsarc drops one of each "
                "pair with |r| > 0.9 (keeping the more relevant) and keeps at most "
                "the 8 features with the smallest Benjamini-Hochberg Mann-Whitney "
                "q-values <= 0.05 (at least 2, so that a split never runs out of "
                "features).",
                "Classifier: 100 trees (n_jobs=1) with a 2-point grid on "
                "min_samples_leaf, to keep repeated nested evaluation cheap; the "
                "paper's forest settings were tuned by its platform.",
                "Metrics: the paper's AUC 0.74 is from nested 5-fold CV on the "
                "training-validation cohort; its sensitivity and specificity are "
                "from the external test cohort.",
            ),
            param_grid={"classifier__min_samples_leaf": [1, 3]},
            builder=_gitto2023,
            reported_source=f"{REVIEW} (the same figures as the paper: AUC from "
            "nested 5-fold cross-validation on the training-validation cohort, "
            "sensitivity and specificity on the external test cohort)",
            review_metrics={"auc": 0.74, "sensitivity": 0.92, "specificity": 0.33},
            review_model="RF",
        ),
        Preset(
            name="malinauskaite2020",
            title="Radiomics and machine learning differentiate soft-tissue lipoma "
            "and liposarcoma better than musculoskeletal radiologists",
            citation="Malinauskaite I, Hofmeister J, Burgermeister S, et al. "
            "Sarcoma. 2020;2020:7163453.",
            doi="10.1155/2020/7163453",
            task="liposarcoma (1) vs lipoma (0)",
            cohort="38 tumours (24 lipoma, 14 liposarcoma), one centre, T1-weighted "
            "spin echo at 1.5 and 3 T",
            sequences=("T1",),
            reported_metrics={
                "auc": 0.926,
                "sensitivity": 0.88,
                "specificity": 1.0,
                "accuracy": 0.927,
            },
            departures=(
                "Features: the paper used 86 features (first-order, shape, "
                "texture) from T1; radsarc uses the table it is given, standardised.",
                "Classifier: an SVM as in the paper; kernel and hyper-parameters "
                "are not given in the abstract, so radsarc uses an RBF kernel with "
                "C tuned over [0.1, 1, 10] by inner cross-validation; probabilities "
                "by Platt scaling (3-fold CalibratedClassifierCV).",
                "Validation: the paper used Monte-Carlo cross-validation on 38 "
                "tumours; radsarc leaves validation to radsarc.evaluation.",
            ),
            param_grid={"classifier__estimator__C": [0.1, 1.0, 10.0]},
            builder=_malinauskaite2020,
            reported_source=f"{REVIEW} (best model: SVM; 38 tumours, Monte-Carlo "
            "cross-validation)",
            review_metrics={
                "auc": 0.926,
                "sensitivity": 0.88,
                "specificity": 1.0,
                "accuracy": 0.927,
            },
            review_model="SVM",
        ),
        Preset(
            name="peeken2019",
            title="Tumor grading of soft tissue sarcomas using MRI-based radiomics",
            citation="Peeken JC, Spraker MB, Knebel C, et al. EBioMedicine. "
            "2019;48:332-340.",
            doi="10.1016/j.ebiom.2019.08.059",
            task="high grade, FNCLCC G2/G3 (1) vs low grade G1 (0)",
            cohort="225 patients, 2 centres: 122 training, 103 independent validation",
            sequences=("T1FSGd", "T2FS"),
            reported_metrics={
                "auc": 0.84,
                "sensitivity": 0.90,
                "specificity": 0.5,
                "accuracy": 0.83,
            },
            departures=(
                "Stability: the paper excluded features unstable over 21 "
                "independent segmentations (ICC); the pipeline's 'stability' step is "
                "empty until set, e.g. make_preset('peeken2019', "
                "stability=ICCFilter(icc=robustness_icc(...))) (docs/robustness.md).",
                "Harmonisation: the paper assessed ComBat; the pipeline's first "
                "step 'harmonisation' is empty until set, e.g. "
                "harmonisation=ComBat(batch_column='group'), and X then needs the "
                "centre of every case in that column (docs/harmonisation.md).",
                "Model: LASSO logistic regression with the penalty chosen by inner "
                "cross-validation, as in the paper; radsarc tunes C over "
                "[0.1, 0.5, 1.0] (liblinear, default C=0.5) instead of the full "
                "glmnet path; smaller C (e.g. 0.05) often leaves every "
                "coefficient at zero on a small training part.",
                "Metrics: the review lists AUC 0.84, sensitivity 0.90, specificity "
                "0.5, accuracy 0.83; the paper's abstract gives AUC 0.78 (T2FS), "
                "0.69 (T1FSGd), 0.76 (combined) on the validation cohort.",
            ),
            param_grid={"classifier__C": [0.1, 0.5, 1.0]},
            builder=_peeken2019,
            reported_source=f"{REVIEW} ('Radiomics combined LASSO-based'); the "
            "paper's abstract gives AUC 0.78 (T2FS), 0.69 (T1FSGd) and 0.76 "
            "(combined) on its independent validation cohort (103 patients)",
            review_metrics={
                "auc": 0.84,
                "sensitivity": 0.90,
                "specificity": 0.5,
                "accuracy": 0.83,
            },
            review_model="Radiomics combined LASSO-based",
        ),
        Preset(
            name="xu2020",
            title="Soft tissue sarcoma: preoperative MRI-based radiomics and "
            "machine learning may be accurate predictors of histopathologic grade",
            citation="Xu W, Hao D, Hou F, Zhang D, Wang H. AJR Am J Roentgenol. "
            "2020;215(4):963-969.",
            doi="10.2214/AJR.19.22147",
            task="high grade, grade 3 (1) vs low grade, grades 1 and 2 (0)",
            cohort="105 patients (the review's Table 1): a primary set of 70 "
            "tumours (35 low grade, 35 high grade) for training and a separate "
            "validation set",
            sequences=("T1", "T2FS"),
            reported_metrics={
                "auc": 0.922,
                "sensitivity": 0.882,
                "specificity": 0.944,
                "accuracy": 0.9143,
            },
            departures=(
                "Selection: LASSO as in the paper, here L1 logistic regression with "
                "C tuned over [0.1, 0.5] (the paper's penalty choice is not stated "
                "in the material available to us).",
                "Classifier: random forest as in the paper, 100 trees (n_jobs=1) "
                "to keep repeated nested evaluation cheap.",
                "Sequences: T1-weighted and fat-suppressed T2-weighted images, as "
                "the paper's abstract states (the review's Table 1 lists no "
                "sequences); radsarc uses the table it is given.",
            ),
            param_grid={"selector__C": [0.1, 0.5]},
            builder=_xu2020,
            reported_source=f"{REVIEW}, the same figures as the paper's abstract "
            "for LASSO + random forest on its validation set (AUC 0.9216, "
            "accuracy 91.43 %, sensitivity 88.24 %, specificity 94.44 %)",
            review_metrics={
                "auc": 0.922,
                "sensitivity": 0.882,
                "specificity": 0.944,
                "accuracy": 0.9143,
            },
            review_model="LASSO + RF",
        ),
        Preset(
            name="liang2022",
            title="Deep learning radiomics nomogram to predict lung metastasis in "
            "soft-tissue sarcoma: a multi-center study",
            citation="Liang H-Y, Yang S-F, Zou H-M, et al. Front Oncol. "
            "2022;12:897676.",
            doi="10.3389/fonc.2022.897676",
            task="lung metastasis (1) vs none (0)",
            cohort="242 patients in the paper, multi-centre: 116 training, 126 "
            "external validation (the review's Table 1 gives n = 351)",
            sequences=("T1", "T2FS"),
            reported_metrics={"auc": 0.799},
            departures=(
                "Scope: the paper's best model is a nomogram combining deep "
                "features (ResNet34), clinical predictors and the radiomics "
                "signature mRMR -> LASSO -> SMOTE -> SVM; radsarc reproduces only "
                "that radiomics signature. Its own AUC in the paper is 0.799 "
                "(external validation); the review's AUC 0.833, sensitivity "
                "0.474, specificity 0.972 and accuracy 0.897 are the deep "
                "learning radiomics nomogram's (deep + clinical + radiomics), not "
                "this pipeline's.",
                "mRMR keeps 20 features (F-test correlation quotient), then LASSO "
                "(L1 logistic regression, C tuned over [0.1, 0.5]); the paper's "
                "exact counts and penalty are not restated here.",
                "SMOTE uses k_neighbors=3 (not 5) so that it runs on the small "
                "minority class of a training split; it resamples only while "
                "fitting.",
                "SVM: RBF kernel with C tuned over [1, 10]; probabilities by Platt "
                "scaling (3-fold CalibratedClassifierCV, since SVC(probability=True) "
                "is deprecated in scikit-learn 1.9).",
            ),
            param_grid={
                "lasso__C": [0.1, 0.5],
                "classifier__estimator__C": [1.0, 10.0],
            },
            builder=_liang2022,
            reported_source="the paper's abstract: the radiomics model "
            "(mRMR + LASSO + SVM + SMOTE) alone, external validation set (126 "
            f"patients). {REVIEW} lists AUC 0.833 for the deep learning radiomics "
            "nomogram (DLRN: ResNet34 deep features + clinical predictors + this "
            "signature), which radsarc does not build",
            review_metrics={
                "auc": 0.833,
                "sensitivity": 0.474,
                "specificity": 0.972,
                "accuracy": 0.897,
            },
            review_model="DLRN based on ResNet 34 in combination with mRMR "
            "+LASSO +SVM+SMOTE",
        ),
        Preset(
            name="peeken2021",
            title="MRI-based delta-radiomics predicts pathologic complete response "
            "in high-grade soft-tissue sarcoma patients treated with neoadjuvant "
            "therapy",
            citation="Peeken JC, Asadpour R, Specht K, et al. Radiother Oncol. "
            "2021;164:73-82.",
            doi="10.1016/j.radonc.2021.08.023",
            task="pathological complete response, < 5 % viable cells (1) vs none "
            "(0), from delta-radiomic features",
            cohort="156 patients with high-grade soft-tissue sarcoma of the "
            "extremities and trunk, 2 institutions: 103 training, 53 external test",
            sequences=("T1FSGd", "T2FS"),
            reported_metrics={"auc": 0.75},
            departures=(
                "Input: the table of delta-radiomic features of both sequences, "
                "made by radsarc.features.delta_features from one extraction per "
                "patient and timepoint; the paper subtracted pre- from "
                "post-therapy features (kind='absolute'), radsarc's default is the "
                "relative change.",
                "Feature reduction: the paper's reduction steps are not restated "
                "here; radsarc drops one of each pair with |r| > 0.9 (keeping the "
                "more relevant) before the forest.",
                "Model: a random forest of 200 trees (n_jobs=1) with a 2-point grid "
                "on min_samples_leaf; the paper compared several learners in 100 "
                "iterations of 3-fold nested cross-validation.",
                "Metrics: AUC 0.75 is the paper's combined (T1FSGd + T2FS) "
                "delta-radiomic model on the external test cohort; its T2FS model "
                "had the most balanced classification (balanced accuracy 0.69).",
            ),
            param_grid={"classifier__min_samples_leaf": [1, 3]},
            builder=_peeken2021,
            input="delta",
            reported_source="the paper: combined (T1FSGd + T2FS) delta-radiomic "
            f"model on the external test cohort (53 patients). {REVIEW} lists AUC "
            "0.79 for the 'RF-based delta combined' model",
            review_metrics={"auc": 0.79},
            review_model="RF-based delta combined",
        ),
        Preset(
            name="blackledge2019",
            title="Supervised machine-learning enables segmentation and evaluation "
            "of heterogeneous post-treatment changes in multi-parametric MRI of "
            "soft-tissue sarcoma",
            citation="Blackledge MD, Winfield JM, Miah A, et al. Front Oncol. "
            "2019;9:941.",
            doi="10.3389/fonc.2019.00941",
            task="tissue class of every tumour voxel (multi-class: e.g. viable "
            "tumour, necrosis, fibrosis / treatment change, fat)",
            cohort="18 patients with retroperitoneal sarcoma, multi-parametric MRI; "
            "8 re-imaged 2-4 weeks after pre-operative radiotherapy",
            sequences=("T1", "T1Gd", "DWI/ADC", "Dixon fat fraction"),
            reported_metrics={"accuracy": 0.822},
            departures=(
                "Input: a voxel table from radsarc.features.voxel_features "
                "(intensity, local mean, standard deviation and entropy of every "
                "map in a small window, and with texture_maps= the voxel-based "
                "texture maps of radsarc maps), one row per voxel; evaluate it "
                "leave one patient out with "
                "radsarc.evaluation.leave_one_patient_out, not with the "
                "case-level evaluate().",
                "Model: Gaussian naive Bayes, the method the paper kept for its "
                "speed among five with similar accuracy; the Markov random field "
                "smoothing of the paper's final label maps is not included.",
                "Classes: the paper had five tissue sub-types defined by expert "
                "regions of interest; radsarc takes whatever labels it is given "
                "(its synthetic phantom has four).",
                "Metrics: 0.822 is the paper's median cross-validated voxel "
                "accuracy of its five best classifiers; the review's Table 1 "
                "names RF as the best model with accuracy 0.981, while radsarc "
                "follows the paper's choice of naive Bayes.",
            ),
            param_grid={"classifier__var_smoothing": [1e-9, 1e-3]},
            builder=_blackledge2019,
            input="voxels",
            reported_source="the paper: median cross-validated voxel accuracy of "
            f"its five best classifiers (naive Bayes, the model radsarc builds, "
            f"among them). {REVIEW} lists RF with accuracy 0.981",
            review_metrics={"accuracy": 0.981},
            review_model="RF",
        ),
        Preset(
            name="vallieres2015",
            title="A radiomics model from joint FDG-PET and MRI texture features "
            "for the prediction of lung metastases in soft-tissue sarcomas of the "
            "extremities",
            citation="Vallieres M, Freeman CR, Skamene SR, El Naqa I. Phys Med "
            "Biol. 2015;60(14):5471-5496.",
            doi="10.1088/0031-9155/60/14/5471",
            task="lung metastasis (1) vs none (0)",
            cohort="51 patients with soft-tissue sarcoma of the extremities (TCIA "
            "Soft-tissue-Sarcoma collection), 19 with lung metastases",
            sequences=("FDG-PET", "T1", "T2FS"),
            reported_metrics={},
            departures=(
                "Imaging: the paper's best model used texture features of fused "
                "FDG-PET/MRI volumes (wavelet fusion) and six extraction "
                "parameters; radsarc uses the MRI feature table it is given.",
                "Feature-set reduction: the paper ranked features by a gain "
                "combining Spearman correlation with the outcome and "
                "intercorrelation, over imbalance-adjusted bootstrap samples; "
                "radsarc uses mRMR (F-test correlation quotient), a close "
                "relevance-minus-redundancy criterion.",
                "Model order: the paper chose 1-10 features by .632+ bootstrap AUC; "
                "radsarc tunes the number of features over [2, 4, 6] by inner "
                "cross-validation.",
                "Model: logistic regression with coefficients averaged over "
                "imbalance-adjusted bootstrap samples, as in the paper, with 25 "
                "bootstrap samples (the paper used 1000) and a mild L2 penalty "
                "(C=1) that keeps coefficients finite on separable samples.",
                "Metrics: not in the review's Table 1; the paper reports "
                "bootstrap (.632+) estimates for its final PET/MRI model, which are "
                "not comparable to split-sample figures and are not copied here.",
            ),
            param_grid={"selector__n_features_to_select": [2, 4, 6]},
            builder=_vallieres2015,
            reported_source="none: the paper is not in the review's Table 1 and "
            "its .632+ bootstrap estimates are not comparable",
        ),
        Preset(
            name="auto",
            title="radsarc's automatic ensemble of the presets and of "
            "low-dimensional baselines, built by ensemble selection inside each "
            "training part",
            citation="Caruana R, Niculescu-Mizil A, Crew G, Ksikes A. Ensemble "
            "selection from libraries of models. Proc. 21st ICML, 2004:18.",
            doi="10.1145/1015330.1015432",
            task="any binary outcome of a case-level radiomics table",
            cohort="none: a model-building rule, not a published signature",
            sequences=("any",),
            reported_metrics={},
            departures=(
                "Not a published radiomics pipeline: radsarc.model.AutoEnsemble "
                "scores a library (every tabular preset at every point of its "
                "grid; tumour volume alone; shape features; the k best univariate "
                "features with L2 logistic regression, k in 1, 3, 5, 10; strongly "
                "penalised L1 logistic regression; an elastic net on the 100 best "
                "univariate features; a forest on 10 mRMR features) by 5-fold "
                "cross-validation inside the training "
                "data, and averages the probabilities of the members chosen by "
                "ensemble selection (Caruana et al. 2004, 2006) from its sorted "
                "initialisation: by default 7 picks, the candidates within one "
                "standard error of the best inner out-of-fold AUC, completed by "
                "greedy picks with replacement when fewer than 7 "
                "(hill-climbing and bagging are options); the members are "
                "refitted on all the training data.",
                "Tuning is internal (the grids of the presets are candidates of "
                "the library), so the preset has no param_grid of its own.",
                "Figures measured on WORC's splits are in docs/presets.md.",
            ),
            param_grid={},
            builder=_auto,
        ),
    ]
}


def list_presets(input: str | None = None) -> list[str]:
    """Names of the available presets, sorted.

    Parameters
    ----------
    input : {"features", "delta", "voxels"} or None, default=None
        Only the presets whose rows are of this kind (see :class:`Preset`);
        ``"features"`` gives the tabular presets that run on a case-level feature
        table such as the WORC tables. None: every preset.

    Returns
    -------
    names : list of str
        E.g. ``["blackledge2019", "gitto2023", ...]``.

    Examples
    --------
    >>> from radsarc.presets import list_presets
    >>> list_presets()[:3]
    ['auto', 'blackledge2019', 'gitto2023']
    >>> len(list_presets("features")), list_presets("voxels")
    (7, ['blackledge2019'])
    """
    kinds = ("features", "delta", "voxels")
    if input is not None and input not in kinds:
        raise ValueError(f"input must be one of {list(kinds)} or None; got {input!r}.")
    return sorted(n for n, p in _PRESETS.items() if input in (None, p.input))


def get_preset(name: str) -> Preset:
    """The preset ``name``: its builder, grid and metadata.

    Parameters
    ----------
    name : str
        A name from :func:`list_presets`.

    Returns
    -------
    preset : Preset
        Frozen description of the published pipeline.

    Raises
    ------
    ValueError
        If ``name`` is not a preset; the message lists the known names.

    Examples
    --------
    >>> from radsarc.presets import get_preset
    >>> get_preset("xu2020").reported_metrics["auc"]
    0.922
    """
    if not isinstance(name, str) or name not in _PRESETS:
        close = (
            difflib.get_close_matches(name.lower(), list(_PRESETS), n=1)
            if isinstance(name, str)
            else []
        )
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown preset {name!r}; known presets: {list_presets()}.{hint}"
        )
    return _PRESETS[name]


def make_preset(name: str, **overrides: Any) -> Pipeline:
    """Build the unfitted pipeline of a preset.

    Parameters
    ----------
    name : str
        A name from :func:`list_presets`.
    **overrides
        ``set_params`` keys of the pipeline, e.g. ``classifier__n_estimators=50``.

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline
        Unfitted. The last step is ``"classifier"``; a resampling step, if any,
        is ``"sampler"``.

    Raises
    ------
    ValueError
        For an unknown preset name, an unknown override key or registry name.

    Examples
    --------
    >>> from radsarc.datasets import load_worc_table
    >>> from radsarc.presets import make_preset
    >>> X, y = load_worc_table("Lipo")
    >>> model = make_preset("gitto2023", classifier__n_estimators=20).fit(X, y)
    >>> model.predict_proba(X).shape
    (114, 2)

    Steps by registry name, as :func:`~radsarc.model.make_pipeline` takes them:

    >>> pipe = make_preset("liang2022", classifier="rf", sampler="adasyn")
    >>> type(pipe["classifier"]).__name__, type(pipe["sampler"]).__name__
    ('RandomForestClassifier', 'ADASYN')
    """
    return get_preset(name).make(**overrides)
