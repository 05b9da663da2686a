"""ExtractionSettings: pyradiomics parameter files validated up front."""

from __future__ import annotations

import pytest

from radsarc.exceptions import SettingsError
from radsarc.features import ExtractionSettings
from tests.conftest import PYRADIOMICS_DATA


def test_from_yaml_reads_the_baseline_parameter_file():
    s = ExtractionSettings.from_yaml(
        PYRADIOMICS_DATA / "params" / "baseline_default.yaml"
    )
    assert dict(s.image_types) == {"Original": {}}
    assert s.setting["binWidth"] == 25.0
    assert s.setting["distances"] == (1,)
    assert s.label == 1
    assert set(s.feature_classes) == {
        "firstorder",
        "glcm",
        "gldm",
        "glrlm",
        "glszm",
        "ngtdm",
        "shape",
    }
    assert s.to_dict()["setting"]["distances"] == [1]


def test_defaults_are_pyradiomics_defaults():
    s = ExtractionSettings.coerce(None)
    assert s.to_dict() == {"imageType": {"Original": {}}, "setting": {}}
    assert s.label == 1


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"setting": {"binwidth": 25}},
            r"Unknown setting 'binwidth'\. Did you mean 'binWidth'\?",
        ),
        (
            {"setting": {"resampledPixelSpacng": [1, 1, 1]}},
            r"Unknown setting 'resampledPixelSpacng'\. "
            r"Did you mean 'resampledPixelSpacing'",
        ),
        (
            {"settings": {"binWidth": 25}},
            r"Unknown section 'settings'.*Did you mean 'setting'\?",
        ),
        (
            {"imageType": {"Wavelett": {}}},
            r"Unknown image type 'Wavelett'\. Did you mean 'Wavelet'\?",
        ),
        (
            {"imageType": {"LoG": {"sigmaa": [1.0]}}},
            r"Unknown setting imageType\.LoG\.'sigmaa'\. Did you mean 'sigma'\?",
        ),
        (
            {"featureClass": {"glcmm": None}},
            r"Unknown feature class 'glcmm'\. Did you mean 'glcm'\?",
        ),
        (
            {"featureClass": {"glcm": ["Contrastt"]}},
            r"Unknown feature 'Contrastt' in class 'glcm'\. Did you mean 'Contrast'\?",
        ),
        (
            {"setting": {"binWidth": -1}},
            r"Setting 'binWidth' must be > 0; got -1\.0 instead\.",
        ),
        (
            {"setting": {"binWidth": "25"}},
            r"Setting 'binWidth' must be a number > 0; got '25' instead\.",
        ),
        ({"setting": {"label": 0}}, r"Setting 'label' must be > 0; got 0 instead\."),
        (
            {"setting": {"force2D": "yes"}},
            r"Setting 'force2D' must be true or false; got 'yes' instead\.",
        ),
        (
            {"setting": {"distances": [0]}},
            r"Setting 'distances' must be > 0; got \[0\] instead\.",
        ),
        (
            {"setting": {"resegmentMode": "sigmas"}},
            r"Setting 'resegmentMode' must be among "
            r"\['absolute', 'relative', 'sigma'\]",
        ),
        (
            {"setting": {"interpolator": "sitkBspline"}},
            r"'interpolator' must be one of .* Did you mean 'sitkBSpline'\?",
        ),
        (
            {"setting": {"binWidth": 5, "binCount": 32}},
            r"'binWidth' and 'binCount' are both given",
        ),
        (
            {"setting": {"minimumROIDimensions": 4}},
            r"'minimumROIDimensions' must be in \[1, 3\]; got 4",
        ),
    ],
)
def test_bad_settings_are_rejected_with_the_key_named(params, match):
    with pytest.raises(SettingsError, match=match):
        ExtractionSettings.from_dict(params)


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("setting:\n  binWith: 25\n")
    with pytest.raises(
        SettingsError,
        match=r"In settings file .*params\.yaml: Unknown setting 'binWith'",
    ):
        ExtractionSettings.from_yaml(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("setting: [unclosed\n")
    with pytest.raises(SettingsError, match=r"broken\.yaml is not valid YAML"):
        ExtractionSettings.from_yaml(broken)
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml does not exist"):
        ExtractionSettings.from_yaml(tmp_path / "missing.yaml")


def test_coerce_rejects_other_types():
    with pytest.raises(
        TypeError, match=r"settings must be ExtractionSettings.*got int"
    ):
        ExtractionSettings.coerce(3)


def test_digest_identifies_the_settings():
    a = ExtractionSettings.from_dict({"setting": {"binWidth": 25}})
    b = ExtractionSettings.from_dict({"setting": {"binWidth": 25.0}})
    c = ExtractionSettings.from_dict({"setting": {"binWidth": 10}})
    assert a.digest == b.digest
    assert a.digest != c.digest
    assert len(a.digest) == 64


def test_settings_are_frozen():
    s = ExtractionSettings.from_dict({"setting": {"binWidth": 25}})
    with pytest.raises(TypeError):
        s.setting["binWidth"] = 3
    with pytest.raises(AttributeError):
        s.source = "x"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"setting": {"binWidth": 5, "label": 2, "force2D": True}},
        {
            "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 3.0]}, "Wavelet": {}},
            "featureClass": {"glcm": ["Contrast", "Idm"], "shape": None},
            "setting": {"binCount": 32, "distances": [1, 2], "correctMask": True},
            "voxelSetting": {"kernelRadius": 2, "maskedKernel": False},
        },
        "mri",
        str(PYRADIOMICS_DATA / "params" / "baseline_default.yaml"),
    ],
)
def test_validated_engine_applies_parameters_as_pyradiomics_does(params):
    """The engine skips pyradiomics' pykwalify check of parameters radsarc has
    validated; what it applies is what pyradiomics applies after its check."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from radsarc.features._pyradiomics import Engine

    settings = ExtractionSettings.coerce(params)
    raw = settings.pyradiomics_params()
    reference = RadiomicsFeatureExtractor(raw)
    engine = Engine(raw, validated=True)._extractor
    assert type(engine) is not RadiomicsFeatureExtractor
    assert engine.settings == reference.settings
    assert engine.enabledImagetypes == reference.enabledImagetypes
    assert engine.enabledFeatures == reference.enabledFeatures
