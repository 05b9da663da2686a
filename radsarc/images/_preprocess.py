"""MRI preprocessing before feature extraction.

MRI intensities have no fixed unit and vary with scanner, coil and patient, so
radiomics on MRI needs explicit preprocessing. Each step here is a plain function
on SimpleITK images; :class:`PreprocessingConfig` holds a validated set of steps
(the ``preprocessing`` section of the extraction settings) and :func:`preprocess`
applies them in a fixed order:

1. N4 bias-field correction (SimpleITK ``N4BiasFieldCorrectionImageFilter``),
2. resampling to a chosen spacing (image: B-spline or linear; mask: nearest
   neighbour or partial-volume threshold),
3. intensity normalisation: z-score in the ROI or the body, percentile scaling,
   or Nyul histogram standardisation with landmarks learned on training images,
4. resegmentation of the ROI by an intensity range,
5. a peritumoral ring of a given thickness in mm (outside the tumour, inside the
   body) as an extra region with its own features.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import SimpleITK as sitk

from radsarc.exceptions import SettingsError

__all__ = [
    "NYUL_PERCENTILES",
    "PreprocessingConfig",
    "apply_nyul",
    "body_mask",
    "learn_nyul_landmarks",
    "n4_correct",
    "normalize_percentile",
    "nyul_landmarks_for",
    "normalize_zscore",
    "peritumoral_ring",
    "preprocess",
    "resample_image",
    "resample_mask",
    "resegment",
]

#: Percentiles used as Nyul landmarks (Shah et al. 2011: deciles and 1/99).
NYUL_PERCENTILES = (1.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 99.0)
_NYUL_SCALE = (0.0, 100.0)

_INTERP = {"bspline": sitk.sitkBSpline, "linear": sitk.sitkLinear}


# -- single steps --------------------------------------------------------------


def body_mask(image: sitk.Image) -> sitk.Image:
    """The body (foreground) of an MRI volume: Otsu threshold, largest component.

    Holes (e.g. dark cortical bone, air in the bowel) are filled slice by slice
    so the body is a solid region.

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 inside the body) on the image grid.
    """
    smooth = sitk.SmoothingRecursiveGaussian(
        sitk.Cast(image, sitk.sitkFloat32), float(min(image.GetSpacing()))
    )
    fg = sitk.OtsuThreshold(smooth, 0, 1)
    cc = sitk.RelabelComponent(sitk.ConnectedComponent(fg), sortByObjectSize=True)
    largest = sitk.Cast(cc == 1, sitk.sitkUInt8)
    filled = sitk.BinaryFillhole(largest, fullyConnected=False, foregroundValue=1)
    arr = sitk.GetArrayFromImage(filled)
    # 2-D hole filling per slice catches holes open at the volume's ends.
    from scipy import ndimage

    arr = np.stack([ndimage.binary_fill_holes(s) for s in arr]).astype(np.uint8)
    out = sitk.GetImageFromArray(arr)
    out.CopyInformation(image)
    return out


def n4_correct(
    image: sitk.Image,
    body: sitk.Image | None = None,
    *,
    shrink_factor: int = 2,
    iterations: Sequence[int] = (50, 50, 30),
) -> sitk.Image:
    """N4 bias-field correction (Tustison et al. 2010) with SimpleITK.

    The field is estimated on an image shrunk by ``shrink_factor`` and inside
    ``body`` (default: :func:`body_mask`), then applied at full resolution.

    Returns
    -------
    SimpleITK.Image
        Float32 corrected image on the input grid.
    """
    img = sitk.Cast(image, sitk.sitkFloat32)
    body = body if body is not None else body_mask(image)
    small = sitk.Shrink(img, [shrink_factor] * img.GetDimension())
    small_mask = sitk.Shrink(body, [shrink_factor] * img.GetDimension())
    n4 = sitk.N4BiasFieldCorrectionImageFilter()
    n4.SetMaximumNumberOfIterations([int(i) for i in iterations])
    # N4 needs strictly positive intensities.
    offset = float(np.min(sitk.GetArrayViewFromImage(small))) - 1.0
    shift = -offset if offset < 0 else 0.0
    n4.Execute(small + shift, small_mask)
    log_field = n4.GetLogBiasFieldAsImage(img)
    return sitk.Cast((img + shift) / sitk.Exp(log_field) - shift, sitk.sitkFloat32)


def _grid(image: sitk.Image, spacing: Sequence[float]):
    spacing = [float(s) for s in spacing]
    size = [
        max(1, int(round(n * s / t)))
        for n, s, t in zip(image.GetSize(), image.GetSpacing(), spacing, strict=True)
    ]
    return size, spacing


def resample_image(
    image: sitk.Image, spacing: Sequence[float], interpolator: str = "bspline"
) -> sitk.Image:
    """Resample an image to ``spacing`` (mm, x y z) keeping origin and direction.

    The output grid covers the same physical extent (sizes rounded to whole
    voxels).
    """
    size, spacing = _grid(image, spacing)
    return sitk.Resample(
        sitk.Cast(image, sitk.sitkFloat32),
        size,
        sitk.Transform(),
        _INTERP[interpolator],
        image.GetOrigin(),
        spacing,
        image.GetDirection(),
        0.0,
        sitk.sitkFloat32,
    )


def resample_mask(
    mask: sitk.Image,
    reference: sitk.Image,
    *,
    label: int = 1,
    mode: str = "nearest",
    threshold: float = 0.5,
) -> sitk.Image:
    """Resample the ``label`` region of a mask onto ``reference``'s grid.

    ``mode="nearest"``: nearest-neighbour interpolation of the label.
    ``mode="partial_volume"``: linear interpolation of the region's indicator
    (its partial-volume fraction) kept where it is >= ``threshold`` (IBSI 1
    recommends 0.5).

    Returns
    -------
    SimpleITK.Image
        uint8 mask with the value ``label`` inside the region, 0 elsewhere.
    """
    region = sitk.Cast(mask == label, sitk.sitkFloat32)
    if mode == "nearest":
        out = (
            sitk.Resample(
                region,
                reference,
                sitk.Transform(),
                sitk.sitkNearestNeighbor,
                0.0,
                sitk.sitkFloat32,
            )
            > 0.5
        )
    else:
        out = (
            sitk.Resample(
                region,
                reference,
                sitk.Transform(),
                sitk.sitkLinear,
                0.0,
                sitk.sitkFloat32,
            )
            >= threshold
        )
    return sitk.Cast(out, sitk.sitkUInt8) * label


def _values(image: sitk.Image, region: sitk.Image, label: int = 1) -> np.ndarray:
    arr = sitk.GetArrayViewFromImage(image)
    sel = sitk.GetArrayViewFromImage(region) == label
    return np.asarray(arr[sel], dtype=np.float64)


def _from_array(arr: np.ndarray, like: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(arr.astype(np.float32))
    out.CopyInformation(like)
    return out


def normalize_zscore(
    image: sitk.Image, region: sitk.Image, label: int = 1, scale: float = 1.0
) -> sitk.Image:
    """(I - mean) / sd over ``region`` (the ROI or the body), times ``scale``."""
    v = _values(image, region, label)
    sd = v.std()
    if v.size == 0 or sd == 0:
        raise ValueError(
            "z-score normalisation needs a region with varying intensities; got "
            f"{v.size} voxel(s) with s.d. {sd:g}."
        )
    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    return _from_array((arr - v.mean()) / sd * scale, image)


def normalize_percentile(
    image: sitk.Image,
    region: sitk.Image,
    label: int = 1,
    percentiles: Sequence[float] = (1.0, 99.0),
    scale: float = 100.0,
) -> sitk.Image:
    """Map the ``percentiles`` of ``region`` to 0 and ``scale`` linearly."""
    v = _values(image, region, label)
    lo, hi = np.percentile(v, percentiles) if v.size else (0.0, 0.0)
    if hi <= lo:
        raise ValueError(
            f"percentile scaling needs distinct {percentiles[0]}th and "
            f"{percentiles[1]}th percentiles in the region; got {lo:g} and {hi:g}."
        )
    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    return _from_array((arr - lo) / (hi - lo) * scale, image)


def learn_nyul_landmarks(
    images: Sequence[tuple[sitk.Image, sitk.Image]],
    percentiles: Sequence[float] = NYUL_PERCENTILES,
) -> list[float]:
    """Learn Nyul's standard-scale landmarks from training images.

    For each (image, region) pair the intensities at ``percentiles`` inside the
    region are mapped linearly so that the first goes to 0 and the last to 100;
    the standard landmarks are the mean of the mapped values over the images
    (Nyul & Udupa 1999; Nyul et al. 2000; Shah et al. 2011). Learn them on the
    training images only.

    Returns
    -------
    list of float
        One standard-scale value per percentile (first 0, last 100).
    """
    if not images:
        raise ValueError("learn_nyul_landmarks needs at least one training image.")
    mapped = []
    for image, region in images:
        v = _values(image, region)
        p = np.percentile(v, percentiles)
        if p[-1] <= p[0]:
            raise ValueError(
                "Nyul standardisation needs distinct first and last landmark "
                f"percentiles in every training region; got {p[0]:g} and {p[-1]:g}."
            )
        lo, hi = _NYUL_SCALE
        mapped.append(lo + (p - p[0]) / (p[-1] - p[0]) * (hi - lo))
    return [float(x) for x in np.mean(mapped, axis=0)]


def apply_nyul(
    image: sitk.Image,
    region: sitk.Image,
    landmarks: Sequence[float],
    percentiles: Sequence[float] = NYUL_PERCENTILES,
) -> sitk.Image:
    """Map the image's own landmarks to the standard ones, piecewise linearly.

    Intensities beyond the first and last landmark are extrapolated with the
    slopes of the first and last segments.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.size != len(percentiles):
        raise ValueError(
            f"Nyul landmarks have {landmarks.size} values; expected one per "
            f"percentile ({len(percentiles)})."
        )
    p = np.percentile(_values(image, region), percentiles)
    if np.any(np.diff(p) <= 0):
        # Ties (e.g. a flat region): keep the mapping monotone.
        p = p + np.arange(p.size) * 1e-9 * max(1.0, abs(p[-1]))
    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    out = np.interp(arr, p, landmarks)
    lo_slope = (landmarks[1] - landmarks[0]) / (p[1] - p[0])
    hi_slope = (landmarks[-1] - landmarks[-2]) / (p[-1] - p[-2])
    out = np.where(arr < p[0], landmarks[0] + (arr - p[0]) * lo_slope, out)
    out = np.where(arr > p[-1], landmarks[-1] + (arr - p[-1]) * hi_slope, out)
    return _from_array(out, image)


