"""Leave-one-patient-out voxel classification on the synthetic tissue phantom."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radsarc.datasets import TISSUE_CLASSES, make_synthetic_tissue_phantom
from radsarc.evaluation import (
    compare_voxel_classifiers,
    leave_one_patient_out,
    write_label_maps,
)
from radsarc.features import voxel_features
from radsarc.model import make_voxel_classifier
from radsarc.presets import make_preset


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    cohort = make_synthetic_tissue_phantom(5, out, random_state=3, shape=(4, 32, 32))
    table = voxel_features(cohort, labels="tissue", zscore=("T1", "T2FS"))
    return cohort, table


def test_voxel_table(phantom):
    cohort, table = phantom
    assert list(table.index.names) == ["case_id", "z", "y", "x"]
    assert set(table.index.get_level_values("case_id")) == set(cohort.case_ids)
    assert set(table["label"]) <= {1, 2, 3, 4}
    assert table.shape[1] == 4 * 4 + 1  # 4 maps x (intensity + 3 statistics) + label


def test_lopo_finds_the_tissue_classes(phantom):
    _, table = phantom
    res = leave_one_patient_out(
        make_preset("blackledge2019"), table, class_names=TISSUE_CLASSES
    )
    # Chance is at most the largest class share (< 0.5 here); the phantom's
    # classes overlap but are separable to ~85 %.
    share = table["label"].value_counts(normalize=True).max()
    assert share < 0.5
    assert res.accuracy > 0.75
    assert (res.per_patient["accuracy"] > 0.6).all()
    assert res.per_class.loc[4, "recall"] > 0.95  # fat: bright FF, unmistakable
    assert res.per_class.loc[4, "name"] == "fat"
    mae = (res.fractions["true"] - res.fractions["predicted"]).abs().mean()
    assert mae < 0.08
    assert int(res.confusion.to_numpy().sum()) == len(table)


def test_null_labels_give_chance(phantom):
    _, table = phantom
    rng = np.random.default_rng(0)
    shuffled = table.assign(label=rng.permutation(table["label"].to_numpy()))
    res = leave_one_patient_out(make_voxel_classifier("lda"), shuffled)
    assert res.accuracy < 0.5


def test_compare_and_write_maps(phantom, tmp_path):
    cohort, table = phantom
    summary, results = compare_voxel_classifiers(
        {"nb": make_voxel_classifier("nb"), "lda": make_voxel_classifier("lda")},
        table,
        max_train_voxels=200,
    )
    assert list(summary.columns[:3]) == ["accuracy", "balanced_accuracy", "macro_f1"]
    assert (summary["accuracy"] > 0.75).all()
    pred = results["lda"].predictions["y_pred"]
    paths = write_label_maps(pred, cohort, tmp_path)
    case = cohort.case_ids[1]
    arr = sitk.GetArrayFromImage(sitk.ReadImage(str(paths[case])))
    part = pred.xs(case, level="case_id")
    z, y, x = (part.index.get_level_values(n) for n in ("z", "y", "x"))
    assert (arr[z, y, x] == part.to_numpy()).all()
    assert (arr > 0).sum() == len(part)


def test_lopo_errors(phantom):
    _, table = phantom
    with pytest.raises(TypeError, match="indexed by"):
        leave_one_patient_out(make_voxel_classifier("nb"), table.reset_index())
    with pytest.raises(ValueError, match="at least two patients"):
        leave_one_patient_out(make_voxel_classifier("nb"), table.loc[["TIS-01"]])
    with pytest.raises(ValueError, match="Unknown voxel classifier 'tree'"):
        make_voxel_classifier("tree")
