"""Voxel classifiers for tissue classification in multiparametric MRI.

Blackledge et al. (2019) compared eight supervised classifiers for labelling
every tumour voxel as one of several tissue types; radsarc offers the common
ones behind one name each, as pipelines of standardisation and classifier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from radsarc.model._factory import _check_params

__all__ = ["VOXEL_CLASSIFIERS", "make_voxel_classifier"]

logger = logging.getLogger(__name__)

# Factories and radsarc defaults, sized for tens of thousands of voxels.
VOXEL_CLASSIFIERS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "nb": (GaussianNB, {}),
    "lda": (LinearDiscriminantAnalysis, {}),
    "lr": (LogisticRegression, {"max_iter": 1000}),
    "knn": (KNeighborsClassifier, {"n_neighbors": 15}),
    "svm": (SVC, {"kernel": "rbf", "C": 1.0}),
    "rf": (
        RandomForestClassifier,
        {"n_estimators": 100, "min_samples_leaf": 3, "n_jobs": 1},
    ),
}


def make_voxel_classifier(name: str = "nb", **params: Any) -> Pipeline:
    """A voxel classifier: standardisation then a named classifier.

    Parameters
    ----------
    name : {"nb", "lda", "lr", "knn", "svm", "rf"}, default="nb"
        Gaussian naive Bayes (the model Blackledge et al. kept for its speed),
        linear discriminant analysis, multinomial logistic regression,
        k-nearest neighbours (15), an RBF support-vector machine, or a random
        forest (100 trees, ``min_samples_leaf=3``).
    **params
        Parameters of the classifier, overriding radsarc's defaults.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"scaler"`` and ``"classifier"``; fit it on voxel rows of
        :func:`radsarc.features.voxel_features`.

    Raises
    ------
    ValueError
        For an unknown name or parameter.

    Examples
    --------
    >>> from radsarc.model import make_voxel_classifier
    >>> make_voxel_classifier("rf", n_estimators=10).named_steps["classifier"]
    RandomForestClassifier(min_samples_leaf=3, n_estimators=10, n_jobs=1)
    """
    if not isinstance(name, str) or name not in VOXEL_CLASSIFIERS:
        raise ValueError(
            f"Unknown voxel classifier {name!r}; expected one of "
            f"{sorted(VOXEL_CLASSIFIERS)}."
        )
    factory, defaults = VOXEL_CLASSIFIERS[name]
    valid = factory().get_params(deep=False)
    _check_params("voxel classifier", name, factory.__name__, valid, params)
    classifier = factory(**{**defaults, **params})
    return Pipeline([("scaler", StandardScaler()), ("classifier", classifier)])
