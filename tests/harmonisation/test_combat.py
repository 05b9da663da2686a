"""ComBat against neuroCombat (the reference Python port of sva::ComBat)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radsarc.harmonisation import ComBat
from radsarc.presets import make_preset

neurocombat = pytest.importorskip("neuroCombat", reason="test extra: neuroCombat")

# neuroCombat computes in float32: agreement to ~1e-6 of the data's scale.
RTOL, ATOL = 1e-5, 1e-5


def _toy(seed=0, n_per=(20, 25, 15), p=12):
    """Features with a per-centre location and scale effect (3 centres)."""
    rng = np.random.default_rng(seed)
    batch = np.repeat(["A", "B", "C"], n_per)
    X = rng.normal(size=(batch.size, p)) * rng.uniform(0.5, 3, p) + rng.uniform(
        -5, 5, p
    )
    shift = {"A": 0.0, "B": 1.5, "C": -1.0}
    scale = {"A": 1.0, "B": 2.0, "C": 0.6}
    X = X * np.array([scale[b] for b in batch])[:, None]
    X = X + np.array([shift[b] for b in batch])[:, None]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(p)])
    frame.index = [f"case{i}" for i in range(batch.size)]
    frame["group"] = batch
    return frame, X, batch


def _reference(X, batch, **kwargs):
    out = neurocombat.neuroCombat(
        pd.DataFrame(X.T), pd.DataFrame({"batch": batch}), "batch", **kwargs
    )
    return out["data"].T, out["estimates"]


@pytest.mark.parametrize("mean_only", [False, True])
def test_matches_neurocombat_on_training_data(mean_only, capsys):
    frame, X, batch = _toy()
    expected, _ = _reference(X, batch, mean_only=mean_only)
    combat = ComBat(mean_only=mean_only).fit(frame)
    out = combat.transform(frame)
    assert list(out.columns) == [f"f{i}" for i in range(12)]
    assert list(out.index) == list(frame.index)
    assert_allclose(out.to_numpy(), expected, rtol=RTOL, atol=ATOL)
    assert combat.n_iter_.max() < 50


def test_new_cases_match_neurocombat_estimates():
    # neuroCombatFromTraining 0.2.12 fails under numpy 2 (int() of an array), so
    # its formula is applied here to neuroCombat's own estimates.
    frame, X, batch = _toy()
    _, est = _reference(X, batch)
    new, X_new, batch_new = _toy(seed=1, n_per=(3, 4, 2))
    rows = np.searchsorted(["A", "B", "C"], batch_new)
    mean, sd = est["stand.mean"][:, :1].T, np.sqrt(est["var.pooled"]).T
    z = (X_new - mean) / sd
    expected = (z - est["gamma.star"][rows]) / np.sqrt(est["delta.star"][rows])
    expected = expected * sd + mean
    out = ComBat().fit(frame).transform(new)
    assert_allclose(out.to_numpy(), expected, rtol=RTOL, atol=ATOL)
    # A training case harmonised again gives the same values as in fit_transform.
    assert_allclose(
        ComBat().fit(frame).transform(frame.iloc[:4]).to_numpy(),
        ComBat().fit_transform(frame).iloc[:4].to_numpy(),
        rtol=1e-12,
    )


def test_fitted_estimates_match_neurocombat():
    frame, X, batch = _toy()
    _, estimates = _reference(X, batch)
    combat = ComBat().fit(frame)
    assert_allclose(combat.gamma_star_, estimates["gamma.star"], rtol=1e-4, atol=1e-6)
    assert_allclose(combat.delta_star_, estimates["delta.star"], rtol=1e-4)
    assert_allclose(combat.var_pooled_, estimates["var.pooled"].ravel(), rtol=1e-5)
    assert combat.batches_.tolist() == ["A", "B", "C"]
    assert combat.batch_counts_.tolist() == [20, 25, 15]


def test_removes_a_batch_effect_hand_checked():
    # Two batches, one feature: no prior to shrink to, so plain location/scale:
    # pooled variance 2/3 (divisor n), each batch's variance 1 (ddof 1), so each
    # batch maps to 7 + (x - batch mean) * sqrt(2/3).
    X = pd.DataFrame({"f": [1.0, 2.0, 3.0, 11.0, 12.0, 13.0], "group": list("AAABBB")})
    out = ComBat().fit_transform(X)["f"].to_numpy()
    step = np.sqrt(2 / 3)
    assert_allclose(out, [7 - step, 7, 7 + step] * 2, rtol=1e-12)


def test_unseen_batch_is_an_error_naming_it_or_left_unchanged():
    frame, _, _ = _toy()
    new = frame.iloc[:3].copy()
    new["group"] = ["A", "Z", "Z"]
    with pytest.raises(ValueError, match=r"\['Z'\] in column 'group' were not seen"):
        ComBat().fit(frame).transform(new)
    out = ComBat(unseen_batch="identity").fit(frame).transform(new)
    assert_allclose(out.iloc[1:].to_numpy(), new.iloc[1:, :-1].to_numpy(), rtol=0)
    assert not np.allclose(out.iloc[0].to_numpy(), new.iloc[0, :-1].to_numpy(float))


def test_constant_features_pass_unchanged_and_leave_the_others_alone():
    frame, _, _ = _toy()
    with_const = frame.assign(
        const=3.5, per_batch=frame["group"].map({"A": 1.0, "B": 2.0, "C": 3.0})
    )
    combat = ComBat().fit(with_const)
    out = combat.transform(with_const)
    assert combat.constant_.tolist() == [False] * 12 + [True, True]
    assert_allclose(out["const"], 3.5, rtol=0)
    assert_allclose(out["per_batch"], with_const["per_batch"], rtol=0)
    # Constant columns take no part in the priors.
    assert_allclose(
        out.iloc[:, :12].to_numpy(),
        ComBat().fit_transform(frame).to_numpy(),
        rtol=1e-12,
    )


def test_missing_values_stay_missing():
    frame, _, _ = _toy()
    frame.iloc[[0, 30], 2] = np.nan
    out = ComBat().fit_transform(frame)
    assert np.isnan(out.iloc[[0, 30], 2]).all()
    assert np.isfinite(out.drop(index=out.index[[0, 30]]).to_numpy()).all()


def test_single_case_batch_falls_back_to_mean_only_with_a_warning():
    frame, _, _ = _toy()
    frame.iloc[0, -1] = "D"
    with pytest.warns(UserWarning, match="Batch 'D' has a single case"):
        combat = ComBat().fit(frame)
    assert combat.mean_only_
    assert_allclose(combat.delta_star_, 1.0)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda f: f.drop(columns="group"),
            ValueError,
            "X has no batch column 'group'",
        ),
        (lambda f: f.to_numpy(), TypeError, "needs|takes the batch from the column"),
        (lambda f: f.assign(group="A"), ValueError, "at least 2 batches"),
        (
            lambda f: f.assign(group=[None] + ["A"] * 29 + ["B"] * 30),
            ValueError,
            r"Cases \['case0'\] have no batch in column 'group'",
        ),
        (
            lambda f: f.assign(f1="high"),
            ValueError,
            r"columns \['f1'\] hold non-numeric",
        ),
        (
            lambda f: f.assign(f3=np.inf),
            ValueError,
            "Feature 'f3' holds an infinite value",
        ),
    ],
    ids=["no-column", "ndarray", "one-batch", "no-batch", "text", "infinite"],
)
def test_clear_errors(make, error, match):
    frame, _, _ = _toy()
    with pytest.raises(error, match=match):
        ComBat().fit(make(frame))


def test_batch_column_by_position_on_arrays():
    frame, X, batch = _toy()
    arr = np.column_stack([np.unique(batch, return_inverse=True)[1], X])
    out = ComBat(batch_column=0).fit_transform(arr)
    expected = ComBat().fit_transform(frame).to_numpy()
    assert_allclose(out, expected, rtol=1e-12)


def test_in_the_peeken2019_preset_with_the_centre_column():
    frame, X, batch = _toy(p=6)
    y = X[:, 0] + np.random.default_rng(3).normal(size=len(X)) > X[:, 0].mean()
    model = make_preset("peeken2019", harmonisation=ComBat())
    model.fit(frame, y.astype(int))
    proba = model.predict_proba(frame.iloc[:5])[:, 1]
    assert proba.shape == (5,)
    assert model.named_steps["harmonisation"].batches_.tolist() == ["A", "B", "C"]
