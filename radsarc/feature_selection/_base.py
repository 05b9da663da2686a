"""What the radsarc selectors share: the fitted mask, the class check, the cap."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted


class _SupportMaskMixin:
    """``_get_support_mask`` of a selector whose ``fit`` stores ``support_``.

    Put it left of :class:`~sklearn.feature_selection.SelectorMixin`, which then
    gives ``transform``, ``get_support`` and ``get_feature_names_out``.
    """

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


def _check_classes(y, name: str) -> np.ndarray:
    """The sorted classes of ``y``; a ValueError naming ``name`` if only one."""
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"{name} needs at least 2 classes in y; got 1 class: {classes.tolist()}."
        )
    return classes


def _keep_best(support: np.ndarray, key: np.ndarray, k: int | None) -> np.ndarray:
    """``support`` cut to its ``k`` features of smallest ``key`` (None: all).

    Ties go to the earlier feature (stable sort).
    """
    if k is None or support.sum() <= k:
        return support
    ranked = np.flatnonzero(support)[np.argsort(key[support], kind="stable")]
    kept = np.zeros_like(support)
    kept[ranked[:k]] = True
    return kept
