"""The treatment-response, tissue-phantom and survival generators hold their truth."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from radsarc.datasets import (
    make_synthetic_cohort,
    make_synthetic_response_cohort,
    make_synthetic_survival,
    make_synthetic_tissue_phantom,
)
from radsarc.evaluation import concordance_index


def test_response_cohort_truth_and_determinism(tmp_path):
    kwargs = {"random_state": 4, "shape": (8, 40, 40), "responder_fraction": 0.5}
    cohort = make_synthetic_response_cohort(16, tmp_path / "a", **kwargs)
    make_synthetic_response_cohort(16, tmp_path / "b", **kwargs)
    for case in cohort.case_ids[:4]:
        for name in ("T1.nii.gz", "mask.nii.gz"):
            assert filecmp.cmp(
                tmp_path / "a" / case / name, tmp_path / "b" / case / name, False
            )
    clinical = cohort.clinical()
    assert len(cohort) == 32
    assert (
        clinical.groupby("patient_id")["timepoint"].apply(sorted)
        == [["post", "pre"]] * 16
    ).all()
    truth = pd.read_csv(tmp_path / "a" / "truth.csv")
    wide = truth.pivot(index="patient_id", columns="timepoint", values="volume_ml")
    label = clinical.groupby("patient_id")["label"].first().loc[wide.index]
    ratio = wide["post"] / wide["pre"]
    assert ratio[label == 1].mean() < 0.6
    assert ratio[label == 0].mean() > 0.7
    # Baseline volumes do not depend on the response.
    pre = wide["pre"]
    assert abs(np.log(pre[label == 1].mean() / pre[label == 0].mean())) < 0.5
    nec = truth[truth.timepoint == "post"].set_index("patient_id")
    assert (
        nec.loc[label[label == 1].index, "necrosis_fraction"].mean()
        > 2 * nec.loc[label[label == 0].index, "necrosis_fraction"].mean()
    )


def test_tissue_phantom_classes(tmp_path):
    cohort = make_synthetic_tissue_phantom(3, tmp_path, random_state=0)
    truth = pd.read_csv(tmp_path / "truth.csv").set_index("case_id")
    assert cohort.sequences == ("ADC", "FF", "T1", "T2FS")
    assert np.allclose(truth.sum(axis=1), 1.0, atol=1e-3)
    with pytest.raises(ValueError, match="n_patients must be an integer >= 2"):
        make_synthetic_tissue_phantom(1, tmp_path)


def test_survival_outcomes_follow_the_truth(tmp_path):
    cohort = make_synthetic_cohort(60, tmp_path, random_state=0, shape=(8, 40, 40))
    out = make_synthetic_survival(cohort, random_state=0, return_truth=True)
    assert list(out.columns) == ["time", "event", "linear_predictor"]
    assert (out["time"] > 0).all()
    assert (out["time"] <= 60).all()
    assert 0.3 < out["event"].mean() < 0.95
    c = concordance_index(out["time"], out["event"], out["linear_predictor"])
    assert c > 0.7
