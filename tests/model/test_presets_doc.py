"""docs/presets.md covers every preset and matches the code."""

from pathlib import Path

import pytest

from radsarc.presets import get_preset, list_presets

DOC = Path(__file__).parents[2] / "docs" / "presets.md"


@pytest.mark.parametrize("name", list_presets())
def test_section_equals_the_registry(name):
    text = DOC.read_text(encoding="utf-8")
    assert get_preset(name).to_markdown() in text, (
        f"docs/presets.md is out of date for {name}: paste "
        f"get_preset({name!r}).to_markdown() over its section"
    )
