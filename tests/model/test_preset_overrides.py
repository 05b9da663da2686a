"""make_preset overrides take registry names, as make_pipeline does."""

from __future__ import annotations

import pytest
from imblearn.over_sampling import ADASYN
from sklearn.ensemble import RandomForestClassifier

from radsarc.feature_selection import MRMRSelector
from radsarc.presets import make_preset


def _names(pipe):
    return [name for name, _ in pipe.steps]


def test_classifier_and_sampler_by_name_replace_the_steps():
    pipe = make_preset("liang2022", classifier="rf", sampler="adasyn")
    assert isinstance(pipe["classifier"], RandomForestClassifier)
    assert pipe["classifier"].n_estimators == 200  # the registry's default
    assert isinstance(pipe["sampler"], ADASYN)
    assert _names(pipe) == _names(make_preset("liang2022"))


def test_step_parameters_apply_to_the_new_step():
    pipe = make_preset("peeken2019", classifier="rf", classifier__n_estimators=30)
    assert isinstance(pipe["classifier"], RandomForestClassifier)
    assert pipe["classifier"].n_estimators == 30


def test_a_sampler_or_selector_is_added_where_make_pipeline_puts_it():
    pipe = make_preset("malinauskaite2020", sampler="smote", selector="mrmr")
    assert _names(pipe) == [
        "imputer", "variance", "scaler", "selector", "sampler", "classifier"
    ]  # fmt: skip
    assert isinstance(pipe["selector"], MRMRSelector)
    removed = make_preset("liang2022", sampler="none")
    assert removed["sampler"] == "passthrough"
    replaced = make_preset("liang2022", mrmr="lasso")
    assert type(replaced["mrmr"]).__name__ == "LassoSelector"


def test_bad_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="Unknown classifier 'forest'"):
        make_preset("xu2020", classifier="forest")
    with pytest.raises(ValueError, match="Unknown sampler 'adasin'.*'adasyn'"):
        make_preset("xu2020", sampler="adasin")
    with pytest.raises(ValueError, match="Step 'scaler' of preset 'xu2020' cannot"):
        make_preset("xu2020", scaler="robust")
    with pytest.raises(ValueError, match="'variance' of preset 'xu2020' drops"):
        make_preset("xu2020", variance="mrmr")
