"""scikit-learn's estimator checks on every public radsarc estimator."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from radsarc.feature_selection import (
    CorrelationFilter,
    LassoSelector,
    MRMRSelector,
    UnivariateSelector,
)
from radsarc.model import BootstrapLogisticRegression

ESTIMATORS = [
    MRMRSelector(n_features_to_select=2),
    MRMRSelector(n_features_to_select=2, relevance="mi", redundancy="mi"),
    LassoSelector(C=1.0, random_state=0),
    CorrelationFilter(threshold=0.9),
    UnivariateSelector(alpha=0.5),
    BootstrapLogisticRegression(n_bootstrap=5, random_state=0),
]


def _expected_failed_checks(estimator):
    # Every check passes; listed here is where a reasoned exception would go.
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
