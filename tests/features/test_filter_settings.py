"""The ``filter`` section of the settings: IBSI-2 filtered images as image types."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from numpy.testing import assert_allclose

from radsarc.exceptions import SettingsError
from radsarc.features import ExtractionSettings
from radsarc.features._pyradiomics import Engine
from radsarc.images._filters import ImageFilter

FILTERS = [
    {"name": "mean", "support": 3},
    {
        "name": "laws",
        "kernel": "L5E5E5",
        "energy_distance": 2,
        "rotation_invariance": True,
    },
    {"name": "wavelet", "wavelet": "db2", "subband": "LLH", "boundary": "nearest"},
]
PARAMS = {
    "featureClass": {"firstorder": ["Mean", "Maximum"], "glcm": ["Contrast"]},
    "setting": {"binCount": 8},
    "filter": FILTERS,
}


def _tiny(tmp_path=None):
    rng = np.random.default_rng(5)
    arr = rng.normal(100, 20, size=(12, 20, 22))
    mask = np.zeros(arr.shape, dtype=np.uint8)
    mask[3:9, 5:14, 6:16] = 1
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing((1.0, 1.0, 1.5))
    m = sitk.GetImageFromArray(mask)
    m.CopyInformation(image)
    return image, m, arr, mask.astype(bool)


def test_filter_section_round_trips_and_changes_the_digest(tmp_path):
    s = ExtractionSettings.from_dict(PARAMS)
    assert [f.name for f in s.filters] == ["mean", "laws", "wavelet"]
    assert s.to_full_dict()["filter"][1] == {
        "name": "laws",
        "kernel": "L5E5E5",
        "boundary": "mirror",
        "dimensions": 3,
        "rotation_invariance": True,
        "pooling": "max",
        "energy_distance": 2,
    }
    path = tmp_path / "params.yaml"
    path.write_text(s.to_yaml(), encoding="utf-8")
    again = ExtractionSettings.from_yaml(path)
    assert again.digest == s.digest
    plain = ExtractionSettings.from_dict(
        {k: v for k, v in PARAMS.items() if k != "filter"}
    )
    assert plain.digest != s.digest
    assert "filter" not in s.to_dict()  # not a pyradiomics parameter


def test_pyradiomics_engine_computes_features_of_filtered_images():
    s = ExtractionSettings.from_dict(PARAMS)
    engine = Engine(s.to_dict(), filters=s.filters)
    image, mask, arr, roi = _tiny()
    features, _ = engine.extract(image, mask, 1)
    for f in s.filters:
        name = f.type_name
        assert f"{name}_firstorder_Mean" in features
        assert f"{name}_glcm_Contrast" in features
        response = f(arr, (1.5, 1.0, 1.0))
        assert_allclose(
            features[f"{name}_firstorder_Mean"], response[roi].mean(), rtol=1e-10
        )
        assert_allclose(
            features[f"{name}_firstorder_Maximum"], response[roi].max(), rtol=1e-10
        )
    assert "original_firstorder_Mean" in features
    # the units of extract_part cover the filters too
    assert engine.n_units() == 1 + len(s.filters)
    parts = [engine.extract_part(image, mask, 1, p, 2)[0] for p in range(2)]
    merged = {k: v for blocks in parts for _, d in blocks for k, v in d.items()}
    assert merged == pytest.approx(features)


def test_extract_features_of_a_cohort_with_filters(small_cohort):
    from radsarc.features import extract_features

    params = {
        "featureClass": {"firstorder": ["Mean"]},
        "setting": {"binWidth": 25},
        "filter": [{"name": "log", "sigma": 2.0, "dimensions": 2}],
    }
    table = extract_features(small_cohort, params)
    cols = [
        c for c in table.columns if "ibsi2-log-sigma-2-0-mm-2D_firstorder_Mean" in c
    ]
    assert cols
    assert table[cols].notna().all().all()


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ({"name": "mean"}, "Section 'filter' must be a list of filters"),
        ([{"support": 3}], r"filter\[0\] must be a mapping with 'name'"),
        (
            [{"name": "mean", "support": 3, "bondary": "zero"}],
            r"filter\[0\]: Unknown parameter 'bondary' of filter 'mean'. "
            "Did you mean 'boundary'",
        ),
        ([{"name": "gaussian", "sigma": 1}], r"filter\[0\]: Unknown filter"),
        (
            [
                {"name": "mean", "support": 3},
                {"name": "mean", "support": 3, "boundary": "zero"},
            ],
            r"filter\[1\] gives the same image type 'ibsi2-mean-3-3D' as filter\[0\]",
        ),
    ],
)
def test_bad_filter_sections_are_refused(filters, match):
    with pytest.raises(SettingsError, match=match):
        ExtractionSettings.from_dict({"filter": filters})


def test_bad_filter_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"filter": [{"name": "laws", "kernel": "X5"}]}))
    with pytest.raises(SettingsError, match=r"p\.yaml.*filter\[0\]: Filter 'laws'"):
        ExtractionSettings.from_yaml(path)


def test_filters_in_settings_are_image_filters():
    s = ExtractionSettings(filters=[ImageFilter("mean", {"support": 5})])
    assert s.filters[0].type_name == "ibsi2-mean-5-3D"


def test_a_filter_that_cannot_run_on_a_case_is_that_cases_error(small_cohort):
    from radsarc.features import extract_features

    # 3 mm slices, 1 mm in-plane: a 3D LoG with sigma in mm needs isotropic voxels
    params = {
        "featureClass": {"firstorder": ["Mean"]},
        "filter": [{"name": "log", "sigma": 2.0}],
    }
    result = extract_features(small_cohort, params, return_result=True)
    assert len(result.errors) > 0
    message = result.errors["message"].iloc[0]
    assert "Filter ibsi2-log-sigma-2-0-mm-3D" in message
    assert "isotropic voxels" in message
