"""Feature extraction over a cohort: parallel, cached, and never losing a case."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk
from threadpoolctl import threadpool_limits

from radsarc._parallel import parallel_backend, watch_parent
from radsarc._progress import check_progress, progress_bar
from radsarc.exceptions import CacheWarning
from radsarc.features._cache import ResultCache
from radsarc.features._settings import ExtractionSettings
from radsarc.features._split import fork_available
from radsarc.images import Cohort
from radsarc.images._cohort import prepare_case, with_default_roi
from radsarc.images._io import file_digest, file_problem, read_image
from radsarc.images._masks import DEFAULT_GEOMETRY_TOLERANCE, mask_values
from radsarc.images._preprocess import preprocess

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ExtractionResult", "extract_features"]

logger = logging.getLogger(__name__)

ERROR_COLUMNS = ["case_id", "sequence", "stage", "file", "message"]


class ExtractionResult:
    """Everything an extraction run produced.

    The tables are built (with pandas) when first read: ``radsarc extract``
    writes them with :meth:`write_csv`, :meth:`write_diagnostics_csv` and
    :meth:`write_errors_csv`, which need no pandas, so that its one-case path
    does not import pandas (0.15 s of a start-up that is a large part of one
    case's time).

    Attributes
    ----------
    features : DataFrame
        One row per case whose every sequence succeeded, indexed by ``case_id``;
        pyradiomics feature names as columns (prefixed ``<SEQ>_`` for named
        sequences).
    diagnostics : DataFrame
        pyradiomics' ``diagnostics_*`` entries, laid out like ``features``.
    errors : DataFrame
        One row per failed case and sequence: ``case_id, sequence, stage, file,
        message``. A failed case has no row in ``features``.
    n_computed, n_cached, n_failed : int
        Cases computed in this run, taken whole from the cache, and failed.
    elapsed : float
        Wall time in seconds.
    settings : ExtractionSettings
        The settings the features were extracted with.
    clinical : DataFrame
        The manifest's ``label`` and ``group`` (when the manifest has them) and
        its covariate columns, for the rows of ``features``, in manifest column
        order. Not features: :meth:`to_frame` puts them beside the features.

    See Also
    --------
    ExtractionResult.to_frame : the table ``radsarc extract`` writes.
    """

    def __init__(
        self,
        features=None,
        diagnostics=None,
        errors=None,
        n_computed: int = 0,
        n_cached: int = 0,
        n_failed: int = 0,
        elapsed: float = 0.0,
        settings: ExtractionSettings | None = None,
        clinical=None,
    ) -> None:
        self._frames = {
            "features": features,
            "diagnostics": diagnostics,
            "errors": errors,
            "clinical": clinical,
        }
        self._rows: _Rows | None = None
        self.n_computed = n_computed
        self.n_cached = n_cached
        self.n_failed = n_failed
        self.elapsed = elapsed
        self.settings = settings if settings is not None else ExtractionSettings()

    @classmethod
    def _from_rows(cls, rows: _Rows, **counts) -> ExtractionResult:
        result = cls(**counts)
        result._rows = rows
        return result

    def _frame(self, name: str):
        frame = self._frames[name]
        if frame is None:
            import pandas as pd

            rows = self._rows
            if rows is None:
                frame = pd.DataFrame()
            else:
                idx = pd.Index(rows.index, name="case_id", dtype=object)
                if name == "features":
                    frame = pd.DataFrame(rows.features, index=idx, dtype=float)
                elif name == "diagnostics":
                    frame = pd.DataFrame(rows.diagnostics, index=idx, dtype=object)
                elif name == "errors":
                    frame = pd.DataFrame(rows.errors, columns=ERROR_COLUMNS)
                else:
                    frame = _clinical(rows.cohort, idx)
            self._frames[name] = frame
        return frame

    features = property(lambda self: self._frame("features"))
    diagnostics = property(lambda self: self._frame("diagnostics"))
    errors = property(lambda self: self._frame("errors"))
    clinical = property(lambda self: self._frame("clinical"))

    @property
    def case_ids(self) -> list[str]:
        """The case ids of the rows of ``features``, in order."""
        if self._rows is not None and self._frames["features"] is None:
            return list(self._rows.index)
        return [str(i) for i in self.features.index]

    @property
    def feature_names(self) -> list[str]:
        """The columns of ``features``, in order."""
        if self._rows is not None and self._frames["features"] is None:
            return _union_keys(self._rows.features)
        return [str(c) for c in self.features.columns]

    @property
    def clinical_names(self) -> list[str]:
        """The columns of ``clinical`` (label, group, covariates), in order."""
        if self._rows is not None and self._frames["clinical"] is None:
            return [name for name, _ in _clinical_columns(self._rows.cohort)]
        return [str(c) for c in self.clinical.columns]

    @property
    def error_records(self) -> list[dict]:
        """The rows of ``errors`` as dicts (``case_id, sequence, stage, file,
        message``)."""
        if self._rows is not None and self._frames["errors"] is None:
            return [
                dict(zip(ERROR_COLUMNS, _error_row(e), strict=True))
                for e in self._rows.errors
            ]
        return self.errors.to_dict("records")

    def to_frame(self):
        """Case id, label, group, covariates, then the features: one row per case.

        This is the table ``radsarc extract`` writes, ready for ``radsarc
        evaluate FEATURES.csv --label label``. The index is the case id;
        ``label`` and ``group`` are present when the manifest has them.

        Returns
        -------
        DataFrame
            ``clinical`` joined with ``features`` (same rows, same order).

        Raises
        ------
        ValueError
            If a manifest column has the name of a feature column.
        """
        import pandas as pd

        self._check_names(self.clinical_names, self.feature_names)
        if self.clinical.shape[1] == 0:
            return self.features.copy()
        clinical = self.clinical.reindex(self.features.index)
        return pd.concat([clinical, self.features], axis=1)

    @staticmethod
    def _check_names(clinical, features) -> None:
        clash = [c for c in clinical if c in set(features)]
        if clash:
            raise ValueError(
                f"Manifest column(s) {clash} have the name of feature columns; "
                "rename them in the manifest."
            )

    def write_csv(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_frame` as CSV: the file ``radsarc extract`` writes.

        The same text as ``to_frame().to_csv(path, float_format="%.17g")``
        (features to the last bit), written without pandas when the tables
        were not read.
        """
        rows = self._rows
        if rows is None or any(
            self._frames[k] is not None for k in ("features", "clinical")
        ):
            self.to_frame().to_csv(path, float_format="%.17g")
            return
        names = self.feature_names
        clinical = _clinical_columns(rows.cohort)
        self._check_names([c for c, _ in clinical], names)
        position = {case_id: k for k, case_id in enumerate(rows.cohort.case_ids)}
        keep = [position[case_id] for case_id in rows.index]
        columns = [
            (name, _column_texts(values, float_format=True), keep)
            for name, values in clinical
        ]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["case_id", *(c for c, _ in clinical), *names])
            for k, (case_id, feats) in enumerate(
                zip(rows.index, rows.features, strict=True)
            ):
                writer.writerow(
                    [
                        case_id,
                        *(texts[where[k]] for _, texts, where in columns),
                        *(_float_text(feats.get(n)) for n in names),
                    ]
                )

    def write_diagnostics_csv(self, path: str | os.PathLike) -> None:
        """Write ``diagnostics`` as CSV (``diagnostics.to_csv(path)``'s text)."""
        rows = self._rows
        if rows is None or self._frames["diagnostics"] is not None:
            self.diagnostics.to_csv(path)
            return
        names = _union_keys(rows.diagnostics)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["case_id", *names])
            for case_id, diags in zip(rows.index, rows.diagnostics, strict=True):
                writer.writerow([case_id, *(_object_text(diags.get(n)) for n in names)])

    def write_errors_csv(self, path: str | os.PathLike) -> None:
        """Write ``errors`` as CSV (``errors.to_csv(path, index=False)``'s text)."""
        rows = self._rows
        if rows is None or self._frames["errors"] is not None:
            self.errors.to_csv(path, index=False)
            return
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(ERROR_COLUMNS)
            for error in rows.errors:
                writer.writerow([_object_text(v) for v in _error_row(error)])

    @property
    def summary(self) -> str:
        """One line: ``extracted: <n> computed, <m> from cache, <k> failed``."""
        return (
            f"extracted: {self.n_computed} computed, {self.n_cached} from cache, "
            f"{self.n_failed} failed"
        )


