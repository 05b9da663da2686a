"""One case over forked processes (radsarc.features._split): same values, clear
errors, and the cohort path unchanged."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

import radsarc.features._extract as extract_module
from radsarc.features import extract_features
from radsarc.features._pyradiomics import Engine, merge_parts
from radsarc.features._split import (
    CostModel,
    cost_model,
    fork_available,
    plan_items,
    run_forked,
)
from radsarc.images import Cohort

linux_only = pytest.mark.skipif(
    not fork_available(), reason="a case is split by forking on Linux only"
)

FILTERED = {
    "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0]}, "Wavelet": {}},
    "featureClass": {
        "firstorder": None,
        "glcm": None,
        "glrlm": None,
        "shape": None,
    },
    "setting": {"additionalInfo": True},
}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A ~3k-voxel irregular ROI in a 12x48x48 volume, written as NRRD."""
    rng = np.random.default_rng(7)
    z, y, x = np.ogrid[:12, :48, :48]
    r = np.sqrt(((z - 6) / 4) ** 2 + ((y - 24) / 15) ** 2 + ((x - 23) / 13) ** 2)
    mask = (r < 1 + 0.1 * np.sin(3 * np.arctan2(y - 24, x - 23))).astype(np.uint8)
    image = (300.0 + 120 * mask + rng.normal(scale=60, size=mask.shape)).astype(
        np.int16
    )
    folder = tmp_path_factory.mktemp("split")
    paths = []
    for array, name in ((image, "image"), (mask, "mask")):
        img = sitk.GetImageFromArray(array)
        img.SetSpacing((0.8, 0.8, 3.0))
        sitk.WriteImage(img, str(folder / f"{name}.nrrd"))
        paths.append(folder / f"{name}.nrrd")
    return paths


def _cohort(case, n=1):
    rows = [(f"c{k}", case[0], case[1]) for k in range(n)]
    return Cohort.from_frame(pd.DataFrame(rows, columns=["case_id", "image", "mask"]))


def test_plan_covers_every_item_once_and_balances_cost(monkeypatch):
    import radsarc.features._split as split

    monkeypatch.setattr(split, "IMPORT_COST", {})
    engine = Engine(FILTERED)
    items = engine.work_items(3)
    # shape + (original, 2 LoG, 8 wavelet) x 3 classes
    assert len(items) == 1 + 11 * 3
    assert items[0] == (-1, "", "shape")
    model = CostModel(unit_seconds={1: 0.3, 2: 0.5}, type_seconds={"Wavelet": 0.4})
    for n in (1, 2, 3):
        plans = plan_items(items, n, model)
        assert len(plans) == n
        flat = [item for plan in plans for item in plan]
        assert sorted(flat) == sorted(items)
        for plan in plans:  # each in the order of the items
            assert plan == sorted(plan, key=items.index)
    loads = [model.load(plan) for plan in plan_items(items, 2, model)]
    assert max(loads) - min(loads) <= 0.1  # the largest item: shape, 0.25 s
    # original features only: 6 classes + shape spread by cost, not count
    model = CostModel()
    plans = plan_items(Engine({}).work_items(3), 2, model)
    classes = [{c for _, _, c in plan} for plan in plans]
    assert classes[0] | classes[1] == {
        "shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"
    }  # fmt: skip
    assert not classes[0] & classes[1]
    # C matrices: the classes, and the discretisation in both processes (both
    # compute classes of the original image); within the cheapest class
    costs = split.CLASS_COST["C"]
    loads = sorted(model.load(plan) for plan in plans)
    assert sum(loads) == pytest.approx(sum(costs.values()) + 2 * split.IMAGE_COST)
    assert loads[1] - loads[0] <= min(costs.values())


