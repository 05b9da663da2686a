"""Named classifiers, samplers and selectors, and the pipeline builder."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from imblearn.combine import SMOTETomek
from imblearn.over_sampling import ADASYN, BorderlineSMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.svm import SVC

from radsarc.feature_selection import (
    RFE,
    RFECV,
    CorrelationFilter,
    LassoSelector,
    MRMRSelector,
    UnivariateSelector,
    VarianceThreshold,
)
from radsarc.model._bootstrap import BootstrapLogisticRegression
from radsarc.model._factory import _check_params
from radsarc.model._smote import AdaptiveSMOTE

__all__ = [
    "CLASSIFIERS",
    "SAMPLERS",
    "SELECTORS",
    "make_classifier",
    "make_pipeline",
    "make_sampler",
    "make_selector",
    "make_svm",
]

logger = logging.getLogger(__name__)


def make_svm(**params: Any) -> CalibratedClassifierCV:
    """An SVC with Platt-scaled probabilities (``SVC(probability=True)`` is
    deprecated in scikit-learn 1.9): ``CalibratedClassifierCV(SVC(**params),
    method="sigmoid", cv=3, ensemble=False)``. Tune the SVC through
    ``estimator__<parameter>``.
    """
    return CalibratedClassifierCV(SVC(**params), method="sigmoid", cv=3, ensemble=False)


# Each entry: a factory and its radsarc defaults (cheap enough for nested CV on
# two cores; pass parameters to override them).
CLASSIFIERS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "rf": (RandomForestClassifier, {"n_estimators": 200, "n_jobs": 1}),
    "ert": (ExtraTreesClassifier, {"n_estimators": 200, "n_jobs": 1}),
    "svm": (make_svm, {}),
    "lr": (LogisticRegression, {"max_iter": 1000}),
    "lasso_lr": (
        LogisticRegression,
        {"l1_ratio": 1.0, "solver": "liblinear", "max_iter": 1000},
    ),
    "bootstrap_lr": (BootstrapLogisticRegression, {"n_bootstrap": 100}),
    "gbm": (GradientBoostingClassifier, {"n_estimators": 100}),
    "knn": (KNeighborsClassifier, {}),
    "nb": (GaussianNB, {}),
}

SAMPLERS: dict[str, tuple[Callable[..., Any] | None, dict[str, Any]]] = {
    "none": (None, {}),
    "smote": (AdaptiveSMOTE, {}),
    "smotetomek": (SMOTETomek, {}),
    "adasyn": (ADASYN, {}),
    "borderline_smote": (BorderlineSMOTE, {}),
    "undersample": (RandomUnderSampler, {}),
}

SELECTORS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "mrmr": (MRMRSelector, {}),
    "lasso": (LassoSelector, {}),
    "correlation": (CorrelationFilter, {}),
    "univariate": (UnivariateSelector, {}),
    "variance": (VarianceThreshold, {}),
    "rfe": (RFE, {"estimator": LogisticRegression(max_iter=1000)}),
    "rfecv": (RFECV, {"estimator": LogisticRegression(max_iter=1000)}),
}


def _lookup(kind: str, registry: dict, name: str):
    if not isinstance(name, str):
        raise TypeError(
            f"The {kind} name must be a str among {sorted(registry)}; got "
            f"{name!r} of type {type(name).__name__}."
        )
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown {kind} {name!r}; expected one of {sorted(registry)}.{hint}"
        )
    return registry[name]


def _build(kind, registry, name, params):
    factory, defaults = _lookup(kind, registry, name)
    if factory is None:
        if params:
            raise ValueError(
                f"The {kind} 'none' takes no parameters; got {sorted(params)}."
            )
        return None
    if factory is make_svm:
        valid = SVC().get_params(deep=False)
        label = "SVC"
    else:
        valid = factory(**defaults).get_params(deep=False)
        label = factory.__name__
    _check_params(kind, name, label, valid, params)
    return factory(**{**defaults, **params})


def make_classifier(name: str, **params: Any):
    """Build a registered classifier with radsarc's defaults.

    Parameters
    ----------
    name : str
        One of ``"rf"`` (random forest, 200 trees), ``"ert"`` (extremely
        randomised trees, 200 trees), ``"svm"`` (RBF SVC with Platt-scaled
        probabilities, see :func:`make_svm`; ``params`` go to the SVC),
        ``"lr"`` (logistic regression), ``"lasso_lr"`` (L1 logistic regression),
        ``"bootstrap_lr"`` (:class:`BootstrapLogisticRegression`), ``"gbm"``
        (gradient boosting), ``"knn"``, ``"nb"`` (Gaussian naive Bayes).
    **params
        Parameters of the estimator, overriding radsarc's defaults.

    Returns
    -------
    estimator : classifier
        An unfitted scikit-learn classifier.

    Raises
    ------
    ValueError
        For an unknown name or parameter.

    Examples
    --------
    >>> from radsarc.model import make_classifier
    >>> make_classifier("rf", n_estimators=50).n_estimators
    50
    """
    return _build("classifier", CLASSIFIERS, name, params)


def make_sampler(name: str, **params: Any):
    """Build a registered imbalanced-learn sampler.

    Parameters
    ----------
    name : str
        One of ``"smote"``, ``"smotetomek"``, ``"adasyn"``,
        ``"borderline_smote"``, ``"undersample"`` (random under-sampling) or
        ``"none"``.
    **params
        Parameters of the sampler.

    Returns
    -------
    sampler : imblearn sampler or None
        ``None`` for ``"none"``.

    Raises
    ------
    ValueError
        For an unknown name or parameter.

    Examples
    --------
    >>> from radsarc.model import make_sampler
    >>> make_sampler("smote", k_neighbors=3).k_neighbors
    3
    """
    return _build("sampler", SAMPLERS, name, params)


def make_selector(name: str, **params: Any):
    """Build a registered feature selector.

    Parameters
    ----------
    name : str
        One of ``"mrmr"``, ``"lasso"``, ``"correlation"``, ``"univariate"``,
        ``"variance"``, ``"rfe"``, ``"rfecv"`` (the last three are scikit-learn's).
    **params
        Parameters of the selector.

    Returns
    -------
    selector : selector
        An unfitted selector.

    Raises
    ------
    ValueError
        For an unknown name or parameter.

    Examples
    --------
    >>> from radsarc.model import make_selector
    >>> make_selector("mrmr", n_features_to_select=5)
    MRMRSelector(n_features_to_select=5)
    """
    return _build("selector", SELECTORS, name, params)


def _as_step(item, default_name, build):
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[0], str):
            raise TypeError(
                f"A pipeline step given as a tuple must be (name, estimator); got "
                f"{item!r}."
            )
        return item
    if isinstance(item, str):
        return (default_name or item, build(item))
    return (default_name, item)


def make_pipeline(
    *,
    classifier: str | Any = "rf",
    selector: None | str | Any | Sequence = None,
    sampler: None | str | Any = None,
    imputer: str | None = "median",
    scaler: str | None = "standard",
    extra_steps: Sequence[tuple[str, Any]] = (),
    random_state: int | None = None,
) -> Pipeline:
    """Assemble a leak-free radiomics pipeline.

    The steps, in order: ``"imputer"`` (NaN), ``"variance"`` (drops constant
    columns), ``"scaler"``, the ``extra_steps`` (for example a stability filter
    or a harmonisation step), the selector step(s), ``"sampler"`` and
    ``"classifier"``. The result is an :class:`imblearn.pipeline.Pipeline`, so the
    sampler resamples only while fitting, never while predicting.

    Parameters
    ----------
    classifier : str or estimator, default="rf"
        A name for :func:`make_classifier` or any scikit-learn classifier.
    selector : None, str, estimator or list, default=None
        A name for :func:`make_selector`, a selector, or a list of them (applied
        in order). A single selector is the step ``"selector"``; in a list, a name
        gives the step that name, an estimator ``"selector<i>"`` and a
        ``(name, estimator)`` tuple its own name.
    sampler : None, str or sampler, default=None
        A name for :func:`make_sampler` or any imbalanced-learn sampler; the step
        ``"sampler"``.
    imputer : {"median", "mean"} or None, default="median"
        Imputation strategy of :class:`sklearn.impute.SimpleImputer`
        (all-NaN columns become 0 and are then dropped as constant).
    scaler : {"standard", "robust"} or None, default="standard"
        :class:`~sklearn.preprocessing.StandardScaler` or
        :class:`~sklearn.preprocessing.RobustScaler`.
    extra_steps : sequence of (name, estimator), default=()
        Transformers inserted after scaling and before selection. An estimator
        may be ``"passthrough"``, leaving a named slot to fill with ``set_params``.
    random_state : int or None, default=None
        Given to every step that has a ``random_state`` parameter still at None.

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline
        Unfitted; its last step is named ``"classifier"``.

    Examples
    --------
    >>> from radsarc.model import make_pipeline
    >>> pipe = make_pipeline(selector="mrmr", sampler="smote", classifier="svm")
    >>> [name for name, _ in pipe.steps]
    ['imputer', 'variance', 'scaler', 'selector', 'sampler', 'classifier']
    """
    steps: list[tuple[str, Any]] = []
    if imputer is not None:
        if imputer not in ("median", "mean"):
            raise ValueError(
                f"The 'imputer' parameter must be 'median', 'mean' or None; got "
                f"{imputer!r}."
            )
        steps.append(
            ("imputer", SimpleImputer(strategy=imputer, keep_empty_features=True))
        )
    steps.append(("variance", VarianceThreshold()))
    if scaler is not None:
        scalers = {"standard": StandardScaler, "robust": RobustScaler}
        if scaler not in scalers:
            raise ValueError(
                f"The 'scaler' parameter must be 'standard', 'robust' or None; got "
                f"{scaler!r}."
            )
        steps.append(("scaler", scalers[scaler]()))
    steps.extend(_as_step(step, None, None) for step in extra_steps)
    if selector is not None:
        if isinstance(selector, list | tuple) and not (
            isinstance(selector, tuple) and isinstance(selector[0], str)
        ):
            for i, item in enumerate(selector, start=1):
                name = None if isinstance(item, str) else f"selector{i}"
                steps.append(_as_step(item, name, make_selector))
        else:
            steps.append(_as_step(selector, "selector", make_selector))
    if sampler is not None:
        built = make_sampler(sampler) if isinstance(sampler, str) else sampler
        if built is not None:
            steps.append(("sampler", built))
    if isinstance(classifier, str):
        classifier = make_classifier(classifier)
    steps.append(("classifier", classifier))
    names = [name for name, _ in steps]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"Pipeline step names must be unique; repeated: {duplicated}.")
    pipeline = Pipeline(steps)
    if random_state is not None:
        params = pipeline.get_params()
        pipeline.set_params(
            **{
                key: random_state
                for key, value in params.items()
                if key.endswith("__random_state") and value is None
            }
        )
    return pipeline