@dataclass
class _Rows:
    """The rows an :class:`ExtractionResult` builds its tables from."""

    cohort: Cohort
    index: list[str]
    features: list[dict]
    diagnostics: list[dict]
    errors: list[dict]


def _union_keys(rows: list[dict]) -> list[str]:
    """Columns of ``pd.DataFrame(rows)``: every key, in order of first appearance."""
    return list(dict.fromkeys(k for row in rows for k in row))


def _error_row(error: dict) -> list:
    return [error.get(c) for c in ERROR_COLUMNS]


def _missing_cell(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _float_text(value) -> str:
    """A float column cell as ``to_csv(float_format="%.17g")`` writes it."""
    if value is None:
        return ""
    value = float(value)
    return "" if math.isnan(value) else f"{value:.17g}"


def _object_text(value) -> str:
    """An object column cell as ``to_csv`` writes it."""
    return "" if _missing_cell(value) else str(value)


def _column_texts(values: list, *, float_format: bool) -> list[str]:
    """The cells of a column of ``pd.DataFrame(rows)`` as ``to_csv`` writes them.

    pandas makes the column float64 when its present values are all numbers and
    one is a float or a value is missing (float_format applies), int64 or bool
    when all are ints or bools and none is missing, else object (``str`` of
    each value); a missing value is an empty cell.
    """
    present = [v for v in values if not _missing_cell(v)]
    numbers = all(
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        for v in present
    )
    floats = any(isinstance(v, float | np.floating) for v in present)
    if float_format and present and numbers and (floats or len(present) < len(values)):
        return [_float_text(v) for v in values]
    return [_object_text(v) for v in values]


@dataclass(frozen=True)
class _Task:
    case_id: str
    sequence: str
    image: Path
    mask: Path
    rois: tuple[str, ...] = ()
    reference: Path | None = None


# Part of every cache key: bump when what a task computes from the same files and
# settings changes (v2: masks within the geometry tolerance take the image grid,
# RTSTRUCT / SEG masks, regions, grid diagnostics).
_TASK_VERSION = "masks-v2"


# One engine per worker process and settings digest (building a pyradiomics
# extractor validates its parameters, which is not free).
_ENGINES: dict[str, object] = {}


def _engine(settings: ExtractionSettings):
    digest = settings.digest
    if digest not in _ENGINES:
        if settings.engine == "ibsi":
            from radsarc.features.ibsi import IBSIEngine

            _ENGINES[digest] = IBSIEngine(
                settings.ibsi_config, filters=settings.filters
            )
        else:
            from radsarc.features._pyradiomics import Engine

            params = settings.pyradiomics_params()
            _ENGINES[digest] = Engine(params, filters=settings.filters, validated=True)
    return _ENGINES[digest]


def _failure(task: _Task, stage: str, message: str, file: Path | str = "") -> dict:
    return {
        "case_id": task.case_id,
        "sequence": task.sequence,
        "stage": stage,
        "file": str(file),
        "message": message,
    }


def _cache_key(
    task: _Task, settings: ExtractionSettings, cached: bool = True
) -> tuple[str | None, dict]:
    """The cache key of a task (content of its files and the settings).

    The files are checked either way; without a cache (``cached`` False) they
    are not hashed and the key is None.
    """
    paths = [("image", task.image), ("mask", task.mask)]
    if task.reference is not None:
        paths.append(("reference series", task.reference))
    for kind, path in paths:
        # The same verdicts as Cohort.validate (and never block on a FIFO).
        problem = file_problem(path, kind)
        if problem is not None:
            return None, {"error": _failure(task, "read", problem, path)}
    if not cached:
        return None, {}
    try:
        digests = [file_digest(path) for _, path in paths]
    except FileNotFoundError:
        kind, missing = next((k, p) for k, p in paths if not p.exists())
        return None, {
            "error": _failure(task, "read", f"{kind} file does not exist", missing)
        }
    except OSError as exc:
        return None, {
            "error": _failure(task, "read", f"cannot read file: {exc}", task.image)
        }
    key = hashlib.sha256(
        json.dumps(
            [
                task.case_id,
                task.sequence,
                *digests,
                list(task.rois),
                settings.digest,
                _TASK_VERSION,
            ]
        ).encode()
    ).hexdigest()
    return key, {}


def _from_cache(task: _Task, cache_root: str | None, key: str) -> dict | None:
    if cache_root is None:
        return None
    hit = ResultCache(cache_root).load(task.case_id, task.sequence, key)
    if hit is None:
        return None
    return {
        "features": hit["features"],
        "diagnostics": hit["diagnostics"],
        "cached": True,
    }


def _compute(
    task: _Task,
    settings: ExtractionSettings,
    part: int = 0,
    n_parts: int = 1,
    n_procs: int = 1,
):
    """Read, check, preprocess and extract one share of one case and sequence.

    With ``n_procs`` > 1 (one share only), the engine's work on each region is
    spread over this process and ``n_procs - 1`` forked ones
    (:func:`_forked_extract`).

    Returns ``{"error": ...}`` or ``{"regions": [(region, blocks, diagnostics)],
    "other_labels": [...]}`` (see :meth:`Engine.extract_part`).
    """
    image, loaded, problem = load_case(
        _case_view(task), task.sequence, task.image, settings
    )
    if problem is not None:
        return {"error": _failure(task, *problem)}
    out = []
    for name, mask in loaded.regions.items():
        try:
            regions = named_regions(image, name, mask, settings, task.sequence)
        except (ValueError, RuntimeError) as exc:
            return {"error": _failure(task, "preprocess", str(exc), task.image)}
        for region, (region_image, region_mask) in regions.items():
            too_many = _binning_problem(region_image, region_mask, settings)
            if too_many is not None:
                return {"error": _failure(task, "validate", too_many, task.image)}
            try:
                # One BLAS thread: the engine's matrix work (GLCM MCC's
                # eigenvalues of Ng x Ng matrices) is too small to gain from
                # more, and idle BLAS threads spinning on a busy machine cost
                # up to 3x the CPU time (same values: measured on a 474k-voxel
                # case, 851 features identical).
                with threadpool_limits(limits=1, user_api="blas"):
                    if n_procs > 1:
                        blocks, diag = _forked_extract(
                            _engine(settings),
                            region_image,
                            region_mask,
                            settings.label,
                            n_procs,
                        )
                    else:
                        blocks, diag = _engine(settings).extract_part(
                            region_image, region_mask, settings.label, part, n_parts
                        )
            except Exception as exc:  # noqa: BLE001 - any engine failure is this case's
                where = f" (region {region!r})" if region else ""
                return {
                    "error": _failure(
                        task,
                        "extract",
                        f"{settings.engine} failed on image {task.image} with mask "
                        f"{task.mask}{where}: {type(exc).__name__}: {exc}",
                        task.image,
                    )
                }
            out.append((region, blocks, diag))
    other_labels = (
        _other_labels(loaded.regions[""], settings.label)
        if loaded.kind == "image"
        else []
    )
    return {
        "regions": out,
        "other_labels": other_labels,
        "mask_diagnostics": _mask_diagnostics(loaded),
    }


def load_case(case, sequence: str, image_path: Path, settings: ExtractionSettings):
    """Read one case's image of ``sequence``, load and check its mask(s).

    The steps (and refusals) shared by extraction and the texture maps: the
    image read, the mask(s) loaded and validated against it
    (:func:`radsarc.images._cohort.prepare_case` with the settings' label,
    geometry tolerance, ``correctMask`` and ``maskThreshold``), then NaN or
    infinite voxels outside the mask refused when the settings read them.

    Returns ``(image, loaded, None)``, or ``(None, None, (stage, message,
    file))`` for the first problem (stage ``"read"`` or ``"validate"``).
    """
    try:
        image = read_image(image_path)
    except (ValueError, OSError) as exc:
        return None, None, ("read", str(exc), image_path)
    problems, loaded = prepare_case(
        case,
        sequence,
        label=settings.label,
        geometry_tolerance=geometry_tolerance(settings),
        resample_mask=bool(settings.setting.get("correctMask", False)),
        image=image,
        mask_threshold=settings.setting.get("maskThreshold"),
    )
    if problems:
        p = problems[0]
        stage = "read" if p.check in ("readable", "exists") else "validate"
        return None, None, (stage, p.message, p.file)
    outside = _nonfinite_outside_problem(image, settings)
    if outside is not None:
        return None, None, ("validate", outside, image_path)
    return image, loaded, None


def named_regions(
    image, name: str, mask, settings: ExtractionSettings, sequence: str
) -> dict[str, tuple]:
    """``{region: (image, mask)}`` of one loaded region, after preprocessing.

    Without preprocessing the region itself; with it, the regions preprocessing
    makes of it (the image possibly changed). Region names: the roi (several
    regions) then the preprocessing region ("ring"), joined by ``_``:
    ``GTV_Mass_ring`` (column ``GTV_Mass_ring_original_firstorder_Mean``).
    Preprocessing's ValueError / RuntimeError propagate.
    """
    region_image, subs = image, {"": mask}
    if settings.preprocessing:
        region_image, subs = preprocess(
            image, mask, settings.preprocessing, sequence=sequence, label=settings.label
        )
    return {
        "_".join(r for r in (name, sub) if r): (region_image, region_mask)
        for sub, region_mask in subs.items()
    }


def _nonfinite_outside_problem(image, settings: ExtractionSettings) -> str | None:
    """Refuse NaN or infinite voxels outside the mask when the settings use them.

    Inside the mask they are refused by validation. Outside it they do not
    matter to features of the original image (only the region's voxels are
    used), but filters (Wavelet, LoG, ... and the IBSI filters), resampling,
    ``normalize`` and the preprocessing read voxels around and beyond the
    region: a single NaN voxel there silently changed most wavelet features, and
    made LoG or resampling fail with a message that named nothing.
    """
    values = sitk.GetArrayViewFromImage(image)
    if not np.issubdtype(values.dtype, np.floating):
        return None
    bad = ~np.isfinite(values)
    n_bad = int(np.count_nonzero(bad))
    if not n_bad:
        return None
    uses = []
    derived = [t for t in settings.image_types if t != "Original"]
    if derived:
        uses.append(f"image type(s) {', '.join(derived)}")
    if settings.filters:
        uses.append("the IBSI filters")
    if settings.setting.get("resampledPixelSpacing"):
        uses.append("resampling (resampledPixelSpacing)")
    if settings.setting.get("normalize"):
        uses.append("normalize")
    if settings.preprocessing:
        uses.append("the preprocessing section")
    if not uses:
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0][::-1])
    return (
        f"image holds {n_bad} NaN or infinite voxel(s) outside the mask (the first "
        f"at voxel index {first}); {' and '.join(uses)} use voxels outside the "
        "mask, so they would reach the region's values. Expected finite "
        "intensities in the whole image: replace them (e.g. by 0), or extract "
        "features of the original image only"
    )