def resegment(
    image: sitk.Image,
    mask: sitk.Image,
    low: float | None,
    high: float | None,
    label: int = 1,
) -> sitk.Image:
    """Remove from the ROI the voxels whose intensity is outside [low, high]."""
    arr = sitk.GetArrayViewFromImage(image)
    m = sitk.GetArrayFromImage(mask)
    keep = m == label
    if low is not None:
        keep &= arr >= low
    if high is not None:
        keep &= arr <= high
    out = np.where(keep, label, 0).astype(m.dtype)
    res = sitk.GetImageFromArray(out)
    res.CopyInformation(mask)
    return res


def peritumoral_ring(
    mask: sitk.Image, body: sitk.Image | None, thickness_mm: float, label: int = 1
) -> sitk.Image:
    """The shell of ``thickness_mm`` around the tumour, outside it, inside the body.

    Distances are physical (mm, using the voxel spacing): a voxel is in the ring
    when the Euclidean distance from its centre to the nearest tumour voxel centre
    is in (0, thickness_mm].

    Returns
    -------
    SimpleITK.Image
        uint8 mask with value ``label`` in the ring.
    """
    tumour = sitk.Cast(mask == label, sitk.sitkUInt8)
    dist = sitk.SignedMaurerDistanceMap(
        tumour, insideIsPositive=False, squaredDistance=False, useImageSpacing=True
    )
    d = sitk.GetArrayViewFromImage(dist)
    # The distance map is float32: allow 1e-4 mm so that a voxel exactly at the
    # thickness (e.g. 5 x 0.8 mm = 4 mm) is not lost to rounding.
    ring = (d > 0) & (d <= thickness_mm + 1e-4)
    if body is not None:
        ring &= sitk.GetArrayViewFromImage(body) > 0
    out = sitk.GetImageFromArray(np.where(ring, label, 0).astype(np.uint8))
    out.CopyInformation(mask)
    return out


