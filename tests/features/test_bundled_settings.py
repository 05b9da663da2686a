"""Parameter files shipped with radsarc are usable by name."""

from __future__ import annotations

import pytest
import yaml

from radsarc.features import ExtractionSettings


def test_mri_settings_by_name_are_the_bundled_file():
    bundled = ExtractionSettings.bundled()
    assert "mri" in bundled
    by_name = ExtractionSettings.coerce("mri")
    assert by_name.digest == ExtractionSettings.from_yaml(bundled["mri"]).digest
    assert ExtractionSettings.coerce("mri.yaml").digest == by_name.digest
    setting = by_name.to_dict()["setting"]
    assert setting["normalize"] is True
    assert setting["binWidth"] == 5


def test_a_file_of_that_name_in_the_folder_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mri").write_text(yaml.safe_dump({"setting": {"binWidth": 7}}))
    assert ExtractionSettings.coerce("mri").to_dict()["setting"]["binWidth"] == 7


def test_unknown_name_lists_the_bundled_settings(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"bundled with radsarc.*\['mri'"):
        ExtractionSettings.coerce("mr")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ExtractionSettings.coerce(tmp_path / "sub" / "mri.yaml")