def test_costs_scale_with_the_roi_and_count_imports(monkeypatch):
    import radsarc.features._split as split

    items = [(-1, "", "shape"), (0, "Original", "glcm")]
    shape, glcm = (split.CLASS_COST["C"][c] for c in ("shape", "glcm"))
    small = CostModel(split.REFERENCE_VOXELS // 2)
    expected = (glcm + split.IMAGE_COST) / 2
    assert small.load(items[1:]) == pytest.approx(expected, rel=1e-4)
    monkeypatch.setattr(
        split, "IMPORT_COST", {"radsarc_no_such": (0.5, frozenset({"shape"}))}
    )
    expected = shape + 0.5 + glcm + split.IMAGE_COST
    assert CostModel().load(items) == pytest.approx(expected)
    monkeypatch.setattr(split, "IMPORT_COST", {"os": (0.5, frozenset({"shape"}))})
    expected = shape + glcm + split.IMAGE_COST  # imported already
    assert CostModel().load(items) == pytest.approx(expected)


def test_cost_model_of_a_case(case):
    import radsarc.features._split as split

    image, mask = (sitk.ReadImage(str(p)) for p in case)
    engine = Engine(FILTERED)
    model = cost_model(engine, image, mask, 1)
    n_roi = int((sitk.GetArrayViewFromImage(mask) == 1).sum())
    assert model.scale == pytest.approx(n_roi / split.REFERENCE_VOXELS)
    # ~3k voxels: radsarc's C kernels; numba's (without a compiler) would not
    # pay for their load on 3k voxels x 11 images: pyradiomics' C matrices
    from radsarc.features import _matrices

    assert model.compiled == (_matrices.backend() == "c")
    # LoG sigma 1 and 2 (units 1, 2): the box plus 20 sigma, within 12x48x48
    assert set(model.unit_seconds) == {1, 2}
    assert model.unit_seconds[1] <= model.unit_seconds[2]
    assert model.unit_seconds[2] <= split.LOG_SECONDS_PER_VOXEL * 12 * 48 * 48
    assert model.type_seconds["Wavelet"] > 0


def test_a_module_is_loaded_by_one_process_when_that_costs_no_time(monkeypatch):
    import radsarc.features._split as split

    matrices = frozenset({"glcm", "glrlm", "glszm", "gldm", "ngtdm"})
    monkeypatch.setattr(split, "IMPORT_COST", {"radsarc_no_such": (0.4, matrices)})
    items = [(k, "Original", c) for k in range(2) for c in ("glcm", "ngtdm")]
    small = CostModel(1000)  # ~1000 voxels: texture work of a few ms
    plans = plan_items(items, 2, small)
    assert sorted(len(p) for p in plans) == [0, 4]  # 0.4 s once, not twice
    big = CostModel(split.REFERENCE_VOXELS * 40)  # 4 x 4 s of texture work
    plans = plan_items(items, 2, big)
    assert [len(p) for p in plans] == [2, 2]  # loading it twice pays


def test_a_wavelet_decomposition_is_repeated_only_where_that_pays(monkeypatch):
    import radsarc.features._split as split

    monkeypatch.setattr(split, "IMPORT_COST", {})
    model = CostModel(type_seconds={"Wavelet": 0.6})
    original = Engine({}).work_items(3)  # shape + 6 classes: ~0.85 s
    cheap = [(k, "Wavelet", "ngtdm") for k in range(1, 9)]  # 0.6 s + 8 x 0.1
    plans = plan_items(original + cheap, 2, model)
    # a second decomposition (0.6 s) would cost more than it balances
    assert sorted(len([i for i in p if i[1] == "Wavelet"]) for p in plans) == [0, 8]
    # wavelet images alone: splitting them pays, in halves
    plans = plan_items(cheap, 2, model)
    assert [len(p) for p in plans] == [4, 4]


def test_any_partition_of_the_work_items_merges_to_the_whole(case):
    image, mask = (sitk.ReadImage(str(p)) for p in case)
    engine = Engine(FILTERED)
    whole, diagnostics = engine.extract(image, mask, 1)
    items = engine.work_items(3)
    rng = np.random.default_rng(0)
    owner = rng.integers(0, 3, len(items))
    shares = [
        [i for i, o in zip(items, owner, strict=True) if o == k] for k in range(3)
    ]
    parts = [engine.extract_items(image, mask, 1, share) for share in shares]
    merged = merge_parts([blocks for blocks, _ in parts])
    assert list(merged) == list(whole)  # pyradiomics' order
    assert merged == whole  # the same operations: exactly equal
    shape_part = owner[0]
    assert parts[shape_part][1] == diagnostics
    assert all(p[1] == {} for k, p in enumerate(parts) if k != shape_part)


@linux_only
@pytest.mark.parametrize("params", [{}, FILTERED], ids=["original", "filtered"])
def test_forked_split_equals_one_process(case, params, tmp_path, monkeypatch):
    one = extract_features(_cohort(case), params, n_jobs=1, return_result=True)
    forks = []
    real = extract_module._forked_extract

    def spy(*args):
        forks.append(args[-1])
        return real(*args)

    monkeypatch.setattr(extract_module, "_forked_extract", spy)
    two = extract_features(
        _cohort(case), params, n_jobs=2, cache_dir=tmp_path, return_result=True
    )
    assert forks == [2]
    pd.testing.assert_frame_equal(two.features, one.features, check_exact=True)
    pd.testing.assert_frame_equal(two.diagnostics, one.diagnostics, check_exact=True)
    again = extract_features(
        _cohort(case), params, n_jobs=2, cache_dir=tmp_path, return_result=True
    )
    assert again.summary == "extracted: 0 computed, 1 from cache, 0 failed"
    pd.testing.assert_frame_equal(again.features, one.features, check_exact=True)


@linux_only
def test_forked_split_of_several_regions_and_a_multi_label_mask(
    case, tmp_path, monkeypatch
):
    """A peritumoral ring (a second region) and a mask with another label: each
    region is split over the processes; same table and diagnostics."""
    mask = sitk.ReadImage(str(case[1]))
    arr = sitk.GetArrayFromImage(mask)
    arr[0, :2, :2] = 3  # another label, named in the diagnostics
    labelled = sitk.GetImageFromArray(arr)
    labelled.CopyInformation(mask)
    sitk.WriteImage(labelled, str(tmp_path / "mask3.nrrd"))
    cohort = _cohort((case[0], tmp_path / "mask3.nrrd"))
    params = {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}},
        "featureClass": {"firstorder": None, "glszm": None, "shape": None},
        "preprocessing": {"ring": {"thickness_mm": 3}},
    }
    one = extract_features(cohort, params, n_jobs=1, return_result=True)
    forks = []
    real = extract_module._forked_extract
    monkeypatch.setattr(
        extract_module,
        "_forked_extract",
        lambda *args: forks.append(args[-1]) or real(*args),
    )
    two = extract_features(cohort, params, n_jobs=2, return_result=True)
    assert forks == [2, 2]  # the tumour, then the ring
    assert any(c.startswith("ring_original_") for c in one.features.columns)
    pd.testing.assert_frame_equal(two.features, one.features, check_exact=True)
    pd.testing.assert_frame_equal(two.diagnostics, one.diagnostics, check_exact=True)
    assert two.diagnostics["diagnostics_radsarc_OtherMaskLabels"].iloc[0] == "3"