# -- configuration ---------------------------------------------------------------

_SCHEMA: dict[str, dict[str, tuple]] = {
    # step: {key: (kind, constraint, default)}
    "n4": {
        "shrink_factor": ("int", ("min", 1), 2),
        "iterations": ("ints", ("min", 1), (50, 50, 30)),
    },
    "resample": {
        "spacing": ("floats3", ("gt", 0), None),
        "interpolator": ("enum", ("bspline", "linear"), "bspline"),
        "mask": ("enum", ("nearest", "partial_volume"), "nearest"),
        "threshold": ("float", ("range", 0.0, 1.0), 0.5),
    },
    "normalize": {
        "method": ("enum", ("zscore", "percentile", "nyul"), None),
        "region": ("enum", ("roi", "body"), "body"),
        "percentiles": ("floats2", ("range", 0.0, 100.0), (1.0, 99.0)),
        "scale": ("float", ("gt", 0), None),
        "landmarks": ("landmarks", None, None),
    },
    "resegment": {
        "range": ("range2", None, None),
    },
    "ring": {
        "thickness_mm": ("float", ("gt", 0), None),
    },
}
_REQUIRED = {
    "resample": ("spacing",),
    "normalize": ("method",),
    "resegment": ("range",),
    "ring": ("thickness_mm",),
}


