"""Feature robustness to segmentation: mask perturbations and intraclass correlation.

Features that change a lot when the tumour outline moves by a voxel, or between
readers, are not reproducible. Following Zwanenburg et al. (2019), every case is
re-extracted on perturbed masks (eroded, dilated, contour-randomised) and the
agreement of each feature across these "raters" is measured by an intraclass
correlation coefficient (ICC); :class:`radsarc.feature_selection.ICCFilter` then
keeps the robust features.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

from radsarc.features._extract import ERROR_COLUMNS, extract_features
from radsarc.features._settings import ExtractionSettings
from radsarc.images import Case, Cohort
from radsarc.images._cohort import case_mask

__all__ = [
    "ICC_KINDS",
    "PERTURBATIONS",
    "RobustnessResult",
    "icc_table",
    "intraclass_correlation",
    "perturbed_masks",
    "robustness_icc",
]

logger = logging.getLogger(__name__)

#: ICC forms of Shrout & Fleiss (1979), named as in Koo & Li (2016).
ICC_KINDS: tuple[str, ...] = (
    "ICC(1,1)",
    "ICC(2,1)",
    "ICC(3,1)",
    "ICC(1,k)",
    "ICC(2,k)",
    "ICC(3,k)",
)
#: Mask perturbations :func:`perturbed_masks` knows.
PERTURBATIONS: tuple[str, ...] = ("erode", "dilate", "contour")


def intraclass_correlation(ratings, kind: str = "ICC(2,1)"):
    """Intraclass correlation of targets rated by the same k raters.

    Parameters
    ----------
    ratings : array-like of shape (n_targets, k_raters) or (n_targets, k_raters, m)
        One value per target (case) and rater (reader, perturbation); with a third
        axis, ``m`` variables (features) at once. A target with a NaN rating is
        left out of that variable's ICC.
    kind : str, default="ICC(2,1)"
        One of :data:`ICC_KINDS`: ``ICC(1,1)`` one-way random effects, absolute
        agreement; ``ICC(2,1)`` two-way random effects, absolute agreement;
        ``ICC(3,1)`` two-way mixed effects, consistency; ``(.,k)`` the same for
        the mean of the k raters.

    Returns
    -------
    icc : float or ndarray of shape (m,)
        NaN where the ICC is undefined (no variance at all, or fewer than two
        complete targets).

    Notes
    -----
    With the mean squares of the two-way ANOVA (rows = targets, columns =
    raters): ``MSR`` between targets, ``MSC`` between raters, ``MSE`` residual,
    ``MSW`` within targets (columns and residual pooled),
    ``ICC(1,1) = (MSR - MSW) / (MSR + (k-1) MSW)``,
    ``ICC(2,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)``,
    ``ICC(3,1) = (MSR - MSE) / (MSR + (k-1) MSE)``.

    References
    ----------
    Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater
    reliability. Psychol Bull. 1979;86(2):420-428.

    Koo TK, Li MY. A guideline of selecting and reporting intraclass correlation
    coefficients for reliability research. J Chiropr Med. 2016;15(2):155-163.

    Examples
    --------
    Shrout & Fleiss (1979), Table 2 (6 targets, 4 judges):

    >>> from radsarc.features import intraclass_correlation
    >>> table2 = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...           [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(intraclass_correlation(table2, "ICC(3,1)"), 2)
    0.71
    """
    if kind not in ICC_KINDS:
        raise ValueError(f"kind must be one of {list(ICC_KINDS)}; got {kind!r}.")
    x = np.asarray(ratings, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(
            "ratings must have shape (n_targets, k_raters) or (n_targets, k_raters, "
            f"m); got shape {x.shape}."
        )
    if x.shape[1] < 2:
        raise ValueError(f"An ICC needs at least 2 raters; got {x.shape[1]}.")
    complete = ~np.isnan(x).any(axis=1)  # (n, m)
    out = np.full(x.shape[2], np.nan)
    if complete.all():
        out = _icc(x, kind)
    else:
        for j in range(x.shape[2]):
            rows = complete[:, j]
            if rows.sum() >= 2:
                out[j] = _icc(x[rows][:, :, j : j + 1], kind)[0]
    return float(out[0]) if squeeze else out


def _icc(x: np.ndarray, kind: str) -> np.ndarray:
    """ICC per variable of a complete (n, k, m) array."""
    n, k, _ = x.shape
    if n < 2:
        return np.full(x.shape[2], np.nan)
    grand = x.mean(axis=(0, 1))
    row = x.mean(axis=1)
    col = x.mean(axis=0)
    ss_total = ((x - grand) ** 2).sum(axis=(0, 1))
    ss_rows = k * ((row - grand) ** 2).sum(axis=0)
    ss_cols = n * ((col - grand) ** 2).sum(axis=0)
    ss_err = np.maximum(ss_total - ss_rows - ss_cols, 0.0)
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = {
            "ICC(1,1)": (msr - msw) / (msr + (k - 1) * msw),
            "ICC(2,1)": (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
            "ICC(3,1)": (msr - mse) / (msr + (k - 1) * mse),
            "ICC(1,k)": (msr - msw) / msr,
            "ICC(2,k)": (msr - mse) / (msr + (msc - mse) / n),
            "ICC(3,k)": (msr - mse) / msr,
        }[kind]
    # Scale-free test for "no variance at all": ICC undefined, not 1 or 0.
    flat = ss_total <= 1e-24 * np.maximum(1.0, (x**2).sum(axis=(0, 1)))
    value = np.where(flat | ~np.isfinite(value), np.nan, value)
    return value


def icc_table(
    tables: Mapping[str, pd.DataFrame], *, kinds: Sequence[str] = ICC_KINDS[:3]
) -> pd.DataFrame:
    """ICC of every feature across raters' feature tables.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        One feature table per rater (reader or mask perturbation), indexed by case
        id. Only the cases and features every table has are used.
    kinds : sequence of str, default=("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")
        ICC forms to compute (see :func:`intraclass_correlation`).

    Returns
    -------
    DataFrame
        Indexed by feature name, one column per ICC form and ``n_cases``.
    """
    if len(tables) < 2:
        raise ValueError(
            f"An ICC needs feature tables of at least 2 raters; got {len(tables)}."
        )
    names = list(tables)
    cases = sorted(set.intersection(*(set(t.index) for t in tables.values())))
    features = [
        c
        for c in tables[names[0]].columns
        if all(c in t.columns for t in tables.values())
    ]
    if len(cases) < 2:
        raise ValueError(
            f"An ICC needs at least 2 cases present for every rater; got {len(cases)} "
            f"(raters {names})."
        )
    cube = np.stack(
        [tables[r].loc[cases, features].to_numpy(dtype=float) for r in names], axis=1
    )
    out = pd.DataFrame(
        {kind: intraclass_correlation(cube, kind) for kind in kinds},
        index=pd.Index(features, name="feature"),
    )
    out["n_cases"] = len(cases)
    return out


def _roi(mask: sitk.Image, label: int) -> np.ndarray:
    return sitk.GetArrayFromImage(mask) == label


def perturbed_masks(
    mask: sitk.Image,
    perturbations: Sequence[str] = ("erode", "dilate", "contour", "contour"),
    *,
    label: int = 1,
    random_state: int | np.random.Generator | None = 0,
) -> dict[str, sitk.Image]:
    """Perturbed versions of a region of interest, as different readers might draw it.

    Parameters
    ----------
    mask : SimpleITK.Image
        The mask (3-D).
    perturbations : sequence of str, default=("erode", "dilate", "contour", "contour")
        Each one of :data:`PERTURBATIONS`: ``"erode"`` / ``"dilate"`` remove / add
        one voxel layer (6-connected), ``"contour"`` randomises the outline: every
        voxel on the inner or outer one-voxel shell of the region is flipped where
        a smooth random field (Gaussian, sigma one voxel) is above its median, so
        that the outline moves in patches. Repeat ``"contour"`` for several
        randomisations; they are named ``contour1``, ``contour2``, ...
    label : int, default=1
        The mask value of the region.
    random_state : int, Generator or None, default=0
        Seed of the contour randomisations.

    Returns
    -------
    dict of str to SimpleITK.Image
        Binary masks (value ``label`` inside, 0 outside; other labels are not
        kept) on the grid of ``mask``.

    Raises
    ------
    ValueError
        For an unknown perturbation, a mask without the label, or a perturbation
        that empties the region (erosion of a region one voxel thick).

    Notes
    -----
    Zwanenburg et al. (2019) randomise contours with supervoxels; the shell-flip
    randomisation here is a simpler, voxel-scale stand-in with the same purpose.

    References
    ----------
    Zwanenburg A, Leger S, Agolli L, et al. Assessing robustness of radiomic
    features by image perturbation. Sci Rep. 2019;9:614.
    """
    unknown = [p for p in perturbations if p not in PERTURBATIONS]
    if unknown:
        raise ValueError(
            f"Unknown perturbation(s) {unknown}; expected among {list(PERTURBATIONS)}."
        )
    roi = _roi(mask, label)
    if not roi.any():
        raise ValueError(f"The mask has no voxels with label {label}.")
    rng = np.random.default_rng(random_state)
    cross = ndimage.generate_binary_structure(3, 1)
    out: dict[str, sitk.Image] = {}
    n_contour = 0
    for name in perturbations:
        if name == "erode":
            new = ndimage.binary_erosion(roi, cross)
        elif name == "dilate":
            new = ndimage.binary_dilation(roi, cross)
        else:
            n_contour += 1
            name = f"contour{n_contour}"
            shell = ndimage.binary_dilation(roi, cross) & ~ndimage.binary_erosion(
                roi, cross
            )
            noise = ndimage.gaussian_filter(rng.standard_normal(roi.shape), 1.0)
            flip = shell & (noise > np.median(noise[shell]))
            new = roi ^ flip
        if not new.any():
            raise ValueError(
                f"Perturbation {name!r} leaves no voxel with label {label} (region "
                f"of {int(roi.sum())} voxels); expected a region thicker than one "
                "voxel."
            )
        image = sitk.GetImageFromArray(new.astype(np.uint8) * np.uint8(label))
        image.CopyInformation(mask)
        out[name] = image
    return out


@dataclass
class RobustnessResult:
    """Everything :func:`robustness_icc` produced.

    Attributes
    ----------
    icc : DataFrame
        ICC per feature (see :func:`icc_table`).
    features : dict of str to DataFrame
        The feature table of every rater (``"original"`` and each perturbation).
    errors : DataFrame
        Cases left out: ``case_id, sequence, stage, file, message, rater``.
    """

    icc: pd.DataFrame
    features: dict[str, pd.DataFrame]
    errors: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*ERROR_COLUMNS, "rater"])
    )


def robustness_icc(
    cohort: Cohort | str | os.PathLike,
    settings: ExtractionSettings | dict | str | os.PathLike | None = None,
    *,
    perturbations: Sequence[str] = ("erode", "dilate", "contour", "contour"),
    readers: Mapping[str, Cohort] | None = None,
    mask_dir: str | os.PathLike | None = None,
    n_jobs: int = 1,
    cache_dir: str | os.PathLike | None = None,
    random_state: int = 0,
    return_result: bool = False,
) -> pd.DataFrame | RobustnessResult:
    """ICC of every feature across perturbed masks (or several readers' masks).

    Each case is extracted on its own mask (rater ``"original"``) and on each
    perturbation of it (:func:`perturbed_masks`), written as NIfTI files to
    ``mask_dir``; the ICC of each feature over these raters measures how robust
    it is to the outline. With ``readers``, the raters are instead the given
    cohorts (the same cases and images, each reader's own masks).

    Parameters
    ----------
    cohort : Cohort or path-like
        The cohort (or its manifest CSV).
    settings : ExtractionSettings, dict, path-like or None, default=None
        Extraction settings, as for :func:`extract_features`.
    perturbations : sequence of str, default=("erode", "dilate", "contour", "contour")
        Mask perturbations (see :func:`perturbed_masks`); ignored with ``readers``.
    readers : mapping of str to Cohort, default=None
        Other readers' cohorts (same case ids), rated against ``cohort``.
    mask_dir : path-like, default=None
        Folder for the perturbed masks (kept); default a temporary folder,
        removed afterwards.
    n_jobs : int, default=1
        Cases extracted in parallel.
    cache_dir : path-like, default=None
        Extraction cache (see :func:`extract_features`).
    random_state : int, default=0
        Seed of contour randomisation; each case gets its own stream.
    return_result : bool, default=False
        Return a :class:`RobustnessResult` (ICC, every rater's features, errors)
        instead of the ICC table only.

    Returns
    -------
    DataFrame or RobustnessResult
        ICC(1,1), ICC(2,1), ICC(3,1) and ``n_cases`` per feature. Cases that
        failed for any rater are left out of the ICC and listed in ``errors``.

    Examples
    --------
    >>> from radsarc.features import robustness_icc
    >>> icc = robustness_icc("manifest.csv", "params.yaml")  # doctest: +SKIP
    >>> robust = icc.index[icc["ICC(2,1)"] > 0.75]  # doctest: +SKIP
    """
    if not isinstance(cohort, Cohort):
        cohort = Cohort.from_csv(cohort)
    settings = ExtractionSettings.coerce(settings)
    errors: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="radsarc-masks-") as tmp:
        root = Path(mask_dir) if mask_dir is not None else Path(tmp)
        if readers is not None:
            if not readers:
                raise ValueError(
                    "readers must name at least one other reader's cohort."
                )
            raters = {"original": cohort, **dict(readers)}
        else:
            several = [
                (case.case_id, list(names))
                for case in cohort
                for names in case.rois.values()
                if len(names) > 1
            ]
            if several:
                raise ValueError(
                    f"Mask perturbations need one region per case; case "
                    f"{several[0][0]!r} names the regions {several[0][1]}. Run "
                    "robustness_icc once per region (a cohort whose 'roi' names "
                    "one structure)."
                )
            raters = _perturbation_cohorts(
                cohort, perturbations, settings.label, root, random_state, errors
            )
        tables = {}
        for name, rater in raters.items():
            result = extract_features(
                rater, settings, n_jobs=n_jobs, cache_dir=cache_dir, return_result=True
            )
            tables[name] = result.features
            errors.extend(
                {**row, "rater": name} for row in result.errors.to_dict("records")
            )
    errors_frame = pd.DataFrame(errors, columns=[*ERROR_COLUMNS, "rater"])
    icc = icc_table(tables)
    logger.info(
        "robustness ICC over %d raters, %d cases, %d features (%d failures)",
        len(tables),
        int(icc["n_cases"].iloc[0]) if len(icc) else 0,
        len(icc),
        len(errors_frame),
    )
    if return_result:
        return RobustnessResult(icc=icc, features=tables, errors=errors_frame)
    return icc


def _perturbation_cohorts(cohort, perturbations, label, root, random_state, errors):
    """Write perturbed masks; one cohort per rater (cases that failed left out)."""
    seeds = np.random.SeedSequence(random_state).spawn(len(cohort))
    per_rater: dict[str, list[Case]] = {}
    names: list[str] | None = None
    for case, seed in zip(cohort, seeds, strict=True):
        new_masks: dict[str, dict[str, Path]] = {}
        written: dict[Path, dict[str, Path]] = {}
        try:
            for seq in cohort.sequences:
                source = Path(case.masks[seq])
                if source not in written:
                    masks = perturbed_masks(
                        case_mask(case, seq, label=label),
                        perturbations,
                        label=label,
                        random_state=np.random.default_rng(seed),
                    )
                    stem = f"mask{len(written)}"
                    paths = {}
                    for rater, image in masks.items():
                        path = root / rater / case.case_id / f"{stem}.nii.gz"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        sitk.WriteImage(image, str(path), useCompression=True)
                        paths[rater] = path
                    written[source] = paths
                for rater, path in written[source].items():
                    new_masks.setdefault(rater, {})[seq] = path
        except (ValueError, OSError) as exc:
            errors.append(
                {
                    "case_id": case.case_id,
                    "sequence": seq,
                    "stage": "perturb",
                    "file": str(case.masks[seq]),
                    "message": str(exc),
                    "rater": "",
                }
            )
            continue
        names = names or list(new_masks)
        per_rater.setdefault("original", []).append(case)
        for rater, masks in new_masks.items():
            per_rater.setdefault(rater, []).append(
                Case(
                    case.case_id,
                    dict(case.images),
                    masks,
                    label=case.label,
                    group=case.group,
                    covariates=dict(case.covariates),
                )
            )
    if not per_rater:
        raise ValueError(
            f"No case of {cohort.source or 'the cohort'} could be perturbed; see the "
            f"first problem: {errors[0]['message'] if errors else 'no cases'}"
        )
    return {
        rater: Cohort(cases, source=f"{cohort.source} [{rater}]")
        for rater, cases in per_rater.items()
    }
