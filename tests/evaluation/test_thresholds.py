"""Cut-off rules on tiny hand-checked cases."""

import pytest

from radsarc.evaluation import (
    choose_threshold,
    specificity_at_sensitivity_threshold,
    youden_threshold,
)

Y = [0, 0, 0, 1, 1, 1]
S = [0.1, 0.3, 0.6, 0.4, 0.7, 0.9]
# cut-off: (sensitivity, specificity)
#   0.9: (1/3, 1)   0.7: (2/3, 1)   0.6: (2/3, 2/3)   0.4: (1, 2/3)
#   0.3: (1, 1/3)   0.1: (1, 0)
# Youden J: 0.9 -> 1/3, 0.7 -> 2/3, 0.6 -> 1/3, 0.4 -> 2/3 (tie; highest wins).


def test_youden_hand_checked():
    assert youden_threshold(Y, S) == 0.7


def test_specificity_at_sensitivity_hand_checked():
    assert specificity_at_sensitivity_threshold(Y, S, 1.0) == 0.4
    assert specificity_at_sensitivity_threshold(Y, S, 0.6) == 0.7
    assert specificity_at_sensitivity_threshold(Y, S, 0.2) == 0.9


def test_choose_threshold_dispatch():
    assert choose_threshold(Y, S, "youden") == 0.7
    assert choose_threshold(Y, S, "specificity", min_sensitivity=0.9) == 0.4
    assert choose_threshold(Y, S, 0.25) == 0.25


def test_threshold_errors():
    with pytest.raises(ValueError, match="cutoff must be one of"):
        choose_threshold(Y, S, "median")
    with pytest.raises(ValueError, match=r"min_sensitivity must be in \(0, 1\]"):
        specificity_at_sensitivity_threshold(Y, S, 1.5)
    with pytest.raises(ValueError, match="needs both classes"):
        youden_threshold([1, 1], [0.2, 0.3])