#: Most grey levels a fixed bin width may give inside the mask: a texture matrix
#: (GLCM: levels x levels x 13 directions of float64) of 10,000 levels already
#: needs 10 GB.
MAX_GREY_LEVELS = 10_000
#: Most bins of the first-order histogram (Entropy, Uniformity): numpy allocates
#: the bin edges (8 bytes each); beyond this, "Maximum allowed size exceeded".
MAX_HISTOGRAM_BINS = 10_000_000
_TEXTURE_CLASSES = {"glcm", "glrlm", "glszm", "gldm", "ngtdm"}


def _binning_problem(image, mask, settings: ExtractionSettings) -> str | None:
    """Refuse a fixed bin width that makes more grey levels than can be held.

    Intensities of 1e9 with ``binWidth`` 25 would make pyradiomics allocate
    texture matrices of 4e7 x 4e7 cells (a MemoryError or a machine brought to a
    halt); first-order features alone fail beyond about 1e8 bins ("Maximum
    allowed size exceeded", naming nothing). With ``binCount`` or pyradiomics'
    ``normalize`` the number of levels is bounded, so nothing is checked.
    """
    setting = settings.setting
    if setting.get("binCount") or setting.get("normalize"):
        return None
    classes = set(settings.to_dict().get("featureClass") or _TEXTURE_CLASSES)
    if classes & _TEXTURE_CLASSES:
        limit, held = MAX_GREY_LEVELS, "can be held in texture matrices"
    elif "firstorder" in classes:
        limit, held = MAX_HISTOGRAM_BINS, "bins can be held in a histogram"
    else:
        return None
    width = float(setting.get("binWidth", 25))
    if width <= 0:
        return None  # refused by the settings themselves
    values = sitk.GetArrayViewFromImage(image)[
        sitk.GetArrayViewFromImage(mask) == settings.label
    ]
    if values.size == 0:
        return None
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if setting.get("resegmentRange"):
        bounds = list(setting["resegmentRange"])
        low = max(low, float(bounds[0]))
        high = min(high, float(bounds[1])) if len(bounds) > 1 else high
    with np.errstate(over="ignore", invalid="ignore"):
        levels = (high - low) / width + 1
    if np.isfinite(levels) and levels <= limit:
        return None
    suggested = (high - low) / 100
    count = f"{levels:,.0f}" if levels < 1e15 else f"{levels:.3g}"
    return (
        f"intensities inside the mask range from {low:.6g} to {high:.6g}; with "
        f"binWidth {width:g} that is {count} grey levels (at most "
        f"{limit:,} {held}). Expected "
        f"intensities on a smaller scale: use a larger binWidth (e.g. "
        f"{suggested:.3g} for about 100 levels), binCount, or normalise the image "
        "(setting normalize: true or a preprocessing normalisation)"
    )


