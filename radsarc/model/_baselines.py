"""Baseline models every radiomics result is compared with.

Many published radiomics signatures turn out to be surrogates of tumour size. A
radiomics model is only worth its features if it does better than

* the tumour volume alone (:class:`VolumeBaseline`: the log of the shape
  volume, standardised, in a logistic regression), and
* when clinical covariates are known, the covariates alone
  (:class:`ClinicalBaseline`),

fitted and scored on the very same splits (see :func:`radsarc.evaluation.evaluate`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

__all__ = ["ClinicalBaseline", "VolumeBaseline", "volume_column"]

logger = logging.getLogger(__name__)

#: Tumour-volume feature names, most preferred first. Each pattern matches the
#: whole column name; ``(?P<prefix>...)`` is the sequence/region prefix.
#: pyradiomics (radsarc, radMLBench): ``[<SEQ>_][<region>_]original_shape_*``;
#: MIRP: ``morph_volume`` / ``morph_vol_approx``; WORC/PREDICT: ``sf_volume*``;
#: LIFEx: ``SHAPE_Volume(mL)`` / ``SHAPE_Volume(vx)``; IBSI codes RNU0 (mesh
#: volume) and YEKZ (voxel volume) anywhere in the name.
_VOLUME_PATTERNS = (
    ("MeshVolume", r"(?P<prefix>.*_)?original_shape_MeshVolume"),
    ("VoxelVolume", r"(?P<prefix>.*_)?original_shape_VoxelVolume"),
    ("MIRP mesh volume", r"(?P<prefix>.*_)?morph_volume"),
    ("MIRP voxel volume", r"(?P<prefix>.*_)?morph_vol_approx"),
    # WORC/PREDICT names end in the modality and image index: sf_volume_2D_MR_0.
    ("WORC 3-D volume", r"(?P<prefix>.*_)?sf_volume(_3D)?(_[A-Za-z]+_\d+)?"),
    ("WORC 2-D volume", r"(?P<prefix>.*_)?sf_volume_2D(_[A-Za-z]+_\d+)?"),
    ("LIFEx volume", r"(?P<prefix>.*_)?SHAPE_Volume(\(mL\)|\(ml\))"),
    ("LIFEx voxel count", r"(?P<prefix>.*_)?SHAPE_Volume(\(vx\))?"),
    ("IBSI RNU0", r"(?P<prefix>.*[_.-])?(RNU0|rnu0)([_.-].*)?"),
    ("IBSI YEKZ", r"(?P<prefix>.*[_.-])?(YEKZ|yekz)([_.-].*)?"),
)

#: Region names radsarc's extraction adds besides the tumour (``""``); their
#: volume is not the tumour's.
_OTHER_REGIONS = ("ring", "peritumoral", "body", "background")


def _is_other_region(prefix: str | None) -> bool:
    if not prefix:
        return False
    tokens = prefix.rstrip("_.-").lower().split("_")
    return tokens[-1] in _OTHER_REGIONS


def volume_column(columns: Sequence, column: str | None = None) -> str:
    """The name of the tumour-volume column in a feature table.

    Parameters
    ----------
    columns : sequence of str
        The feature table's column names.
    column : str, default=None
        A column to use instead; it must be in ``columns``.

    Returns
    -------
    name : str
        ``column`` if given; otherwise the shape ``MeshVolume`` (else
        ``VoxelVolume``) of the first sequence and the tumour region, in column
        order: ``T1_original_shape_MeshVolume`` before
        ``T2_original_shape_MeshVolume``, and ``original_shape_MeshVolume`` before
        a peritumoral ``ring_original_shape_MeshVolume``. Tables from other tools
        are recognised too: MIRP (``morph_volume``), WORC/PREDICT
        (``sf_volume``), LIFEx (``SHAPE_Volume(mL)``) and names carrying the
        IBSI code of the volume (RNU0, YEKZ).

    Raises
    ------
    ValueError
        If ``column`` is not a column, or no volume column is found; the message
        lists the columns whose name mentions a volume or a size.

    Examples
    --------
    >>> volume_column(["T1_original_shape_VoxelVolume", "T1_original_shape_MeshVolume",
    ...                "T2_original_shape_MeshVolume"])
    'T1_original_shape_MeshVolume'
    >>> volume_column(["MR_original_shape_MeshVolume", "age"], column="age")
    'age'
    """
    names = [str(c) for c in columns]
    if column is not None:
        if str(column) not in names:
            close = [c for c in names if str(column).lower() in c.lower()][:10]
            hint = f" Columns with a similar name: {close}." if close else ""
            raise ValueError(
                f"The baseline column {column!r} is not in the feature table "
                f"({len(names)} columns).{hint}"
            )
        return str(column)
    for _, pattern in _VOLUME_PATTERNS:
        found = []
        for name in names:
            match = re.fullmatch(pattern, name)
            if match is not None:
                found.append((_is_other_region(match.groupdict().get("prefix")), name))
        if found:
            # The first column that is not another region's; else the first.
            tumour = [name for other, name in found if not other]
            return tumour[0] if tumour else found[0][1]
    candidates = [
        n
        for n in names
        if re.search(r"vol|size|diam|axislength|surface", n, flags=re.IGNORECASE)
    ]
    shown = candidates[:15]
    raise ValueError(
        "No tumour-volume column found: expected pyradiomics' "
        "'[<SEQUENCE>_]original_shape_MeshVolume' (or VoxelVolume), MIRP's "
        "'morph_volume', WORC's 'sf_volume' or LIFEx's 'SHAPE_Volume(mL)'. "
        + (
            f"Columns that may hold a size: {shown}"
            f"{' ...' if len(candidates) > len(shown) else ''}; name one with "
            "--baseline COLUMN (baseline=COLUMN)."
            if candidates
            else "No column name mentions a volume or a size; name the column "
            "with --baseline COLUMN (baseline=COLUMN) or turn the baseline off "
            "with --no-baseline (baseline=False)."
        )
    )


class VolumeBaseline(ClassifierMixin, BaseEstimator):
    """Logistic regression on the log of the tumour volume alone.

    The one-feature model every radiomics signature should beat: the volume
    column is selected, log-transformed, a missing value replaced by the
    training median, standardised, and fed to a logistic regression.

    Parameters
    ----------
    column : str or int, default=None
        The volume column: a name (X must be a DataFrame), a position, or None
        for :func:`volume_column`'s choice among X's column names (a single
        column without names is used as it is).
    log : {"auto", True, False}, default="auto"
        Use ``log(1 + volume)``. Volumes are right-skewed over orders of
        magnitude; the log makes the logistic model a model of relative size.
        For volumes in mm^3 (hundreds to millions) ``log(1 + v)`` is ``log(v)``
        to within 1e-2; the ``1 +`` keeps an empty mask (volume 0) defined.
        ``"auto"`` takes the log unless the training column holds negative
        values, i.e. it was already transformed (the radMLBench copies of the
        WORC tables are z-scored); True refuses negative values.
    C : float, default=1.0
        Inverse L2 penalty of the logistic regression (on the standardised log
        volume, so it hardly matters for one feature).

    Attributes
    ----------
    column_ : str or int
        The column used (its name when X had names).
    column_index_ : int
    log_ : bool
        Whether the log was taken.
    median_ : float
        Training median of the (log) volume, for missing values.
    mean_, scale_ : float
        Standardisation of the (log) volume.
    classifier_ : LogisticRegression
    classes_ : ndarray
    coef_, intercept_ : ndarray
        The logistic regression's, per standardised (log) volume.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X had string column names.

    See Also
    --------
    volume_column : how the column is found.
    ClinicalBaseline : the covariates-only model.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"T1_original_shape_MeshVolume": [1e3, 2e3, 5e4, 8e4],
    ...                   "T1_original_firstorder_Mean": [1.0, 3.0, 2.0, 0.5]})
    >>> model = VolumeBaseline().fit(X, [0, 0, 1, 1])
    >>> model.column_
    'T1_original_shape_MeshVolume'
    >>> bool(model.predict_proba(X)[2, 1] > 0.5)
    True
    """

    _parameter_constraints: dict = {
        "column": [str, Interval(Integral, 0, None, closed="left"), None],
        "log": [StrOptions({"auto"}), "boolean"],
        "C": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self, *, column: str | int | None = None, log: bool | str = "auto", C=1.0
    ):
        self.column = column
        self.log = log
        self.C = C

    def _resolve_column(self) -> tuple[int, str | int]:
        names = getattr(self, "feature_names_in_", None)
        if isinstance(self.column, str):
            if names is None:
                raise ValueError(
                    f"column={self.column!r} names a column, but X has no column "
                    "names; pass a DataFrame or a column position."
                )
            name = volume_column(names, self.column)
            return int(np.flatnonzero(names == name)[0]), name
        if self.column is not None:
            if self.column >= self.n_features_in_:
                raise ValueError(
                    f"column={self.column} is out of range for X with "
                    f"{self.n_features_in_} columns."
                )
            label = names[self.column] if names is not None else self.column
            return int(self.column), label
        if names is not None:
            name = volume_column(names)
            return int(np.flatnonzero(names == name)[0]), name
        if self.n_features_in_ == 1:
            return 0, 0
        raise ValueError(
            f"VolumeBaseline needs column= when X has no column names; X has "
            f"{self.n_features_in_} columns."
        )

    def _volume(self, X: np.ndarray) -> np.ndarray:
        v = X[:, self.column_index_].astype(float)
        if self.log_:
            present = v[~np.isnan(v)]
            if (present < 0).any():
                raise ValueError(
                    f"Negative values in data passed to VolumeBaseline: the volume "
                    f"column {self.column_!r} has {int((present < 0).sum())} "
                    "negative value(s); a volume cannot be negative (pass "
                    "log=False or log='auto' for a column that is already "
                    "transformed)."
                )
            v = np.log1p(v)
        return v

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the logistic regression on the standardised (log) volume.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : VolumeBaseline
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        check_classification_targets(y)
        self.column_index_, self.column_ = self._resolve_column()
        if self.log == "auto":
            self.log_ = not bool((X[:, self.column_index_] < 0).any())
        else:
            self.log_ = bool(self.log)
        v = self._volume(X)
        if np.isnan(v).all():
            raise ValueError(
                f"The volume column {self.column_!r} is missing for every case."
            )
        self.median_ = float(np.nanmedian(v))
        v = np.where(np.isnan(v), self.median_, v)
        self.mean_ = float(v.mean())
        sd = float(v.std())
        self.scale_ = sd if sd > 0 else 1.0
        z = ((v - self.mean_) / self.scale_)[:, None]
        self.classifier_ = LogisticRegression(C=self.C, max_iter=1000).fit(z, y)
        self.classes_ = self.classifier_.classes_
        self.coef_ = self.classifier_.coef_
        self.intercept_ = self.classifier_.intercept_
        return self

    def _z(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        v = self._volume(X)
        v = np.where(np.isnan(v), self.median_, v)
        return ((v - self.mean_) / self.scale_)[:, None]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        Z = self._z(X)
        return self.classifier_.predict_proba(Z)

    def decision_function(self, X) -> np.ndarray:
        """The logistic regression's log-odds (per class when multi-class)."""
        Z = self._z(X)
        return self.classifier_.decision_function(Z)

    def predict(self, X) -> np.ndarray:
        """The most probable class."""
        Z = self._z(X)
        return self.classifier_.predict(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.positive_only = self.log is True
        # One column of X by design: the checks' accuracy bar assumes all of them.
        tags.classifier_tags.poor_score = True
        return tags


def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(
        series
    )


class ClinicalBaseline(ClassifierMixin, BaseEstimator):
    """Logistic regression on clinical covariates alone (no radiomics).

    Numeric covariates: missing values replaced by the training median, then
    standardised. Categorical covariates (non-numeric or boolean DataFrame
    columns, or those named in ``categorical``): missing values replaced by
    the most frequent training value, then one-hot encoded (a category unseen
    in training encodes as all zeros).

    Parameters
    ----------
    columns : list of str or int, default=None
        The covariates to use (names for a DataFrame, or positions); None uses
        every column.
    categorical : list of str or int, default=None
        Covariates to one-hot encode even if numeric (e.g. a grade coded 1-3).
        Non-numeric and boolean DataFrame columns are always categorical.
    C : float, default=1.0
        Inverse L2 penalty of the logistic regression.

    Attributes
    ----------
    columns_ : list
        The covariates used, by name when X had names.
    categorical_ : list
        Those one-hot encoded.
    model_ : Pipeline
        The fitted preprocessing and logistic regression.
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X had string column names.

    See Also
    --------
    VolumeBaseline : the tumour-volume model.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [35, 70, 62, 41, None, 80],
    ...                   "sex": ["F", "M", "M", "F", "F", None]})
    >>> model = ClinicalBaseline().fit(X, [0, 1, 1, 0, 0, 1])
    >>> model.categorical_
    ['sex']
    >>> model.predict_proba(X).shape
    (6, 2)
    """

    _parameter_constraints: dict = {
        "columns": ["array-like", None],
        "categorical": ["array-like", None],
        "C": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, columns=None, categorical=None, C=1.0):
        self.columns = columns
        self.categorical = categorical
        self.C = C

    def _as_frame(self, X, y=None, reset: bool = False):
        if isinstance(X, pd.DataFrame):
            # Mixed-type covariates: record the names and count, keep the dtypes.
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(
                    f"Found array with shape {X.shape}; ClinicalBaseline needs at "
                    "least one sample and one covariate."
                )
            frame = X.copy()
            frame.columns = [str(c) for c in frame.columns]
            if y is not None:
                y = column_or_1d(y, warn=True)
                check_consistent_length(frame, y)
            return frame, y
        if y is None:
            X = validate_data(
                self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
            )
        else:
            X, y = validate_data(
                self, X, y, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
            )
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]), y

    def _pick(self, frame: pd.DataFrame, wanted, what: str) -> list[str]:
        out = []
        for c in wanted:
            if isinstance(c, Integral) and not isinstance(c, bool):
                if not 0 <= c < frame.shape[1]:
                    raise ValueError(
                        f"{what} position {c} is out of range for X with "
                        f"{frame.shape[1]} columns."
                    )
                out.append(frame.columns[c])
            elif str(c) in frame.columns:
                out.append(str(c))
            else:
                raise ValueError(
                    f"{what} {c!r} is not a column of X; columns are "
                    f"{list(frame.columns[:10])}"
                    f"{' ...' if frame.shape[1] > 10 else ''}."
                )
        return out

    def _prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[self.columns_].copy()
        for c in self.categorical_:
            # Categories as strings (1 and "1" are one category), missing as NaN.
            out[c] = pd.Series(
                [np.nan if pd.isna(v) else str(v) for v in out[c]],
                index=out.index,
                dtype=object,
            )
        for c in self.columns_:
            if c not in self.categorical_:
                out[c] = pd.to_numeric(out[c], errors="raise").astype(float)
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the preprocessing and the logistic regression on the covariates.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : ClinicalBaseline
        """
        frame, y = self._as_frame(X, y, reset=True)
        check_classification_targets(y)
        columns = (
            list(frame.columns)
            if self.columns is None
            else self._pick(frame, self.columns, "Covariate")
        )
        forced = (
            []
            if self.categorical is None
            else self._pick(frame, self.categorical, "Categorical covariate")
        )
        categorical = [c for c in columns if c in forced or _is_categorical(frame[c])]
        numeric = [c for c in columns if c not in categorical]
        for c in columns:
            if frame[c].isna().all():
                raise ValueError(f"Covariate {c!r} is missing for every case.")
        transformers = []
        if numeric:
            transformers.append(
                (
                    "numeric",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="median")),
                            ("scale", StandardScaler()),
                        ]
                    ),
                    numeric,
                )
            )
        if categorical:
            transformers.append(
                (
                    "categorical",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="most_frequent")),
                            ("onehot", OneHotEncoder(handle_unknown="ignore")),
                        ]
                    ),
                    categorical,
                )
            )
        self.columns_ = columns
        self.categorical_ = categorical
        self.model_ = Pipeline(
            [
                ("prepare", ColumnTransformer(transformers)),
                ("classifier", LogisticRegression(C=self.C, max_iter=1000)),
            ]
        ).fit(self._prepare(frame), y)
        self.classes_ = self.model_.classes_
        return self

    def _frame(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        frame, _ = self._as_frame(X, reset=False)
        return self._prepare(frame)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        Z = self._frame(X)
        return self.model_.predict_proba(Z)

    def decision_function(self, X) -> np.ndarray:
        """The logistic regression's log-odds (per class when multi-class)."""
        Z = self._frame(X)
        return self.model_.decision_function(Z)

    def predict(self, X) -> np.ndarray:
        """The most probable class."""
        Z = self._frame(X)
        return self.model_.predict(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