@linux_only
def test_cohorts_and_other_platforms_do_not_fork(case, monkeypatch):
    def refuse(*args):
        raise AssertionError("forked")

    monkeypatch.setattr(extract_module, "_forked_extract", refuse)
    one = extract_features(_cohort(case, 3), FILTERED, n_jobs=1)
    # more cases than processes: one case per process, as before
    two = extract_features(_cohort(case, 3), FILTERED, n_jobs=2)
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert extract_module._fork_processes(3, 2, None) == 1
    assert extract_module._fork_processes(2, 2, None) == 2  # two sequences
    assert extract_module._fork_processes(1, 2, "tcp://host:8786") == 1  # Dask
    # no fork (macOS, Windows): the filtered images over joblib workers
    monkeypatch.setattr(extract_module, "fork_available", lambda: False)
    assert extract_module._fork_processes(1, 2, None) == 1
    split = extract_features(_cohort(case, 1), FILTERED, n_jobs=2)
    pd.testing.assert_frame_equal(split, one.iloc[:1], check_exact=True)


def _die(items):
    os.kill(os.getpid(), signal.SIGKILL)


def _fail(items):
    raise ValueError(f"bad share {len(items)}")


class Unpicklable(Exception):  # noqa: N818 - a test exception
    def __init__(self):
        super().__init__("cannot send me")
        self.handle = lambda: None  # lambdas do not pickle


def _unpicklable():
    raise Unpicklable()


def _children() -> set[int]:
    from tests.conftest import alive, descendants

    return {p for p in descendants(os.getpid()) if alive(p)}


@linux_only
def test_run_forked_returns_results_in_order_and_reports_dead_children():
    assert run_forked(lambda k: (k, os.getpid()), [0, 1, 2])[0] == (0, os.getpid())
    out = run_forked(lambda k: (k, os.getpid()), [0, 1, 2])
    assert [k for k, _ in out] == [0, 1, 2]
    assert len({pid for _, pid in out}) == 3  # two children
    with pytest.raises(ValueError, match="bad share 3"):
        run_forked(lambda s: s if s == [0] else _fail(s), [[0], [1, 2, 3]])
    # an exception that cannot be sent back: its text
    with pytest.raises(RuntimeError, match="Unpicklable: cannot send me"):
        run_forked(lambda s: s if s == [0] else _unpicklable(), [[0], [1]])
    # a child's failure stops the others: none is left running
    before = _children()

    def share(s):
        if s == [1]:
            _fail(s)
        if s == [2]:
            time.sleep(30)
        return s

    start = time.monotonic()
    with pytest.raises(ValueError, match="bad share 1"):
        run_forked(share, [[0], [1], [2]])
    assert time.monotonic() - start < 10
    assert _children() == before
    with pytest.raises(
        RuntimeError,
        match=r"process \(pid \d+\) computing part of the features was killed by "
        r"SIGKILL .* without returning them",
    ):
        run_forked(lambda s: s if s == [0] else _die(s), [[0], [1]])