def geometry_tolerance(settings: ExtractionSettings) -> float:
    """The image-mask geometry tolerance of ``settings`` (``geometryTolerance``).

    The same in ``validate`` and ``extract``: a fraction of the voxel spacing,
    default :data:`~radsarc.images._masks.DEFAULT_GEOMETRY_TOLERANCE`.
    """
    return float(
        settings.setting.get("geometryTolerance") or DEFAULT_GEOMETRY_TOLERANCE
    )


def _mask_diagnostics(loaded) -> dict:
    """What the mask was and how it reached the image grid."""
    out = {"diagnostics_radsarc_MaskKind": loaded.kind}
    for name, structure in loaded.structures.items():
        key = f"diagnostics_{name}_radsarc_Structure" if name else None
        out[key or "diagnostics_radsarc_Structure"] = structure
    out["diagnostics_radsarc_MaskGrid"] = loaded.grid.action
    out["diagnostics_radsarc_MaskOffset_mm"] = loaded.grid.offset_mm
    out["diagnostics_radsarc_MaskOffset_voxels"] = loaded.grid.offset_voxels
    return out


def _finish(task: _Task, parts: list[dict], cache_root: str | None, key: str):
    """Merge the shares of one case and sequence; store the result in the cache."""
    from radsarc.features._pyradiomics import merge_parts

    for part in parts:
        if "error" in part:
            return {"error": part["error"]}
    features, diagnostics = {}, {}
    for i, (region, _, _) in enumerate(parts[0]["regions"]):
        prefix = f"{region}_" if region else ""
        found = merge_parts([part["regions"][i][1] for part in parts])
        diag = {}
        for part in parts:
            diag.update(part["regions"][i][2])
        features.update({prefix + k: v for k, v in found.items()})
        diagnostics.update(
            {
                (f"diagnostics_{region}_" + k[len("diagnostics_") :])
                if region
                else k: v
                for k, v in diag.items()
            }
        )
    diagnostics.update(parts[0]["mask_diagnostics"])
    infinite = [
        k
        for k, v in features.items()
        if isinstance(v, float | np.floating) and np.isinf(v)
    ]
    if infinite:
        # Never written as a number: an infinite feature is overflow, not data.
        return {
            "error": _failure(
                task,
                "extract",
                f"{len(infinite)} feature(s) are infinite ({', '.join(infinite[:3])}"
                f"{', ...' if len(infinite) > 3 else ''}): the intensities are too "
                "large for the features' sums of squares (floating-point "
                "overflow). Expected intensities on a smaller scale: normalise "
                "the image (setting normalize: true or a preprocessing "
                "normalisation)",
                task.image,
            )
        }
    other_labels = parts[0]["other_labels"]
    if other_labels:
        # The requested label is extracted, as pyradiomics does; the others are
        # named in the diagnostics so that a wrong `label` setting can be seen.
        diagnostics["diagnostics_radsarc_OtherMaskLabels"] = ",".join(
            str(v) for v in other_labels
        )
    cache_error = None
    if cache_root is not None:
        try:
            ResultCache(cache_root).store(
                task.case_id,
                task.sequence,
                key,
                {
                    "case_id": task.case_id,
                    "sequence": task.sequence,
                    "image": str(task.image),
                    "mask": str(task.mask),
                    "features": features,
                    "diagnostics": diagnostics,
                },
            )
        except (OSError, ValueError) as exc:
            # A full disk or a blocked entry costs the cache, not the result.
            cache_error = f"{type(exc).__name__}: {exc}"
    return {
        "features": features,
        "diagnostics": diagnostics,
        "cached": False,
        "cache_error": cache_error,
    }