def _suggest(name, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check(step: str, key: str, value, spec):
    kind, constraint, _ = spec
    where = f"preprocessing.{step}.{key}"

    def fail(expected):
        raise SettingsError(
            f"Setting {where} must be {expected}; got {value!r} instead."
        )

    def number(v):
        return isinstance(v, int | float) and not isinstance(v, bool)

    if kind == "enum":
        if value not in constraint:
            fail(f"one of {list(constraint)}")
        return value
    if kind == "int":
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < constraint[1]
        ):
            fail(f"an integer >= {constraint[1]}")
        return value
    if kind == "ints":
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
            )
        ):
            fail("a non-empty list of integers >= 1")
        return tuple(int(v) for v in value)
    if kind == "float":
        if not number(value):
            fail("a number")
        tag = constraint[0]
        if (tag == "gt" and value <= constraint[1]) or (
            tag == "range" and not constraint[1] <= value <= constraint[2]
        ):
            fail(
                "a number > 0"
                if tag == "gt"
                else f"a number in [{constraint[1]}, {constraint[2]}]"
            )
        return float(value)
    if kind in ("floats3", "floats2"):
        n = 3 if kind == "floats3" else 2
        if (
            not isinstance(value, list | tuple)
            or len(value) != n
            or not all(number(v) for v in value)
        ):
            fail(f"a list of {n} numbers")
        vals = tuple(float(v) for v in value)
        if kind == "floats3" and min(vals) <= 0:
            fail("a list of 3 spacings > 0 (mm, x y z)")
        if kind == "floats2" and not (0 <= vals[0] < vals[1] <= 100):
            fail("two increasing percentiles in [0, 100]")
        return vals
    if kind == "range2":
        if (
            not isinstance(value, list | tuple)
            or len(value) != 2
            or not all(v is None or number(v) for v in value)
            or (value[0] is not None and value[1] is not None and value[0] >= value[1])
        ):
            fail("[low, high] with low < high (null for an open end)")
        return tuple(None if v is None else float(v) for v in value)
    if kind == "landmarks":
        if not isinstance(value, Mapping):
            fail("a mapping of sequence name to a list of landmarks")
        out = {}
        for seq, lm in value.items():
            if (
                not isinstance(lm, list | tuple)
                or len(lm) != len(NYUL_PERCENTILES)
                or not all(number(v) for v in lm)
            ):
                raise SettingsError(
                    f"Setting {where}[{seq!r}] must be a list of "
                    f"{len(NYUL_PERCENTILES)} numbers (one per Nyul percentile); "
                    f"got {lm!r} instead."
                )
            out[str(seq)] = tuple(float(v) for v in lm)
        return MappingProxyType(out)
    raise AssertionError(kind)  # pragma: no cover - schema kinds are closed


