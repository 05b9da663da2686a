"""Clinical + radiomics models: a radiomics score fitted inside the pipeline.

The radiomics nomograms of the sarcoma literature (e.g. Liang et al. 2022,
"Model C+R") reduce the radiomic features to one radiomics score, the linear
predictor of a LASSO logistic model, and combine it with clinical covariates in
a logistic model drawn as a nomogram. :class:`RadiomicsScore` computes the score
as a transformer, so that in cross-validation it is fitted on the training rows
of each split only. See ``docs/nomogram.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RadiomicsScore", "make_nomogram_models"]

logger = logging.getLogger(__name__)

SCORE_NAME = "rad_score"


def _resolve(columns, names, n_features: int, what: str) -> list[int]:
    """Column names or integer positions -> sorted-as-given integer positions."""
    out = []
    for col in columns:
        if isinstance(col, Integral) and not isinstance(col, bool):
            if not 0 <= col < n_features:
                raise ValueError(
                    f"{what} position {col} is out of range for {n_features} features."
                )
            out.append(int(col))
        elif isinstance(col, str):
            if names is None:
                raise ValueError(
                    f"{what} are given by name ({col!r}) but X has no column names; "
                    "pass a DataFrame or integer positions."
                )
            where = np.flatnonzero(names == col)
            if where.size == 0:
                raise ValueError(f"{what} {col!r} is not a column of X.")
            out.append(int(where[0]))
        else:
            raise TypeError(
                f"{what} must be column names or integer positions; got {col!r}."
            )
    if len(set(out)) != len(out):
        raise ValueError(f"{what} repeat a column: {list(columns)}.")
    return out


class RadiomicsScore(TransformerMixin, BaseEstimator):
    """Radiomics score: the linear predictor of a LASSO logistic model.

    Fits an L1-penalised logistic regression on the standardised radiomic
    columns and replaces them by one column, ``rad_score`` (the log-odds it
    predicts), keeping the ``passthrough`` (clinical) columns beside it. As a
    pipeline step it learns the score from the training rows only.

    Parameters
    ----------
    columns : list of str or int, or None, default=None
        The radiomic columns (names for a DataFrame, or positions). None: every
        column not in ``passthrough``.
    passthrough : list of str or int, or None, default=None
        Columns passed on unchanged before the score (e.g. clinical covariates).
    C : float, default=0.1
        Inverse L1 penalty strength of the score's model; used when ``cv`` is
        None.
    cv : int or None, default=None
        When set, ``C`` is chosen among ``Cs`` by ``cv``-fold cross-validated
        AUC within the rows given to ``fit``.
    Cs : int or list of float, default=10
        Candidate ``C`` values for ``cv`` (an int: a log grid from 1e-4 to 1e4).
    class_weight : dict, "balanced" or None, default=None
        Class weights of the score's model.
    max_iter : int, default=1000
        Solver iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the liblinear solver and of the ``cross_fit`` folds (the ``cv``
        folds are not shuffled).
    cross_fit : int or None, default=5
        In ``fit_transform`` (what a Pipeline calls while fitting), score each
        training row with a model fitted on the other ``cross_fit`` - 1 folds of
        the training rows (same ``C_``), so that the step after it (the combined
        logistic model) learns the weight of an honest, not an in-sample, score.
        ``transform`` (test and new rows) always uses the model fitted on every
        training row. None: in-sample scores in ``fit_transform`` too.

    Attributes
    ----------
    radiomics_columns_ : ndarray of int
        Positions of the radiomic columns.
    passthrough_columns_ : ndarray of int
        Positions of the passthrough columns.
    scaler_ : StandardScaler
        Standardisation of the radiomic columns.
    estimator_ : LogisticRegression or LogisticRegressionCV
        The score's model.
    C_ : float
        The penalty used.
    coef_ : ndarray of shape (n_radiomics,)
        Weights of the standardised radiomic features (zero: not selected).
    intercept_ : float
        Intercept of the score.
    classes_ : ndarray of shape (2,)
        The labels; the score is the log-odds of ``classes_[1]``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    make_nomogram_models : clinical, radiomics and combined models.
    radsarc.feature_selection.LassoSelector : LASSO as a selector.

    Notes
    -----
    A score precomputed on the whole cohort and added as a column leaks the
    test labels into every split; this transformer avoids that. Within the
    training rows, an in-sample LASSO score is over-confident, and a logistic
    model stacked on it over-weights it; ``cross_fit`` gives the stacked model
    out-of-fold scores instead, as scikit-learn's ``TargetEncoder`` does.

    References
    ----------
    Liang H-Y, Yang S-F, Zou H-M, et al. Deep learning radiomics nomogram to
    predict lung metastasis in soft-tissue sarcoma: a multi-center study. Front
    Oncol. 2022;12:897676.

    Examples
    --------
    >>> import numpy as np
    >>> from radsarc.model import RadiomicsScore
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0)
    >>> score = RadiomicsScore(columns=[0, 1, 2, 3], passthrough=[4]).fit(X, y)
    >>> score.transform(X).shape, score.get_feature_names_out().tolist()
    ((60, 2), ['x4', 'rad_score'])
    """

    _parameter_constraints: dict = {
        "columns": ["array-like", None],
        "passthrough": ["array-like", None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "cross_fit": [Interval(Integral, 2, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        columns: Sequence | None = None,
        passthrough: Sequence | None = None,
        C: float = 0.1,
        cv: int | None = None,
        Cs: int | Sequence[float] = 10,
        class_weight: dict | str | None = None,
        max_iter: int = 1000,
        random_state=None,
        cross_fit: int | None = 5,
    ):
        self.columns = columns
        self.passthrough = passthrough
        self.C = C
        self.cv = cv
        self.Cs = Cs
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state
        self.cross_fit = cross_fit

    def _solver_params(self) -> dict:
        """Settings of the L1 logistic regression other than ``C``.

        The same for the model of ``fit`` and the out-of-fold models of
        ``fit_transform``.
        """
        return {
            "solver": "liblinear",
            "class_weight": self.class_weight,
            "max_iter": self.max_iter,
            "random_state": self.random_state,
        }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the scaler and the LASSO score on (training) rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary labels.

        Returns
        -------
        self : RadiomicsScore
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise ValueError(
                "RadiomicsScore needs a binary target; got "
                f"{self.classes_.size} classes {self.classes_.tolist()[:5]}."
            )
        names = getattr(self, "feature_names_in_", None)
        n = X.shape[1]
        keep = _resolve(self.passthrough or [], names, n, "passthrough columns")
        if self.columns is None:
            rad = [i for i in range(n) if i not in set(keep)]
        else:
            rad = _resolve(self.columns, names, n, "radiomics columns")
        overlap = sorted(set(rad) & set(keep))
        if overlap:
            raise ValueError(
                f"Columns at positions {overlap} are both radiomics columns and "
                "passthrough columns."
            )
        if not rad:
            raise ValueError("RadiomicsScore needs at least one radiomics column.")
        self.radiomics_columns_ = np.asarray(rad, dtype=int)
        self.passthrough_columns_ = np.asarray(keep, dtype=int)
        self.scaler_ = StandardScaler().fit(X[:, self.radiomics_columns_])
        Z = self.scaler_.transform(X[:, self.radiomics_columns_])
        common = self._solver_params()
        if self.cv is None:
            model = LogisticRegression(l1_ratio=1.0, C=self.C, **common)
        else:
            model = LogisticRegressionCV(
                Cs=self.Cs,
                cv=self.cv,
                l1_ratios=(1.0,),
                scoring="roc_auc",
                use_legacy_attributes=False,
                **common,
            )
        self.estimator_ = model.fit(Z, y)
        self.C_ = float(np.ravel(getattr(model, "C_", self.C))[0])
        self.coef_ = model.coef_.ravel().copy()
        self.intercept_ = float(np.ravel(model.intercept_)[0])
        logger.debug(
            "radiomics score: %d of %d features, C=%g",
            int(np.count_nonzero(self.coef_)),
            self.coef_.size,
            self.C_,
        )
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return out-of-fold scores for the training rows.

        With ``cross_fit`` set, each training row's score comes from a model
        fitted (scaler and L1 logistic regression with the fitted ``C_``) on the
        other folds of a stratified ``cross_fit``-fold split; ``transform`` on
        new rows uses the model fitted on all of them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary labels.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_passthrough + 1)
        """
        self.fit(X, y, **fit_params)
        Xv = validate_data(self, X, reset=False, dtype=np.float64)
        y = np.asarray(y)
        counts = np.unique(y, return_counts=True)[1]
        n_folds = min(self.cross_fit or 0, int(counts.min()))
        if n_folds < 2:
            return self.transform(X)
        rad = Xv[:, self.radiomics_columns_]
        score = np.empty(Xv.shape[0])
        folds = StratifiedKFold(
            n_splits=n_folds, shuffle=True, random_state=self.random_state
        )
        for train, held_out in folds.split(rad, y):
            scaler = StandardScaler().fit(rad[train])
            model = LogisticRegression(
                l1_ratio=1.0, C=self.C_, **self._solver_params()
            ).fit(scaler.transform(rad[train]), y[train])
            score[held_out] = model.decision_function(scaler.transform(rad[held_out]))
        return np.column_stack([Xv[:, self.passthrough_columns_], score])

    def transform(self, X):
        """Passthrough columns and the radiomics score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_passthrough + 1)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Z = self.scaler_.transform(X[:, self.radiomics_columns_])
        score = Z @ self.coef_ + self.intercept_
        return np.column_stack([X[:, self.passthrough_columns_], score])

    def get_feature_names_out(self, input_features=None):
        """Names of the passthrough columns and ``"rad_score"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = np.array([f"x{i}" for i in range(self.n_features_in_)])
        input_features = np.asarray(input_features, dtype=object)
        return np.asarray(
            [*input_features[self.passthrough_columns_], SCORE_NAME], dtype=object
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def make_nomogram_models(
    radiomics_columns: Sequence[str],
    clinical_columns: Sequence[str],
    *,
    C: float = 0.1,
    cv: int | None = None,
    random_state: int | None = 0,
) -> dict[str, Pipeline]:
    """The three models of a radiomics nomogram study, unfitted.

    All three take the same table (radiomic and clinical columns) and predict
    the binary outcome with a logistic model:

    - ``"clinical"``: the clinical columns only (standardised, then an almost
      unpenalised logistic regression);
    - ``"radiomics"``: the radiomics score alone (:class:`RadiomicsScore`);
    - ``"combined"``: the clinical columns and the radiomics score, not
      standardised so that the coefficients are per unit of each covariate
      (the nomogram's scales; see :func:`radsarc.report.nomogram_figure`).

    Parameters
    ----------
    radiomics_columns : sequence of str
        Columns of the radiomic features.
    clinical_columns : sequence of str
        Numeric clinical covariates (encode categories as 0/1 first).
    C : float, default=0.1
        Inverse L1 penalty of the radiomics score (ignored with ``cv``).
    cv : int or None, default=None
        Choose the score's ``C`` by inner ``cv``-fold cross-validation.
    random_state : int or None, default=0
        Seed of the score's solver.

    Returns
    -------
    models : dict of str to Pipeline
        Keys ``"clinical"``, ``"radiomics"``, ``"combined"``; the last step of
        each is ``"classifier"``.

    Examples
    --------
    >>> from radsarc.model import make_nomogram_models
    >>> models = make_nomogram_models(["T1_f1", "T1_f2"], ["age"])
    >>> sorted(models), [n for n, _ in models["combined"].steps]
    (['clinical', 'combined', 'radiomics'], ['score', 'classifier'])
    """
    radiomics_columns = list(radiomics_columns)
    clinical_columns = list(clinical_columns)
    if not radiomics_columns or not clinical_columns:
        raise ValueError(
            "make_nomogram_models needs at least one radiomics and one clinical "
            f"column; got {len(radiomics_columns)} and {len(clinical_columns)}."
        )
    overlap = sorted(set(radiomics_columns) & set(clinical_columns))
    if overlap:
        raise ValueError(f"Columns {overlap} are both radiomics and clinical.")

    def score(passthrough):
        return RadiomicsScore(
            columns=radiomics_columns,
            passthrough=passthrough,
            C=C,
            cv=cv,
            random_state=random_state,
        )

    # C=1e4: practically unpenalised, yet finite on separable training splits.
    def logistic():
        return LogisticRegression(C=1e4, max_iter=1000)

    clinical = Pipeline(
        [
            (
                "select",
                ColumnTransformer(
                    [("clinical", "passthrough", clinical_columns)],
                    remainder="drop",
                    verbose_feature_names_out=False,
                ),
            ),
            ("scaler", StandardScaler()),
            ("classifier", logistic()),
        ]
    )
    radiomics = Pipeline([("score", score(None)), ("classifier", logistic())])
    combined = Pipeline(
        [("score", score(clinical_columns)), ("classifier", logistic())]
    )
    return {"clinical": clinical, "radiomics": radiomics, "combined": combined}