def _run_task(
    task: _Task, settings: ExtractionSettings, cache_root: str | None, n_procs: int = 1
):
    """Extract one case and sequence. Never raises for a case-level problem."""
    key, failed = _cache_key(task, settings, cache_root is not None)
    if failed:
        return failed
    hit = _from_cache(task, cache_root, key)
    if hit is not None:
        return hit
    return _finish(task, [_compute(task, settings, n_procs=n_procs)], cache_root, key)


def _other_labels(mask, label: int) -> list[int]:
    """Non-zero mask values other than ``label`` (a multi-label mask)."""
    present = mask_values(sitk.GetArrayViewFromImage(mask))
    return [int(v) for v in present if v != 0 and v != label]


def _case_view(task: _Task):
    from radsarc.images import Case

    seq = task.sequence
    return Case(
        task.case_id,
        {seq: task.image},
        {seq: task.mask},
        rois={seq: task.rois} if task.rois else {},
        references={seq: task.reference} if task.reference is not None else {},
    )


def extract_features(
    cohort: Cohort | str | os.PathLike,
    settings: ExtractionSettings | dict | str | os.PathLike | None = None,
    *,
    n_jobs: int = 1,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = False,
    return_result: bool = False,
    scheduler=None,
    roi: str | list[str] | None = None,
) -> pd.DataFrame | ExtractionResult:
    """Extract radiomic features of every case and sequence of a cohort.

    Parameters
    ----------
    cohort : Cohort or path-like
        The cohort, or the path of its manifest CSV.
    settings : ExtractionSettings, dict, path-like or None, default=None
        pyradiomics parameters (a parameter file, the same as a dict, or
        validated settings). None: pyradiomics' defaults.
    n_jobs : int, default=1
        Cases processed in parallel (joblib; -1 for all cores).
    cache_dir : path-like, default=None
        Folder of the result cache. With a cache, each finished case and sequence
        is stored at once, so a killed run started again computes only what is
        missing; a changed image, mask or setting is recomputed.
    progress : bool or None, default=False
        Show a progress bar (tqdm, on stderr) counting cases and sequences; None
        shows it only when stderr is a terminal (what the CLI does).
    return_result : bool, default=False
        Return an :class:`ExtractionResult` (features, diagnostics, errors and
        counts) instead of the feature table only.
    scheduler : str, distributed.Client or None, default=None
        Run the cases on a Dask distributed cluster: the address of its
        scheduler (``"tcp://host:8786"``) or a connected client (needs
        ``pip install radsarc[dask]``). Workers must see the image, mask and
        cache paths (shared file system). The cache, the errors table and the
        result are the same as in a local run; ``n_jobs`` is then ignored (the
        cluster runs as many cases at once as it has worker threads).
    roi : str or list of str, default=None
        Structure(s) of RTSTRUCT masks or segment(s) of DICOM SEG masks, for
        cases whose manifest ``roi`` cell is empty (``--roi``). Several names
        give several regions, each with its own features, prefixed by the
        region name (``GTV_Mass_original_firstorder_Mean``); see
        ``docs/cohorts.md``.

    Returns
    -------
    DataFrame or ExtractionResult
        Features indexed by ``case_id``: one row per case whose every sequence
        succeeded. A failed case is never a row of NaN: it is listed in the
        errors table (and, without ``return_result``, in a warning).

    Examples
    --------
    >>> from radsarc.features import extract_features
    >>> result = extract_features("manifest.csv", "params.yaml", n_jobs=2,
    ...     cache_dir="cache", return_result=True)  # doctest: +SKIP
    >>> result.features.shape, result.summary  # doctest: +SKIP
    """
    start = time.perf_counter()
    if not isinstance(cohort, Cohort):
        cohort = Cohort.from_csv(cohort, roi=roi)
    else:
        cohort = with_default_roi(cohort, roi)
    _check_regions(cohort)
    settings = ExtractionSettings.coerce(settings)
    check_progress(progress)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer; got {n_jobs!r}.")
    tasks = [
        _Task(
            case.case_id,
            seq,
            Path(case.images[seq]),
            Path(case.masks[seq]),
            tuple(case.rois.get(seq, ())),
            Path(case.references[seq]) if seq in case.references else None,
        )
        for case in cohort
        for seq in cohort.sequences
    ]
    # Absolute: worker processes reused from an earlier call may run in another
    # working folder.
    cache_root = str(Path(cache_dir).resolve()) if cache_dir is not None else None
    # Build the engine once here: a bad parameter combination fails before any work.
    engine = _engine(settings)
    # Few cases: on Linux each case is spread over forked processes
    # (_forked_extract); else, with fewer cases than processes, its filtered
    # images over joblib workers.
    n_procs = _fork_processes(len(tasks), n_jobs, scheduler)
    n_parts = 1 if n_procs > 1 else _shares(engine, len(tasks), n_jobs, scheduler)
    outputs: list[dict | None] = [None] * len(tasks)
    if n_parts > 1:
        jobs, pending = _split_jobs(tasks, settings, cache_root, n_parts, outputs)
    else:
        jobs = [
            (i, t, settings, cache_root, os.getpid(), n_procs)
            for i, t in enumerate(tasks)
        ]
        if n_procs > 1:
            n_jobs = 1  # one case after the other, each over n_procs processes
    with (
        parallel_backend(scheduler),
        progress_bar(progress, total=len(tasks), desc="extract", unit="case") as bar,
    ):
        if n_parts > 1:
            # Shares of cases: this process computes one of them while worker
            # processes compute the others (it would otherwise wait idle).
            results = _run_shares(jobs, _workers(n_jobs))
        else:
            if scheduler is None and (n_jobs == 1 or len(jobs) <= 1):
                # Here, one case after the other: starting worker processes
                # (or joblib) for them would only add their start-up time.
                results = (_indexed(*args) for args in jobs)
            else:
                from joblib import Parallel, delayed

                results = Parallel(
                    n_jobs=n_jobs if scheduler is None else -1,
                    return_as="generator_unordered",
                    batch_size=1,
                )(delayed(_indexed)(*args) for args in jobs)
        for i, out in results:
            if n_parts == 1:
                outputs[i] = out
                bar.update()
                continue
            # One share of a case split over processes (``out`` is a part).
            task_index, part = i
            key, shares = pending[task_index]
            shares[part] = out
            if all(share is not None for share in shares):
                outputs[task_index] = _finish(
                    tasks[task_index], shares, cache_root, key
                )
                bar.update()
        if n_parts > 1:
            bar.update(sum(1 for i in range(len(tasks)) if i not in pending))
    result = _assemble(cohort, tasks, outputs, settings)
    result.elapsed = time.perf_counter() - start
    cache_errors = [
        (t, o["cache_error"])
        for t, o in zip(tasks, outputs, strict=True)
        if o.get("cache_error")
    ]
    if cache_errors:
        task, first = cache_errors[0]
        warnings.warn(
            CacheWarning(
                f"Could not write {len(cache_errors)} result(s) to the extraction "
                f"cache {cache_root} (first: case {task.case_id!r}: {first}). The "
                "run went on and every result is in the output; those cases will "
                "be computed again next time."
            ),
            stacklevel=2,
        )
    logger.info("%s in %.1f s", result.summary, result.elapsed)
    if return_result:
        return result
    if result.n_failed:
        failed = ", ".join(result.errors["case_id"].unique()[:10])
        warnings.warn(
            f"{result.n_failed} case(s) failed and are not in the feature table "
            f"({failed}); pass return_result=True to get the errors table.",
            stacklevel=2,
        )
    return result.features


