"""Shared test fixtures and data locations."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
# The read-only data folder beside the repository (present on developers' machines
# and in CI; a user's machine may not have it).
SHARED_DATA = TESTS.parents[1] / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path below ../shared/data, skipping the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared/data is only on dev machines/CI)")
    return path
