"""``progress=`` means the same everywhere: False, True or None (terminal only)."""

from __future__ import annotations

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from radsarc.evaluation import RepeatedCV, evaluate
from radsarc.features import extract_features


def test_evaluate_progress_bar_goes_to_stderr(capsys):
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    cv = RepeatedCV(n_splits=3, n_repeats=2)
    quiet = evaluate(LogisticRegression(), X, y, cv=cv)
    assert capsys.readouterr() == ("", "")
    shown = evaluate(LogisticRegression(), X, y, cv=cv, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "evaluate LogisticRegression" in captured.err
    assert "/6 [" in captured.err
    assert shown.mean_auc == quiet.mean_auc
    # None: only on a terminal; pytest's stderr is not one.
    evaluate(LogisticRegression(), X, y, cv=cv, progress=None)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["yes", 1, print])
def test_progress_of_another_type_is_refused(bad, small_cohort):
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        evaluate(LogisticRegression(), X, y, progress=bad)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        extract_features(small_cohort, progress=bad)