@dataclass(frozen=True)
class PreprocessingConfig:
    """Validated MRI preprocessing steps (the ``preprocessing`` settings section).

    Parameters
    ----------
    steps : mapping, default={}
        ``{step: {option: value}}`` with steps ``n4``, ``resample``,
        ``normalize``, ``resegment``, ``ring`` (see ``docs/preprocessing.md``).
        An empty mapping means no preprocessing.

    Examples
    --------
    >>> from radsarc.images import PreprocessingConfig
    >>> cfg = PreprocessingConfig.from_dict({
    ...     "resample": {"spacing": [1, 1, 3]},
    ...     "normalize": {"method": "zscore", "region": "roi"},
    ...     "ring": {"thickness_mm": 10},
    ... })
    >>> cfg.regions
    ('', 'ring')
    """

    steps: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, Mapping):
            raise SettingsError(
                "The preprocessing section must be a mapping of steps "
                f"({', '.join(_SCHEMA)}); got {type(self.steps).__name__}."
            )
        clean = {}
        for step, options in self.steps.items():
            if step not in _SCHEMA:
                raise SettingsError(
                    f"Unknown preprocessing step {step!r}.{_suggest(step, _SCHEMA)} "
                    f"Known steps: {', '.join(_SCHEMA)}."
                )
            if options is None:
                options = {}
            if not isinstance(options, Mapping):
                raise SettingsError(
                    f"preprocessing.{step} must be a mapping of options; "
                    f"got {options!r}."
                )
            schema = _SCHEMA[step]
            for key in options:
                if key not in schema:
                    raise SettingsError(
                        f"Unknown setting preprocessing.{step}.{key!r}."
                        f"{_suggest(key, schema)} Known: {', '.join(schema)}."
                    )
            for key in _REQUIRED.get(step, ()):
                if options.get(key) is None:
                    raise SettingsError(
                        f"preprocessing.{step} needs {key!r}; got {dict(options)!r}."
                    )
            values = {}
            for key, spec in schema.items():
                if options.get(key) is not None:
                    values[key] = _check(step, key, options[key], spec)
                elif spec[2] is not None:
                    values[key] = spec[2]
            clean[step] = MappingProxyType(values)
        norm = clean.get("normalize")
        if norm is not None and norm["method"] == "nyul" and "landmarks" not in norm:
            raise SettingsError(
                "preprocessing.normalize method 'nyul' needs 'landmarks' per sequence, "
                "learned on training images only: use "
                "ExtractionSettings.with_nyul_landmarks(train_cohort) (or "
                "radsarc.images.nyul_landmarks_for) and pass the result."
            )
        object.__setattr__(self, "steps", MappingProxyType(clean))

    @classmethod
    def from_dict(cls, steps: Mapping | None) -> PreprocessingConfig:
        """A validated configuration from a plain mapping (None: no steps)."""
        return cls(steps or {})

    def to_dict(self) -> dict:
        """Plain, JSON/YAML-friendly mapping of the steps."""

        def plain(v):
            if isinstance(v, Mapping):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            return v

        return plain(self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def regions(self) -> tuple[str, ...]:
        """Regions features are extracted from: ``""`` (tumour) and ``"ring"``."""
        return ("", "ring") if "ring" in self.steps else ("",)

    @property
    def needs_body(self) -> bool:
        """True when a step uses the body mask."""
        norm = self.steps.get("normalize")
        return (
            "n4" in self.steps
            or "ring" in self.steps
            or (norm is not None and norm["region"] == "body")
        )


def preprocess(
    image: sitk.Image,
    mask: sitk.Image,
    config: PreprocessingConfig,
    *,
    sequence: str = "",
    label: int = 1,
) -> tuple[sitk.Image, dict[str, sitk.Image]]:
    """Apply the configured steps to one image and its mask.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        The image and its ROI mask (same grid).
    config : PreprocessingConfig
        The steps.
    sequence : str, default=""
        The sequence name, to pick its Nyul landmarks.
    label : int, default=1
        The ROI label in ``mask``.

    Returns
    -------
    image : SimpleITK.Image
        The preprocessed image (float32 when any intensity step ran).
    regions : dict of str to SimpleITK.Image
        ``{"": tumour mask}`` plus ``{"ring": ring mask}`` when configured; each
        with the value ``label`` inside the region.
    """
    steps = config.steps
    if not steps:
        return image, {"": mask}
    image, mask, body = _spatial(image, mask, config, label)
    if "normalize" in steps:
        n = steps["normalize"]
        region, region_label = (mask, label) if n["region"] == "roi" else (body, 1)
        if n["method"] == "zscore":
            image = normalize_zscore(
                image, region, region_label, scale=n.get("scale", 1.0)
            )
        elif n["method"] == "percentile":
            image = normalize_percentile(
                image, region, region_label, n["percentiles"], n.get("scale", 100.0)
            )
        else:
            landmarks = n["landmarks"]
            if sequence not in landmarks:
                raise ValueError(
                    f"no Nyul landmarks for sequence {sequence or '<single>'!r}; "
                    f"landmarks are given for {sorted(landmarks)}"
                )
            image = apply_nyul(image, _unit(region, region_label), landmarks[sequence])
    if "resegment" in steps:
        low, high = steps["resegment"]["range"]
        mask = resegment(image, mask, low, high, label)
        if not np.any(sitk.GetArrayViewFromImage(mask) == label):
            raise ValueError(
                f"no voxel of the ROI is inside the resegmentation range "
                f"[{low}, {high}]; expected the range to keep part of the tumour"
            )
    regions = {"": mask}
    if "ring" in steps:
        regions["ring"] = peritumoral_ring(
            mask, body, steps["ring"]["thickness_mm"], label
        )
    return image, regions


def _unit(region: sitk.Image, label: int) -> sitk.Image:
    """A region as a 0/1 mask."""
    return region if label == 1 else sitk.Cast(region == label, sitk.sitkUInt8)


def _spatial(image, mask, config, label, need_body=None):
    """The steps before normalisation: body mask, N4, resampling."""
    steps = config.steps
    need_body = config.needs_body if need_body is None else need_body
    body = body_mask(image) if need_body or "n4" in steps else None
    if "n4" in steps:
        image = n4_correct(
            image,
            body,
            shrink_factor=steps["n4"]["shrink_factor"],
            iterations=steps["n4"]["iterations"],
        )
    if "resample" in steps:
        r = steps["resample"]
        image = resample_image(image, r["spacing"], r["interpolator"])
        mask = resample_mask(
            mask, image, label=label, mode=r["mask"], threshold=r["threshold"]
        )
        if body is not None:
            body = resample_mask(body, image, label=1, mode="nearest")
        if not np.any(sitk.GetArrayViewFromImage(mask) == label):
            raise ValueError(
                f"the mask has no voxels with label {label} after resampling to "
                f"{list(r['spacing'])} mm; expected a region larger than a voxel"
            )
    return image, mask, body


def nyul_landmarks_for(
    cohort, config: PreprocessingConfig, *, label: int = 1, region: str = "body"
) -> dict[str, list[float]]:
    """Learn Nyul landmarks per sequence on a (training) cohort.

    Each image goes through the configured steps that come before normalisation
    (N4, resampling), exactly as :func:`preprocess` runs them, then its region
    (``"body"`` or ``"roi"``) enters :func:`learn_nyul_landmarks`.

    Parameters
    ----------
    cohort : Cohort
        The training cases only: landmarks learned on test cases leak.
    config : PreprocessingConfig
        The preprocessing configuration (its normalisation step is ignored).
    label : int, default=1
        ROI label.
    region : {"body", "roi"}, default="body"
        Where the landmark percentiles are taken.

    Returns
    -------
    dict of str to list of float
        Landmarks per sequence name.
    """
    from radsarc.images._cohort import case_mask
    from radsarc.images._io import read_image

    if region not in ("body", "roi"):
        raise ValueError(f"region must be 'body' or 'roi'; got {region!r}.")
    spatial = PreprocessingConfig.from_dict(
        {k: v for k, v in config.to_dict().items() if k in ("n4", "resample")}
    )
    landmarks = {}
    for seq in cohort.sequences:
        pairs = []
        for case in cohort:
            image = read_image(case.images[seq])
            mask = case_mask(case, seq, label=label, image=image)
            image, mask, body = _spatial(
                image, mask, spatial, label, need_body=region == "body"
            )
            pairs.append((image, body if region == "body" else _unit(mask, label)))
        landmarks[seq] = learn_nyul_landmarks(pairs)
    return landmarks
