"""Voxel-based texture maps of a cohort: one NIfTI per feature, cached per case."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from radsarc._files import atomic_write
from radsarc._parallel import watch_parent
from radsarc.features._cache import ResultCache, _safe
from radsarc.features._extract import _binning_problem, load_case, named_regions
from radsarc.features._settings import ExtractionSettings
from radsarc.images import Cohort
from radsarc.images._io import file_digest

__all__ = ["MapsResult", "feature_maps", "map_dir"]

logger = logging.getLogger(__name__)

ERROR_COLUMNS = ["case_id", "sequence", "stage", "file", "message"]
FILE_COLUMNS = ["case_id", "column", "path"]
# Bump when the maps of the same inputs would change.
_MAPS_FORMAT = 1
_CACHE_NAME = "maps"


@dataclass
class MapsResult:
    """Everything a :func:`feature_maps` run produced.

    Attributes
    ----------
    files : DataFrame
        One row per written map: ``case_id``, ``column`` (the feature's column
        name in :func:`radsarc.features.extract_features`) and ``path``.
    errors : DataFrame
        One row per failed case and sequence: ``case_id, sequence, stage, file,
        message``. A failed case has no row in ``files``.
    n_computed, n_cached, n_failed : int
        Cases computed in this run, found complete in ``out_dir``, and failed.
    elapsed : float
        Wall time in seconds.
    """

    files: pd.DataFrame
    errors: pd.DataFrame
    n_computed: int = 0
    n_cached: int = 0
    n_failed: int = 0
    elapsed: float = 0.0
    settings: ExtractionSettings = field(default_factory=ExtractionSettings)

    @property
    def summary(self) -> str:
        """One line: ``maps: <n> computed, <m> from cache, <k> failed``."""
        return (
            f"maps: {self.n_computed} computed, {self.n_cached} from cache, "
            f"{self.n_failed} failed"
        )


def map_dir(out_dir: str | os.PathLike, case_id: str) -> Path:
    """The folder of one case's maps: ``out_dir/<case_id>`` (unsafe characters
    of the case id replaced by ``_``)."""
    return Path(out_dir) / _safe(str(case_id))


def _failure(case_id, sequence, stage, message, file="") -> dict:
    return {
        "case_id": case_id,
        "sequence": sequence,
        "stage": stage,
        "file": str(file),
        "message": message,
    }


def _write_nifti(array: np.ndarray, reference: sitk.Image, path: Path) -> None:
    """Write float32 atomically (a run killed meanwhile leaves no partial file)."""
    image = sitk.GetImageFromArray(array.astype(np.float32, copy=False))
    image.CopyInformation(reference)
    with atomic_write(path) as tmp:
        sitk.WriteImage(image, str(tmp), True)


def _lookup(case, sequences, prefix, settings, radius, out_dir):
    """The case's cache key and stored result, or an error: a dict with
    ``key`` and ``hit`` (files and cached=True, or None), or ``errors``."""
    case_id = case.case_id
    try:
        digests = []
        for seq in sequences:
            for kind, path in (("image", case.images[seq]), ("mask", case.masks[seq])):
                if not Path(path).exists():
                    return {
                        "errors": [
                            _failure(
                                case_id,
                                seq,
                                "read",
                                f"{kind} file does not exist",
                                path,
                            )
                        ]
                    }
                digests.append(file_digest(path))
    except OSError as exc:
        return {"errors": [_failure(case_id, "", "read", f"cannot read file: {exc}")]}
    key = hashlib.sha256(
        json.dumps(
            [case_id, sequences, prefix, digests, settings.digest, radius, _MAPS_FORMAT]
        ).encode()
    ).hexdigest()
    hit = ResultCache(out_dir).load(case_id, _CACHE_NAME, key)
    folder = map_dir(out_dir, case_id)
    if hit is not None and all((folder / f).exists() for f in hit["files"].values()):
        return {"key": key, "hit": {"files": hit["files"], "cached": True}}
    return {"key": key, "hit": None}


def _run_case(case, sequences, prefix, settings, radius, out_dir, threads=1):
    """All maps of one case. Never raises for a case-level problem."""
    from radsarc.features._maps_engine import compute_maps

    case_id = case.case_id
    folder = map_dir(out_dir, case_id)
    cache = ResultCache(out_dir)
    found = _lookup(case, sequences, prefix, settings, radius, out_dir)
    if "errors" in found:
        return found
    if found["hit"] is not None:
        return found["hit"]
    key = found["key"]
    files: dict[str, str] = {}
    errors = []
    folder.mkdir(parents=True, exist_ok=True)
    for seq in sequences:
        image_path, mask_path = Path(case.images[seq]), Path(case.masks[seq])
        # The same steps and refusals as extraction (NaN voxels a filter would
        # read; below, a bin width that gives more grey levels than texture
        # matrices can hold), and the same region names.
        image, loaded, problem = load_case(case, seq, image_path, settings)
        if problem is not None:
            errors.append(_failure(case_id, seq, *problem))
            continue
        regions = {}
        try:
            for name, mask in loaded.regions.items():
                regions.update(named_regions(image, name, mask, settings, seq))
        except (ValueError, RuntimeError) as exc:
            errors.append(_failure(case_id, seq, "preprocess", str(exc), image_path))
            continue
        seq_prefix = f"{seq}_" if prefix else ""
        for region, (region_image, region_mask) in regions.items():
            region_prefix = f"{region}_" if region else ""
            too_many = _binning_problem(region_image, region_mask, settings)
            if too_many is not None:
                errors.append(_failure(case_id, seq, "validate", too_many, image_path))
                break
            try:
                maps, reference = compute_maps(
                    region_image,
                    region_mask,
                    settings.pyradiomics_params(),
                    radius,
                    filters=settings.filters,
                    threads=threads,
                )
            except Exception as exc:  # noqa: BLE001 - any engine failure is this case's
                where = f" (region {region!r})" if region else ""
                errors.append(
                    _failure(
                        case_id,
                        seq,
                        "maps",
                        f"texture maps failed on image {image_path} with mask "
                        f"{mask_path}{where}: {type(exc).__name__}: {exc}",
                        image_path,
                    )
                )
                break
            for name, array in maps.items():
                column = seq_prefix + region_prefix + name
                path = folder / f"{_safe(column)}.nii.gz"
                _write_nifti(array, reference, path)
                files[column] = path.name
    if errors:
        return {"errors": errors}
    cache.store(
        case_id,
        _CACHE_NAME,
        key,
        {"case_id": case_id, "kernel_radius": radius, "files": files},
    )
    return {"files": files, "cached": False}


def feature_maps(
    cohort: Cohort | str | os.PathLike,
    settings: ExtractionSettings | dict | str | os.PathLike | None = None,
    out_dir: str | os.PathLike = "maps",
    *,
    kernel_radius: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> MapsResult:
    """Voxel-based texture maps of every case: one NIfTI per feature.

    For each case, ``out_dir/<case_id>/<column>.nii.gz`` holds, on the image's
    grid, the value of feature ``<column>`` computed on the kernel around each
    voxel of the mask, equal to pyradiomics' ``voxelBased`` extraction (within
    1e-6 relative; see ``docs/maps.md``). ``<column>`` is the name
    :func:`radsarc.features.extract_features` gives the feature
    (``original_glcm_Contrast``; ``T1_original_glcm_Contrast`` for a manifest
    with several sequences).

    Parameters
    ----------
    cohort : Cohort or path-like
        The cohort, or the path of its manifest CSV.
    settings : ExtractionSettings, dict, path-like or None, default=None
        pyradiomics parameters, as for extraction; ``voxelSetting`` holds
        ``kernelRadius`` (default 1), ``maskedKernel`` (default true),
        ``initValue`` (value outside the mask, default 0) and ``voxelBatch``.
        Shape features have no maps and are left out.
    out_dir : path-like, default="maps"
        Output folder; also the cache: a case whose maps are complete for the
        same image, mask, settings and kernel radius is not computed again, so
        an interrupted run started again computes only what is missing.
    kernel_radius : int, default=None
        Overrides ``voxelSetting.kernelRadius``.
    n_jobs : int, default=1
        Cores to use (-1: all): cases run in parallel processes (joblib), and
        when there are fewer cases than cores, each case's compiled kernels
        share the rest as threads.
    progress : bool, default=False
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    MapsResult
        The written files, the errors table (one bad case never stops the
        others) and counts.

    Examples
    --------
    >>> from radsarc.features import feature_maps
    >>> result = feature_maps("manifest.csv", "params.yaml", "maps",
    ...                       kernel_radius=1)  # doctest: +SKIP
    >>> result.summary  # doctest: +SKIP
    'maps: 12 computed, 0 from cache, 0 failed'
    """
    start = time.perf_counter()
    if not isinstance(cohort, Cohort):
        cohort = Cohort.from_csv(cohort)
    settings = ExtractionSettings.coerce(settings)
    if settings.engine != "pyradiomics":
        raise ValueError(
            "Texture maps are computed with pyradiomics' definitions; settings with "
            f"'engine: {settings.engine}' are for extract_features only."
        )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer; got {n_jobs!r}.")
    if kernel_radius is not None and (
        isinstance(kernel_radius, bool)
        or not isinstance(kernel_radius, Integral)
        or kernel_radius < 1
    ):
        raise ValueError(
            f"kernel_radius must be a positive integer; got {kernel_radius!r}."
        )
    radius = int(
        kernel_radius
        if kernel_radius is not None
        else settings.voxel_setting.get("kernelRadius", 1)
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sequences = list(cohort.sequences)
    prefix = cohort.multi_sequence
    cases = list(cohort)
    outputs: list[dict | None] = [None] * len(cases)
    # Complete cases are found here, without starting workers.
    for i, case in enumerate(cases):
        found = _lookup(case, sequences, prefix, settings, radius, out_dir)
        if "errors" in found:
            outputs[i] = found
        elif found["hit"] is not None:
            outputs[i] = found["hit"]
    todo = [i for i, out in enumerate(outputs) if out is None]
    # Cases run in parallel processes; the cores left over (fewer cases than
    # n_jobs) go to threads inside each case.
    cores = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    workers = max(1, min(cores, len(todo)))
    threads = max(1, cores // workers)
    jobs = (
        delayed(_indexed)(
            i,
            case,
            sequences,
            prefix,
            settings,
            radius,
            str(out_dir),
            threads,
            os.getpid(),
        )
        for i, case in ((i, cases[i]) for i in todo)
    )
    with tqdm(
        total=len(todo), desc="maps", unit="case", disable=not progress, leave=False
    ) as bar:
        if workers == 1:
            for job in jobs:
                i, out = job[0](*job[1], **job[2])
                outputs[i] = out
                bar.update()
        else:
            runner = Parallel(
                n_jobs=workers, return_as="generator_unordered", batch_size=1
            )
            for i, out in runner(jobs):
                outputs[i] = out
                bar.update()
    files, errors = [], []
    n_computed = n_cached = n_failed = 0
    for case, out in zip(cases, outputs, strict=True):
        if "errors" in out:
            n_failed += 1
            errors.extend(out["errors"])
            continue
        if out["cached"]:
            n_cached += 1
        else:
            n_computed += 1
        folder = map_dir(out_dir, case.case_id)
        for column, name in out["files"].items():
            files.append(
                {"case_id": case.case_id, "column": column, "path": str(folder / name)}
            )
    result = MapsResult(
        files=pd.DataFrame(files, columns=FILE_COLUMNS),
        errors=pd.DataFrame(errors, columns=ERROR_COLUMNS),
        n_computed=n_computed,
        n_cached=n_cached,
        n_failed=n_failed,
        elapsed=time.perf_counter() - start,
        settings=settings,
    )
    logger.info("%s in %.1f s", result.summary, result.elapsed)
    if n_failed:
        failed = ", ".join(result.errors["case_id"].unique()[:10])
        warnings.warn(
            f"{n_failed} case(s) failed and have no maps ({failed}); see the "
            "errors table of the result.",
            stacklevel=2,
        )
    return result


def _indexed(
    i, case, sequences, prefix, settings, radius, out_dir, threads=1, main_pid=None
):
    if main_pid is not None:
        watch_parent(main_pid)  # a worker ends with the process that started it
    return i, _run_case(case, sequences, prefix, settings, radius, out_dir, threads)