def _check_regions(cohort: Cohort) -> None:
    """Several regions: every case of a sequence names the same ones.

    Region names become column prefixes; cases with other names would fill
    each other's columns with missing values.
    """
    for seq in cohort.sequences:
        lists = {case.case_id: tuple(case.rois.get(seq, ())) for case in cohort.cases}
        if all(len(names) <= 1 for names in lists.values()):
            continue
        if len(set(lists.values())) > 1:
            where = f" of sequence {seq!r}" if seq else ""
            shown = "; ".join(
                f"{cid}: {list(names)}" for cid, names in list(lists.items())[:6]
            )
            raise ValueError(
                f"The cases{where} name different regions ({shown}); with several "
                "regions per case the region names prefix the feature columns, so "
                "every case must name the same regions (in 'roi' cells or --roi)."
            )


def _indexed(i, task, settings, cache_root, main_pid=None, n_procs=1):
    if main_pid is not None:
        watch_parent(main_pid)  # a worker ends with the process that started it
    return i, _run_task(task, settings, cache_root, n_procs)


def _part(i, part, task, settings, n_parts, main_pid=None):
    if main_pid is not None:
        watch_parent(main_pid)
    return (i, part), _compute(task, settings, part, n_parts)


def _fork_processes(n_tasks: int, n_jobs: int, scheduler) -> int:
    """Processes each case is spread over by forking (1: not).

    With no more cases (and sequences) than processes, on Linux, outside Dask:
    each case in turn, over all the processes. (One case with two sequences on
    two processes: 4.8 s whole process against 5.8-6.5 s with a case per
    joblib worker, whose start-up repeats the imports; load 4.) Larger cohorts
    run a case per worker.
    """
    if scheduler is not None or n_tasks == 0 or not fork_available():
        return 1
    workers = _workers(n_jobs)
    return workers if n_tasks <= workers else 1