@linux_only
def test_a_dead_child_fails_its_case_with_a_clear_error(case, monkeypatch):
    real = Engine.extract_items
    parent = os.getpid()

    def dies_in_child(self, *args):
        if os.getpid() != parent:
            _die(args)
        return real(self, *args)

    monkeypatch.setattr(Engine, "extract_items", dies_in_child)
    extract_module._ENGINES.clear()
    try:
        result = extract_features(_cohort(case), {}, n_jobs=2, return_result=True)
    finally:
        extract_module._ENGINES.clear()
    assert result.features.empty
    (error,) = result.errors.to_dict("records")
    assert error["case_id"] == "c0"
    assert error["stage"] == "extract"
    assert error["file"] == str(case[0])
    assert "RuntimeError: the process (pid" in error["message"]
    assert "was killed by SIGKILL" in error["message"]
    assert str(case[1]) in error["message"]  # names the mask too


@linux_only
def test_children_end_with_a_killed_parent():
    """kill -9 of the process that forked: its children end at once."""
    import subprocess
    import time

    from tests.conftest import alive, descendants

    code = (
        "import time\n"
        "from radsarc.features._split import run_forked\n"
        "run_forked(lambda s: time.sleep(60), [0, 1, 2])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 2:
            children = descendants(proc.pid)
            time.sleep(0.05)
        assert len(children) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(map(alive, children)):
            time.sleep(0.05)
        assert not [p for p in children if alive(p)]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize(
    "values",
    [[0, 1], [1, 1], [0, 0], [0, 2], [0, 1, 2, 7], [3, 4], [-1, 0], [0, 70000]],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.float32])
def test_mask_values_equal_numpy_unique(values, dtype):
    from radsarc.images._masks import mask_values

    if np.dtype(dtype).kind == "u" and min(values) < 0:
        pytest.skip("negative values in an unsigned mask")
    if max(values) > np.iinfo(np.int16).max and dtype is np.int16:
        pytest.skip("out of range")
    if max(values) > 255 and dtype is np.uint8:
        pytest.skip("out of range")
    arr = np.array(values * 5, dtype=dtype).reshape(-1, 1)
    got = mask_values(arr)
    assert got.dtype == arr.dtype
    np.testing.assert_array_equal(got, np.unique(arr))


def test_no_cache_reads_no_file_twice_and_imports_no_bar(case, monkeypatch):
    """Without a cache the files are not hashed; a hidden bar is not tqdm."""
    import subprocess

    hashed = []
    real = extract_module.file_digest
    monkeypatch.setattr(
        extract_module, "file_digest", lambda p: hashed.append(p) or real(p)
    )
    extract_features(_cohort(case), {"featureClass": {"firstorder": None}})
    assert hashed == []
    code = (
        "import sys\n"
        "from radsarc._progress import progress_bar\n"
        "with progress_bar(False, total=2, desc='x', unit='case') as bar:\n"
        "    bar.update()\n"
        "    bar.set_postfix_str('y')\n"
        "print('tqdm' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


@linux_only
def test_compiled_kernels_are_loaded_once_before_forking(case, monkeypatch):
    from radsarc.features import _matrices, _native, _pyradiomics

    assert extract_module._load_compiled_matrices()
    kernels = _matrices.kernels()

    def compiled():
        if kernels.name == "c":
            return _native.COMPILATIONS
        names = ("glcm", "glrlm", "glszm", "gldm_ngtdm")
        return {k: list(getattr(kernels, k).signatures) for k in names}

    loaded = compiled()
    if kernels.name == "numba":
        assert all(len(s) == 1 for s in loaded.values())
    # the small case with the compiled matrices (as a large one would be)
    monkeypatch.setattr(_pyradiomics, "COMPILED_MIN_WORK", 1)
    one = extract_features(_cohort(case), FILTERED, n_jobs=1)
    # real data ran the kernels loaded by the warm-up: no new compilation
    assert _matrices.kernels() is kernels
    assert compiled() == loaded
    calls = []
    monkeypatch.setattr(
        extract_module, "_load_compiled_matrices", lambda: calls.append(1) or True
    )
    # numba's load time (here a module not loaded yet) is worth more than this
    # small case's texture work: all of it goes to one process, which alone
    # loads numba; nothing to load beforehand
    import radsarc.features._split as split

    matrices = frozenset({"glcm", "glrlm", "glszm", "gldm", "ngtdm"})
    monkeypatch.setattr(split, "IMPORT_COST", {"radsarc_no_such": (0.4, matrices)})
    extract_features(_cohort(case), FILTERED, n_jobs=2)
    assert calls == []
    monkeypatch.setattr(split, "IMPORT_COST", {})
    two = extract_features(_cohort(case), FILTERED, n_jobs=2)
    assert calls == [1]  # both processes compute texture classes
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    calls.clear()
    extract_features(_cohort(case), {"featureClass": {"glcm": None}}, n_jobs=2)
    assert calls == []  # one image, one texture class: one process needs them
