"""Shared test fixtures and data locations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
# The read-only data folder beside the repository (present on developers' machines
# and in CI; a user's machine may not have it).
# RADSARC_SHARED_DATA points elsewhere (e.g. from a git worktree).
SHARED_DATA = Path(
    os.environ.get("RADSARC_SHARED_DATA", TESTS.parents[1] / "shared" / "data")
)


def shared_data(*parts: str) -> Path:
    """Path below ../shared/data, skipping the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not present (../shared/data is only on dev machines/CI)"
        )
    return path


PYRADIOMICS_DATA = TEST_DATA / "pyradiomics"


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    """A 6-case synthetic two-sequence cohort on small volumes (fast to extract)."""
    from radsarc.datasets import make_synthetic_cohort

    out = tmp_path_factory.mktemp("synthetic")
    return make_synthetic_cohort(6, out, random_state=7, shape=(10, 48, 48))


def write_image(path, array, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
    """Write a numpy array (z, y, x) as an image file; returns the path."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(array)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    sitk.WriteImage(img, str(path))
    return path


def rewrite_model(src, dst, edit_header=None, pipeline=None, fix_checksum=True):
    """A copy of a model file with an edited header or pipeline; returns ``dst``.

    ``fix_checksum``: recompute the checksums (a careful forger, or a test of
    the checks behind them); otherwise keep the ones recorded at save time.
    """
    import hashlib
    import json
    import zipfile

    with zipfile.ZipFile(src) as archive:
        header = json.loads(archive.read("radsarc-model.json"))
        payload = archive.read("pipeline.skops")
        checksums = json.loads(archive.read("checksums.sha256.json"))
    if pipeline is not None:
        payload = pipeline
    if edit_header:
        edit_header(header)
    if fix_checksum:
        header["pipeline_sha256"] = hashlib.sha256(payload).hexdigest()
    header_bytes = json.dumps(header).encode()
    if fix_checksum:
        checksums = {
            "radsarc-model.json": hashlib.sha256(header_bytes).hexdigest(),
            "pipeline.skops": hashlib.sha256(payload).hexdigest(),
        }
    with zipfile.ZipFile(dst, "w") as archive:
        archive.writestr("radsarc-model.json", header_bytes)
        archive.writestr("pipeline.skops", payload)
        archive.writestr("checksums.sha256.json", json.dumps(checksums))
    return dst


FIT_PARAMS = {
    "featureClass": {"firstorder": None, "shape": None},
    "setting": {"binWidth": 25},
}


@pytest.fixture(scope="session")
def fitted_model(tmp_path_factory):
    """``radsarc fit`` of peeken2019 on a 12-case synthetic cohort, as a user runs it.

    Returns ``(model_path, cohort, params_path)``.
    """
    import yaml
    from click.testing import CliRunner

    from radsarc.cli import main
    from radsarc.datasets import make_synthetic_cohort

    root = tmp_path_factory.mktemp("fitted")
    cohort = make_synthetic_cohort(
        12, root / "train", random_state=3, shape=(8, 40, 40)
    )
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(FIT_PARAMS), encoding="utf-8")
    model = root / "model.radsarc"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            cohort.source,
            "--preset",
            "peeken2019",
            "--params",
            str(params),
            "--cv",
            "3",
            "--out",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    return model, cohort, params


@pytest.fixture(autouse=True)
def _keep_the_c_locale():
    """Put the C locale back after each test.

    SimpleITK's DICOM writer (GDCM), used by tests that build DICOM series, sets
    the process's C locale to "C" and leaves it so; Python's default text
    encoding then becomes ASCII for every later test (``Path.read_text()`` of a
    report with a non-ASCII character fails). radsarc itself only reads DICOM,
    which leaves the locale as it was (checked).
    """
    import locale

    saved = locale.setlocale(locale.LC_ALL)
    yield
    if locale.setlocale(locale.LC_ALL) != saved:
        locale.setlocale(locale.LC_ALL, saved)


# --- processes (the kill -9 tests) ----------------------------------------------
def descendants(pid: int) -> set[int]:
    """Pids of every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (not a zombie; Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