def _forked_extract(engine, image, mask, label: int, n_procs: int):
    """``engine.extract(...)``'s blocks, computed by ``n_procs`` processes.

    The engine's work items are planned over this process and ``n_procs - 1``
    forked ones by cost (:func:`radsarc.features._split.plan_items`); the
    blocks of all of them merge to the same features as one process computes
    (:func:`radsarc.features._pyradiomics.merge_parts`).
    """
    from radsarc.features._split import cost_model, plan_items, run_forked

    model = cost_model(engine, image, mask, label)
    items = engine.work_items(image.GetDimension())
    plans = [plan for plan in plan_items(items, n_procs, model) if plan]
    texture = [plan for plan in plans if any(i[2] in _MATRIX_CLASSES for i in plan)]
    if model.compiled and len(texture) > 1 and _load_compiled_matrices():
        # Loaded once here instead of in every process: the same wall time
        # on free cores, less CPU on busy ones. Plan again without its cost.
        plans = [plan for plan in plan_items(items, n_procs, model) if plan]
    logger.debug(
        "case split over %d processes, estimated %s s",
        len(plans),
        [round(model.load(plan), 2) for plan in plans],
    )
    # Each process gets its share of the cores for ITK's own threads (LoG,
    # resampling), as the BLAS threads are limited to one: the processes would
    # otherwise compete for the cores with threads of their own.
    threads = max(_cpu_count() // max(len(plans), 1), 1)
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()

    def share(items):
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(threads)
        return engine.extract_items(image, mask, label, items)

    try:
        results = run_forked(share, plans, what="features")
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)
    blocks, diagnostics = [], {}
    for part_blocks, part_diagnostics in results:
        blocks += part_blocks
        diagnostics.update(part_diagnostics)
    return blocks, diagnostics


_MATRIX_CLASSES = frozenset({"glcm", "glrlm", "glszm", "gldm", "ngtdm"})


def _load_compiled_matrices() -> bool:
    """Load radsarc's texture kernels in this process (before forking).

    Every process that computes texture matrices with radsarc's kernels
    (:mod:`radsarc.features._matrices`) would otherwise load them itself: the
    C kernels in ~10 ms (but on a machine whose cache is empty each would
    compile them), numba's fallback in about 0.4 s of CPU each (0.75 s on a
    busy machine). The kernels are run once on a tiny region
    (:func:`radsarc.features._pyradiomics.load_compiled_matrices`; pyradiomics
    stays behind the engine module), so that forked children inherit them
    ready. Returns whether they are loaded.
    """
    try:
        from radsarc.features._pyradiomics import load_compiled_matrices

        load_compiled_matrices()
    except Exception as exc:  # noqa: BLE001 - an optional speed-up
        logger.debug("compiled texture kernels not loaded before forking: %s", exc)
        return False
    return True


def _cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _shares(engine, n_tasks: int, n_jobs: int, scheduler) -> int:
    """Into how many shares each case is split (1: not split).

    With fewer cases than worker processes, the filtered images of a case (the
    original, each LoG sigma, each wavelet decomposition) are spread over the
    idle processes; a case with a single image type is not split.
    """
    if scheduler is not None or n_tasks == 0:
        return 1
    workers = _workers(n_jobs)
    if n_tasks >= workers:
        return 1
    return max(1, min(workers // n_tasks, engine.n_units(3)))


def _workers(n_jobs: int) -> int:
    """Processes of a local run with ``n_jobs`` (this one included)."""
    import multiprocessing

    if n_jobs > 0 and not multiprocessing.current_process().daemon:
        return n_jobs  # what joblib says, without importing it
    # -1: joblib's count of usable cores; in a worker process: 1
    from joblib import effective_n_jobs

    return effective_n_jobs(n_jobs)


#: Thread-count variables of the native libraries (BLAS, OpenMP), as joblib sets
#: them in its worker processes.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def _run_shares(jobs, n_workers: int):
    """Run share jobs (argument tuples of :func:`_part`): yield their results.

    The first job runs in this process, the others on ``n_workers - 1`` worker
    processes (joblib's reusable loky executor), which start while
    this process computes. As joblib does for its workers, every process gets
    ``cpu_count // n_workers`` native threads (BLAS, OpenMP), so that the
    processes do not compete for the cores with threads of their own.
    """
    if not jobs:
        return
    from joblib import cpu_count

    threads = max(cpu_count() // max(n_workers, 1), 1)
    first, rest = jobs[0], jobs[1:]
    futures = []
    if rest:
        from concurrent.futures import as_completed

        # joblib's own executor (loky's reusable one), shared with Parallel.
        from joblib.executor import get_memmapping_executor

        env = {name: os.environ.get(name, str(threads)) for name in _THREAD_VARIABLES}
        executor = get_memmapping_executor(
            max(min(n_workers - 1, len(rest)), 1), env=env
        )
        futures = [executor.submit(_part, *args, os.getpid()) for args in rest]
    with threadpool_limits(limits=threads):
        first_result = _part(*first)
    yield first_result
    if futures:
        for future in as_completed(futures):
            yield future.result()


def _split_jobs(tasks, settings, cache_root, n_parts, outputs):
    """Jobs for the shares of every task not in the cache (outputs filled).

    Each job is the arguments of :func:`_part` (the parent's pid apart).
    """
    pending: dict[int, tuple[str, list]] = {}  # task -> (cache key, its shares)
    jobs = []
    for i, task in enumerate(tasks):
        key, failed = _cache_key(task, settings, cache_root is not None)
        if failed:
            outputs[i] = failed
            continue
        hit = _from_cache(task, cache_root, key)
        if hit is not None:
            outputs[i] = hit
            continue
        pending[i] = (key, [None] * n_parts)
        jobs += [(i, k, task, settings, n_parts) for k in range(n_parts)]
    return jobs, pending


def _assemble(cohort, tasks, outputs, settings) -> ExtractionResult:
    by_case: dict[str, dict[str, dict]] = {}
    errors = []
    for task, out in zip(tasks, outputs, strict=True):
        by_case.setdefault(task.case_id, {})[task.sequence] = out
        if "error" in out:
            errors.append(out["error"])
    prefix = cohort.multi_sequence
    feat_rows, diag_rows, index = [], [], []
    n_computed = n_cached = n_failed = 0
    for case_id in cohort.case_ids:
        outs = by_case[case_id]
        if any("error" in o for o in outs.values()):
            n_failed += 1
            continue
        if all(o["cached"] for o in outs.values()):
            n_cached += 1
        else:
            n_computed += 1
        feats, diags = {}, {}
        for seq in cohort.sequences:
            p = f"{seq}_" if prefix else ""
            feats.update({p + k: v for k, v in outs[seq]["features"].items()})
            diags.update({p + k: _cell(v) for k, v in outs[seq]["diagnostics"].items()})
        feat_rows.append(feats)
        diag_rows.append(diags)
        index.append(case_id)
    return ExtractionResult._from_rows(
        _Rows(cohort, index, feat_rows, diag_rows, errors),
        n_computed=n_computed,
        n_cached=n_cached,
        n_failed=n_failed,
        settings=settings,
    )


def _clinical_columns(cohort: Cohort) -> list[tuple[str, list]]:
    """``(column, values of every case)`` of ``cohort.clinical()``, in its order,
    without the label or group column when no case has one (see
    :func:`_clinical`)."""
    names = _union_keys(
        [{"label": c.label, "group": c.group, **dict(c.covariates)} for c in cohort]
    )
    out = []
    for name in names:
        if name in ("label", "group"):
            values = [getattr(c, name) for c in cohort]
            if all(_missing_cell(v) for v in values):
                continue
        else:
            values = [c.covariates.get(name) for c in cohort]
        out.append((name, values))
    return out


def _clinical(cohort: Cohort, index):
    """Label, group (when any case has one) and covariates of the cases in index."""
    table = cohort.clinical()
    empty = [
        c for c in ("label", "group") if c in table.columns and table[c].isna().all()
    ]
    table = table.drop(columns=empty).loc[list(index)]
    table.index = index
    return table


def _cell(value):
    return (
        value
        if isinstance(value, str | int | float | bool) or value is None
        else str(value)
    )
