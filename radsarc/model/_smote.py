"""SMOTE whose neighbourhood shrinks to fit a small training part."""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
from imblearn.over_sampling import SMOTE
from sklearn.neighbors import NearestNeighbors

__all__ = ["AdaptiveSMOTE"]

logger = logging.getLogger(__name__)


class AdaptiveSMOTE(SMOTE):
    """:class:`imblearn.over_sampling.SMOTE` that shrinks ``k_neighbors`` to fit.

    SMOTE interpolates between a minority case and one of its ``k_neighbors``
    nearest minority neighbours, so it needs ``k_neighbors + 1`` cases of every
    class it oversamples; on a small cohort an inner training fold often has
    fewer, and imbalanced-learn's SMOTE then fails. Here ``k_neighbors`` is an
    upper bound: a class with ``m`` cases uses ``min(k_neighbors, m - 1)``
    neighbours (logged, and kept in ``k_neighbors_``). A class with a single
    case cannot be interpolated and is refused with a clear message.

    Parameters
    ----------
    sampling_strategy, random_state, k_neighbors
        As for :class:`imblearn.over_sampling.SMOTE`; ``k_neighbors`` given as
        an estimator is used as it is.

    Attributes
    ----------
    k_neighbors_ : int or None
        Neighbours used in the last ``fit_resample`` (None when
        ``k_neighbors`` is an estimator).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(40, dtype=float).reshape(20, 2)
    >>> y = np.r_[np.zeros(17, int), np.ones(3, int)]
    >>> sampler = AdaptiveSMOTE(k_neighbors=5, random_state=0)
    >>> Xr, yr = sampler.fit_resample(X, y)
    >>> sampler.k_neighbors_, int(yr.sum())
    (2, 17)
    """

    def _fit_resample(self, X, y):
        sizes = [
            int(np.sum(y == label))
            for label, n_new in self.sampling_strategy_.items()
            if n_new > 0
        ]
        self._smallest_class = min(sizes) if sizes else None
        return super()._fit_resample(X, y)

    def _validate_estimator(self):
        super()._validate_estimator()
        smallest = getattr(self, "_smallest_class", None)
        if not isinstance(self.k_neighbors, Integral) or smallest is None:
            self.k_neighbors_ = None
            return
        if smallest < 2:
            raise ValueError(
                f"SMOTE needs at least 2 cases of a class to oversample it; the "
                f"training part has {smallest}. Use fewer folds or no resampling."
            )
        k = min(int(self.k_neighbors), smallest - 1)
        if k < self.k_neighbors:
            logger.info(
                "SMOTE: k_neighbors %d -> %d (the smallest class in this training "
                "part has %d cases)",
                self.k_neighbors,
                k,
                smallest,
            )
            self.nn_k_ = NearestNeighbors(n_neighbors=k + 1)
        self.k_neighbors_ = k
