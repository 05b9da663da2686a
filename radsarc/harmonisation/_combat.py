"""ComBat: empirical-Bayes removal of centre and scanner effects from features."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ComBat"]

logger = logging.getLogger(__name__)

_MAX_ITER = 1000
_TOL = 1e-4  # sva's and neuroCombat's convergence criterion


def _postmean(g_hat, g_bar, n, d_star, t2):
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _postvar(sum2, n, a, b):
    return (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)


def _iterate(z, g_hat, d_hat, g_bar, t2, a, b):
    """Joint posterior of (gamma, delta) for one batch, all features at once.

    ``z`` is the batch's standardised data (n_samples_batch, n_features), NaN for
    missing; returns ``(gamma_star, delta_star, n_iter)``. The stopping rule is
    sva's: the largest relative change of gamma or delta below 1e-4.
    """
    n = np.sum(~np.isnan(z), axis=0)
    g_old, d_old = g_hat.copy(), d_hat.copy()
    for it in range(1, _MAX_ITER + 1):
        g_new = _postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = np.nansum((z - g_new) ** 2, axis=0)
        d_new = _postvar(sum2, n, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = max(
                np.nanmax(np.abs(g_new - g_old) / g_old, initial=0.0),
                np.nanmax(np.abs(d_new - d_old) / d_old, initial=0.0),
            )
        g_old, d_old = g_new, d_new
        if change <= _TOL:
            return g_new, d_new, it
    return g_old, d_old, _MAX_ITER


class ComBat(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Remove batch (centre, scanner) effects from features with ComBat.

    Parametric empirical-Bayes ComBat (Johnson et al. 2007), as in R's
    ``sva::ComBat`` and ``neuroCombat`` with no covariates: each feature is
    standardised by its pooled mean and variance, every batch's location
    (``gamma``) and scale (``delta``) are estimated and shrunk towards priors
    shared by all features of that batch, and the data are mapped back to the
    pooled scale. Fit it on training data only; apply it to new cases of the
    batches it has seen.

    The batch of each row is a column of ``X`` (default ``"group"``, the
    manifest's centre or scanner column), so that the transformer works inside a
    :class:`~imblearn.pipeline.Pipeline`; that column is dropped from the output.

    Parameters
    ----------
    batch_column : str or int, default="group"
        Column of ``X`` holding the batch: a column name (``X`` a DataFrame) or a
        column position.
    mean_only : bool, default=False
        Adjust only the location of each batch, not its scale (sva's
        ``mean.only``). Chosen automatically (with a warning) when a batch has a
        single case, as sva does.
    unseen_batch : {"error", "identity"}, default="error"
        What :meth:`transform` does with a row whose batch was not seen in
        ``fit``: raise a ``ValueError`` naming it, or leave the row unchanged.

    Attributes
    ----------
    batches_ : ndarray of shape (n_batches,)
        The batch levels seen in ``fit``, sorted.
    batch_counts_ : ndarray of shape (n_batches,)
        Training cases per batch.
    grand_mean_ : ndarray of shape (n_features_out,)
        Pooled mean of each feature.
    var_pooled_ : ndarray of shape (n_features_out,)
        Pooled within-batch variance of each feature (divisor n, as sva).
    gamma_star_, delta_star_ : ndarray of shape (n_batches, n_features_out)
        Empirical-Bayes location and scale of each batch on the standardised
        scale.
    constant_ : ndarray of shape (n_features_out,)
        Features with no within-batch variance (constant in each batch,
        or fewer than two values): they are passed through unchanged and take no
        part in the priors.
    mean_only_ : bool
        Whether only locations were adjusted.
    n_iter_ : ndarray of shape (n_batches,)
        Iterations of the posterior fixed point per batch.
    n_features_in_ : int
        Number of columns of ``X`` in ``fit``, the batch column included.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X`` in ``fit``, when ``X`` has string column names.

    See Also
    --------
    radsarc.feature_selection.ICCFilter : Keeps features robust to segmentation.

    Notes
    -----
    Missing values (NaN) are ignored when estimating and stay NaN. Covariates
    (e.g. the outcome) are not modelled: the outcome is unknown for new patients,
    and a batch strongly confounded with the outcome will lose signal.
    Unlike neuroCombat 0.2.12, a feature of zero pooled variance is left unchanged
    (neuroCombat replaces its variance by ``median(var != 0)``, i.e. 1).

    References
    ----------
    Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray expression
    data using empirical Bayes methods. Biostatistics. 2007;8(1):118-127.

    Fortin J-P, Cullen N, Sheline YI, et al. Harmonization of cortical thickness
    measurements across scanners and sites. NeuroImage. 2018;167:104-120.

    Examples
    --------
    >>> import pandas as pd
    >>> from radsarc.harmonisation import ComBat
    >>> X = pd.DataFrame({"f": [1.0, 2.0, 3.0, 11.0, 12.0, 13.0],
    ...                   "group": ["A", "A", "A", "B", "B", "B"]})
    >>> ComBat().fit_transform(X)["f"].round(2).tolist()
    [6.18, 7.0, 7.82, 6.18, 7.0, 7.82]
    """

    _parameter_constraints: dict = {
        "batch_column": [str, Interval(Integral, None, None, closed="neither")],
        "mean_only": ["boolean"],
        "unseen_batch": [StrOptions({"error", "identity"})],
    }

    def __init__(self, *, batch_column="group", mean_only=False, unseen_batch="error"):
        self.batch_column = batch_column
        self.mean_only = mean_only
        self.unseen_batch = unseen_batch

    # -- input ----------------------------------------------------------------
    def _split(self, X, *, reset):
        """(features as float array, batch values, feature names or None)."""
        is_frame = isinstance(X, pd.DataFrame)
        if isinstance(self.batch_column, str) and not is_frame:
            raise TypeError(
                f"ComBat(batch_column={self.batch_column!r}) takes the batch from "
                f"the column {self.batch_column!r} of a DataFrame X; got "
                f"{type(X).__name__}. Pass a DataFrame, or a column position."
            )
        if reset and is_frame and isinstance(self.batch_column, str):
            if self.batch_column not in X.columns:
                raise ValueError(
                    f"X has no batch column {self.batch_column!r}; ComBat takes each "
                    "case's centre or scanner from it. Columns: "
                    f"{list(X.columns[:8])}{' ...' if X.shape[1] > 8 else ''}."
                )
        values = validate_data(
            self, X, dtype=None, ensure_all_finite=False, reset=reset
        )
        values = np.asarray(values, dtype=object if values.dtype == object else None)
        if isinstance(self.batch_column, str):
            position = list(self.feature_names_in_).index(self.batch_column)
        else:
            position = self.batch_column
            if not -values.shape[1] <= position < values.shape[1]:
                raise ValueError(
                    f"batch_column={position} is not a column of X, which has "
                    f"{values.shape[1]} column(s)."
                )
            position %= values.shape[1]
        if values.shape[1] < 2:
            raise ValueError(
                f"X has {values.shape[1]} feature(s) (columns); ComBat needs the "
                "batch column and at least one feature."
            )
        batch = values[:, position]
        rest = np.delete(values, position, axis=1)
        names = (
            np.delete(np.asarray(self.feature_names_in_, dtype=object), position)
            if hasattr(self, "feature_names_in_")
            else None
        )
        try:
            data = rest.astype(np.float64)
        except (TypeError, ValueError):
            bad = [
                str(names[j]) if names is not None else f"x{j}"
                for j in range(rest.shape[1])
                if pd.to_numeric(pd.Series(rest[:, j]), errors="coerce").isna().sum()
                > pd.isna(pd.Series(rest[:, j])).sum()
            ]
            raise ValueError(
                f"ComBat harmonises numeric features; columns {bad[:5]} hold "
                "non-numeric values (only the batch column may)."
            ) from None
        if np.isinf(data).any():
            col = int(np.flatnonzero(np.isinf(data).any(axis=0))[0])
            raise ValueError(
                f"Feature {names[col] if names is not None else col!r} holds an "
                "infinite value; ComBat needs finite values (NaN is allowed)."
            )
        missing = pd.isna(pd.Series(batch, dtype=object)).to_numpy()
        if missing.any():
            rows = np.flatnonzero(missing)[:5].tolist()
            where = list(X.index[rows]) if is_frame else [f"row {r}" for r in rows]
            raise ValueError(
                f"Cases {where} have no batch in column {self.batch_column!r}; "
                "ComBat needs the centre or scanner of every case."
            )
        return data, batch, names, position

    # -- fit ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate the pooled scale and each batch's location and scale.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in)
            Features and the batch column.
        y : None
            Ignored.

        Returns
        -------
        self : ComBat
            The fitted transformer.
        """
        data, batch, _, position = self._split(X, reset=True)
        self._position = position
        levels, codes, counts = np.unique(
            batch.astype(str), return_inverse=True, return_counts=True
        )
        if levels.size < 2:
            raise ValueError(
                f"ComBat needs at least 2 batches in column {self.batch_column!r}; "
                f"got only {[str(v) for v in levels]} ({data.shape[0]} sample(s))."
            )
        n_batch, n_features = levels.size, data.shape[1]
        onehot = codes[None, :] == np.arange(n_batch)[:, None]

        grand_mean = np.nanmean(data, axis=0) if data.size else np.zeros(0)
        batch_mean = np.vstack([np.nanmean(data[m], axis=0) for m in onehot])
        resid = data - batch_mean[codes]
        var_pooled = np.nanmean(resid**2, axis=0)
        constant = ~(var_pooled > 0)
        scale = np.where(constant, 1.0, np.sqrt(np.where(constant, 1.0, var_pooled)))
        z = (data - grand_mean) / scale

        mean_only = bool(self.mean_only)
        if not mean_only and counts.min() < 2:
            warnings.warn(
                f"Batch {str(levels[counts.argmin()])!r} has a single case; adjusting "
                "only the batch means (mean_only), as sva's ComBat does.",
                UserWarning,
                stacklevel=2,
            )
            mean_only = True

        gamma_hat = np.vstack([np.nanmean(z[m], axis=0) for m in onehot])
        if mean_only:
            delta_hat = np.ones_like(gamma_hat)
        else:
            delta_hat = np.vstack(
                [
                    np.nanvar(z[m], axis=0, ddof=1)
                    if m.sum() > 1
                    else np.full(n_features, np.nan)
                    for m in onehot
                ]
            )
        usable = ~constant & np.isfinite(gamma_hat).all(axis=0)
        # sva/neuroCombat: a zero within-batch variance is taken as 1.
        delta_hat = np.where((delta_hat == 0) | ~np.isfinite(delta_hat), 1.0, delta_hat)
        gamma_hat = np.where(np.isfinite(gamma_hat), gamma_hat, 0.0)

        gamma_star = np.zeros((n_batch, n_features))
        delta_star = np.ones((n_batch, n_features))
        n_iter = np.zeros(n_batch, dtype=int)
        if usable.sum() >= 2:
            g, d = gamma_hat[:, usable], delta_hat[:, usable]
            g_bar = g.mean(axis=1)
            t2 = g.var(axis=1, ddof=1)
            for i, m in enumerate(onehot):
                if mean_only:
                    gamma_star[i, usable] = _postmean(g[i], g_bar[i], 1.0, 1.0, t2[i])
                    continue
                m_d, s2 = d[i].mean(), d[i].var(ddof=1)
                if not s2 > 0:
                    # No spread of the batch's scales across features: no prior to
                    # shrink towards; keep the per-feature estimates.
                    gamma_star[i, usable] = g[i]
                    delta_star[i, usable] = d[i]
                    continue
                a = (2 * s2 + m_d**2) / s2
                b = (m_d * s2 + m_d**3) / s2
                gs, ds, n_iter[i] = _iterate(
                    z[m][:, usable], g[i], d[i], g_bar[i], t2[i], a, b
                )
                gamma_star[i, usable] = gs
                delta_star[i, usable] = ds
        elif usable.any():
            # A single usable feature gives no prior: plain location/scale.
            gamma_star[:, usable] = gamma_hat[:, usable]
            if not mean_only:
                delta_star[:, usable] = delta_hat[:, usable]

        self.batches_ = np.array([str(v) for v in levels], dtype=object)
        self.batch_counts_ = counts
        self.grand_mean_ = np.where(np.isfinite(grand_mean), grand_mean, 0.0)
        self.var_pooled_ = np.where(constant, 0.0, var_pooled)
        self.gamma_star_ = gamma_star
        self.delta_star_ = delta_star
        self.constant_ = constant
        self.mean_only_ = mean_only
        self.n_iter_ = n_iter
        logger.debug(
            "ComBat fitted on %d batches, %d features (%d constant)",
            n_batch,
            n_features,
            int(constant.sum()),
        )
        return self

    def transform(self, X):
        """Harmonise features of cases from batches seen in ``fit``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in)
            Features and the batch column, as in ``fit``.

        Returns
        -------
        X_out : DataFrame or ndarray of shape (n_samples, n_features_in - 1)
            Harmonised features without the batch column; a DataFrame (same
            index) when ``X`` is one.
        """
        check_is_fitted(self)
        data, batch, names, _ = self._split(X, reset=False)
        known = {str(level): i for i, level in enumerate(self.batches_)}
        labels = [str(v) for v in batch]
        unseen = sorted(set(labels) - set(known))
        if unseen and self.unseen_batch == "error":
            raise ValueError(
                f"Batch(es) {unseen} in column {self.batch_column!r} were not seen "
                f"when ComBat was fitted (seen: {list(known)}); ComBat cannot "
                "harmonise a centre it has no estimate for. Refit with cases of that "
                "centre, or use unseen_batch='identity' to leave them unchanged."
            )
        idx = np.array([known.get(v, -1) for v in labels], dtype=int)
        gamma = np.vstack([self.gamma_star_, np.zeros(data.shape[1])])[idx]
        delta = np.vstack([self.delta_star_, np.ones(data.shape[1])])[idx]
        scale = np.sqrt(np.where(self.constant_, 1.0, self.var_pooled_))
        z = (data - self.grand_mean_) / scale
        out = (z - gamma) / np.sqrt(delta) * scale + self.grand_mean_
        out[:, self.constant_] = data[:, self.constant_]
        out[idx < 0] = data[idx < 0]
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=list(names))
        return out

    def get_feature_names_out(self, input_features=None):
        """The input feature names without the batch column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names (default: ``feature_names_in_`` or
            ``x0, x1, ...``).

        Returns
        -------
        feature_names_out : ndarray of str
        """
        names = super().get_feature_names_out(input_features)
        return np.delete(names, self._position)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags
