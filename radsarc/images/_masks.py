"""Masks of a case: label images, RTSTRUCT and DICOM SEG files, on the image grid.

A manifest's ``mask`` cell may name a label image (NIfTI, NRRD, ..., a DICOM
folder), a DICOM RT structure set or a DICOM SEG file; the kind is found from
the file's content (its SOP Class / Modality), not from its name. Structures
(RTSTRUCT) and segments (SEG) are chosen by name with :func:`match_names`.

Every mask ends on the image's grid. A label image whose grid differs from the
image's by less than the geometry tolerance (header rounding) takes the image's
grid; beyond it, it is resampled only when asked (``correctMask``), otherwise
the error gives the offset in mm and in voxels.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radsarc.images._io import (
    IMAGE_SUFFIXES,
    _dicom_files,
    geometry_mismatch,
    read_image,
    resample_to_reference,
)

__all__ = [
    "DEFAULT_GEOMETRY_TOLERANCE",
    "MaskError",
    "MaskGrid",
    "conform_mask",
    "dicom_identity",
    "load_masks",
    "mask_kind",
    "mask_values",
]

logger = logging.getLogger(__name__)

#: Default geometry tolerance: a fraction of the image's voxel spacing (origin and
#: spacing) and an absolute tolerance on direction cosines. Absorbs the float32
#: rounding of NIfTI headers (about 1e-5 mm) and nothing a user could see.
DEFAULT_GEOMETRY_TOLERANCE = 1e-3

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"

# A contour "lies in a slice plane" of an image when its plane is within this
# fraction of the slice spacing of a slice centre (rounded contour coordinates
# stay well within it; the nearest slice is then unambiguous).
_PLANE_FIT = 0.25

_RESAMPLE_HINT = (
    "To resample the mask onto the image grid (nearest neighbour), set "
    "'correctMask: true' in the setting section of the parameter file "
    "(radsarc extract/validate --settings FILE; resample_mask=True in "
    "Cohort.validate), or raise 'geometryTolerance' if the offset is rounding"
)


class MaskError(ValueError):
    """A mask that cannot be put on the image grid.

    Attributes
    ----------
    check : str
        The validation check it belongs to (``"readable"``, ``"roi"``,
        ``"reference"``, ``"geometry"``, ``"dimension"``).
    file : str
        The file at fault.
    """

    def __init__(self, check: str, file, message: str) -> None:
        self.check = check
        self.file = str(file)
        super().__init__(message)


@dataclass(frozen=True)
class MaskGrid:
    """How a mask was put on the image grid (recorded in the diagnostics).

    Attributes
    ----------
    action : str
        ``"identical"`` (same grid), ``"aligned"`` (within the tolerance: the
        image's grid was taken), ``"reoriented"`` (the same voxels stored in
        another axis order or direction, reordered; combined with the others
        as ``"reoriented, aligned"``), ``"embedded"`` (a mask saved over another
        extent of the image's voxel grid, copied into place), ``"resampled"``
        (nearest neighbour,
        ``correctMask``), ``"rasterised"`` (RTSTRUCT contours filled on the
        image grid), ``"rasterised on reference, resampled"``, or
        ``"segmentation resampled"`` (DICOM SEG frames mapped onto the grid).
    offset_mm, offset_voxels : float
        Largest difference between the mask's and the image's origin, in mm and
        in voxels of the image (0 for masks made on the image grid).
    """

    action: str
    offset_mm: float = 0.0
    offset_voxels: float = 0.0


@dataclass
class LoadedMasks:
    """Region masks of one case and sequence, on the image grid.

    ``regions`` maps ``""`` (one region) or each requested roi name (several)
    to its mask; ``structures`` maps the same keys to the structure or segment
    name found in the file (empty for label images).
    """

    kind: str
    regions: dict[str, sitk.Image]
    grid: MaskGrid
    structures: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# What a mask file is
# ---------------------------------------------------------------------------
def _dicom_object(path: Path) -> str | None:
    """``"rtstruct"`` or ``"seg"`` for such DICOM files, else None."""
    lower = path.name.lower()
    if lower.endswith(tuple(s for s in IMAGE_SUFFIXES if s != ".dcm")):
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return None
    if head[128:132] != b"DICM" and not lower.endswith(".dcm") and "." in lower:
        return None
    import pydicom

    try:
        ds = pydicom.dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=["SOPClassUID", "Modality"],
            force=True,
        )
    except Exception:  # noqa: BLE001 - not a DICOM file: read as an image later
        return None
    sop = str(getattr(ds, "SOPClassUID", ""))
    modality = str(getattr(ds, "Modality", "")).upper()
    if sop == RTSTRUCT_SOP_CLASS or modality == "RTSTRUCT":
        return "rtstruct"
    if sop == SEG_SOP_CLASS or modality == "SEG":
        return "seg"
    return None


def mask_kind(path: str | os.PathLike) -> tuple[str, Path]:
    """What a mask path holds: ``("image" | "rtstruct" | "seg", file)``.

    The kind comes from the content (SOP Class UID or Modality), not the file
    name. A folder holding a single RTSTRUCT or SEG file counts as that file;
    any other folder is a DICOM image series (a label image).
    """
    path = Path(path)
    if path.is_dir():
        files = [p for p in sorted(path.iterdir()) if p.is_file() and p.name[0] != "."]
        if len(files) == 1 and (kind := _dicom_object(files[0])):
            return kind, files[0]
        return "image", path
    if path.is_file() and (kind := _dicom_object(path)):
        return kind, path
    return "image", path


def dicom_identity(path: str | os.PathLike) -> dict[str, str | None] | None:
    """SeriesInstanceUID and FrameOfReferenceUID of a DICOM series or file.

    None when ``path`` is not DICOM (a NIfTI image carries neither).
    """
    path = Path(path)
    try:
        if path.is_dir():
            first = Path(_dicom_files(path)[0])
        elif path.is_file():
            first = path
        else:
            return None
        import pydicom

        ds = pydicom.dcmread(
            first,
            stop_before_pixels=True,
            specific_tags=["SeriesInstanceUID", "FrameOfReferenceUID"],
        )
    except Exception:  # noqa: BLE001 - not DICOM: nothing to compare
        return None
    series = getattr(ds, "SeriesInstanceUID", None)
    frame = getattr(ds, "FrameOfReferenceUID", None)
    if series is None and frame is None:
        return None
    return {
        "series": str(series) if series else None,
        "frame": str(frame) if frame else None,
    }


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------
def grid_offset(image: sitk.Image, mask: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """Mask origin minus image origin: in mm (x, y, z) and in image voxels."""
    diff = np.asarray(mask.GetOrigin(), float) - np.asarray(image.GetOrigin(), float)
    n = image.GetDimension()
    direction = np.asarray(image.GetDirection(), float).reshape(n, n)
    voxels = (direction.T @ diff) / np.asarray(image.GetSpacing(), float)
    return diff, voxels


def _same_grid(image: sitk.Image, mask: sitk.Image) -> bool:
    return (
        image.GetSize() == mask.GetSize()
        and image.GetOrigin() == mask.GetOrigin()
        and image.GetSpacing() == mask.GetSpacing()
        and image.GetDirection() == mask.GetDirection()
    )


def _vec(values) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"


def conform_mask(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
    resample: bool = False,
    image_path: str | os.PathLike = "",
    mask_path: str | os.PathLike = "",
) -> tuple[sitk.Image, MaskGrid]:
    """Put a label mask on the image's grid.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        3-D image and mask.
    tolerance : float, default=1e-3
        Largest difference of origin and spacing, as a fraction of the image's
        voxel spacing, and of direction cosines (absolute), that is header
        rounding rather than another grid.
    resample : bool, default=False
        Beyond the tolerance, resample the mask onto the image grid (nearest
        neighbour) instead of raising.
    image_path, mask_path : path-like
        Used in the error message.

    Returns
    -------
    mask : SimpleITK.Image
        The mask itself when the grids are identical; within the tolerance the
        same voxels with the image's origin, spacing and direction; resampled
        beyond it (``resample=True``).
    grid : MaskGrid
        What was done and the origin offset.

    Raises
    ------
    MaskError
        Beyond the tolerance without ``resample``: names both files, the
        offset in mm and in voxels, and how to resample.
    """
    if _same_grid(image, mask):
        return mask, MaskGrid("identical")
    prefix = ""
    reoriented = _reorient(image, mask, tolerance)
    if reoriented is not None:
        mask, prefix = reoriented, "reoriented, "
        if _same_grid(image, mask):
            return mask, MaskGrid("reoriented")
    mm, voxels = grid_offset(image, mask)
    offset_mm = float(np.max(np.abs(mm))) if mm.size else 0.0
    offset_vox = float(np.max(np.abs(voxels))) if voxels.size else 0.0
    mismatch = geometry_mismatch(image, mask, tolerance)
    if not mismatch:
        aligned = sitk.Image(mask)
        aligned.CopyInformation(image)
        logger.debug(
            "mask %s takes the grid of %s (origin offset %s mm)",
            mask_path,
            image_path,
            _vec(mm),
        )
        return aligned, MaskGrid(prefix + "aligned", offset_mm, offset_vox)
    embedded = _embed(image, mask, voxels, tolerance, image_path, mask_path)
    if embedded is not None:
        return embedded, MaskGrid(prefix + "embedded", offset_mm, offset_vox)
    if resample:
        return resample_to_reference(mask, image), MaskGrid(
            "resampled", offset_mm, offset_vox
        )
    raise MaskError(
        "geometry",
        mask_path,
        f"mask does not match the image grid of {image_path}: "
        f"{'; '.join(mismatch)}; the origin of mask {mask_path} is {_vec(mm)} mm "
        f"= {_vec(voxels)} voxels from the image's, beyond the tolerance of "
        f"{tolerance:g} voxel (setting geometryTolerance). {_RESAMPLE_HINT}.",
    )


def _reorient(image, mask, tolerance):
    """The mask with its axes permuted and flipped like the image's, or None.

    Tools that write NIfTI files may store the same voxels in another axis order
    or direction (rows flipped, slices reversed). When the mask's axes are such
    a permutation of the image's (direction cosines equal within the tolerance
    after reordering), the reordered mask covers exactly the same voxels: no
    interpolation. Any other difference in direction returns None.
    """
    if image.GetDimension() != 3 or mask.GetDimension() != 3:
        return None
    direction = np.asarray(image.GetDirection())
    if np.all(np.abs(np.asarray(mask.GetDirection()) - direction) <= tolerance):
        return None
    code = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(
        image.GetDirection()
    )
    try:
        reoriented = sitk.DICOMOrient(mask, code)
    except RuntimeError:
        return None
    if np.all(np.abs(np.asarray(reoriented.GetDirection()) - direction) <= tolerance):
        return reoriented
    return None


def _embed(image, mask, voxels, tolerance, image_path, mask_path):
    """A mask cropped to (or padded around) the region, put back on the image grid.

    Segmentation tools may save a mask on the voxels of the image but over
    another extent (a box around the region). When spacing and direction agree
    within the tolerance, the sizes differ and the origin is a whole number of
    voxels away (within the tolerance), every mask voxel is an image voxel: the
    mask is copied into place, nothing is interpolated. A region reaching
    outside the image is refused. Returns None for any other grid.
    """
    if image.GetSize() == mask.GetSize() or image.GetDimension() != 3:
        return None
    spacing = np.asarray(image.GetSpacing(), float)
    same_spacing = np.all(
        np.abs(np.asarray(mask.GetSpacing(), float) - spacing) <= tolerance * spacing
    )
    same_direction = np.all(
        np.abs(np.asarray(mask.GetDirection()) - np.asarray(image.GetDirection()))
        <= tolerance
    )
    shift = np.rint(voxels)
    if not (
        same_spacing and same_direction and np.all(np.abs(voxels - shift) <= tolerance)
    ):
        return None
    shift = shift.astype(int)[::-1]  # (z, y, x) like the arrays
    source = sitk.GetArrayViewFromImage(mask)
    target = np.zeros(sitk.GetArrayViewFromImage(image).shape, dtype=source.dtype)
    lo = np.maximum(shift, 0)
    hi = np.minimum(shift + np.array(source.shape), np.array(target.shape))
    if np.any(hi <= lo):
        inside = 0
    else:
        src = tuple(slice(a - d, b - d) for a, b, d in zip(lo, hi, shift, strict=True))
        dst = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        target[dst] = source[src]
        inside = int(np.count_nonzero(target[dst]))
    total = int(np.count_nonzero(source))
    if inside < total:
        raise MaskError(
            "geometry",
            mask_path,
            f"mask {mask_path} ({mask.GetSize()} voxels on the image's voxel grid) "
            f"reaches outside image {image_path} (size {image.GetSize()}): "
            f"{total - inside} of its {total} labelled voxels lie outside; expected "
            "the mask of this image.",
        )
    out = sitk.GetImageFromArray(target)
    out.CopyInformation(image)
    return out


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def load_masks(
    image: sitk.Image,
    mask_path: str | os.PathLike,
    *,
    image_path: str | os.PathLike = "",
    rois: tuple[str, ...] = (),
    reference: str | os.PathLike | None = None,
    label: int = 1,
    tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
    resample: bool = False,
    threshold: float | None = None,
) -> LoadedMasks:
    """The region masks of one case and sequence, on the grid of ``image``.

    Parameters
    ----------
    image : SimpleITK.Image
        The 3-D image (already read).
    mask_path : path-like
        Label image, RTSTRUCT or DICOM SEG (see :func:`mask_kind`).
    image_path : path-like
        Where ``image`` was read from (DICOM identity and messages).
    rois : tuple of str
        Structures (RTSTRUCT) or segments (SEG) to use; empty: the file's only
        one. Several give several regions. Must be empty for a label image.
    reference : path-like, optional
        The DICOM series an RTSTRUCT was drawn on, when it is not the image.
    label : int, default=1
        Value of the region in a label image, and the value given to
        rasterised structures and segments.
    tolerance, resample
        See :func:`conform_mask`.
    threshold : float, optional
        For a label image stored as floating point (a partial-volume or
        probability map): the region is where the value is >= ``threshold``
        (setting ``maskThreshold``); it gets the value ``label``. Integer masks
        are not changed. Without it such a mask is refused.

    Returns
    -------
    LoadedMasks

    Raises
    ------
    MaskError
        With the validation check it belongs to and the file at fault.
    """
    kind, file = mask_kind(mask_path)
    rois = tuple(rois)
    if kind == "image":
        if rois:
            raise MaskError(
                "roi",
                mask_path,
                f"mask {mask_path} is a label image, not an RTSTRUCT or DICOM SEG "
                f"file, but structure(s) {list(rois)} were requested (column "
                "'roi' / --roi); a roi names a structure of an RTSTRUCT or a "
                "segment of a SEG. For a label image choose the region with the "
                "'label' setting, or leave the roi empty.",
            )
        if reference is not None:
            raise MaskError(
                "reference",
                reference,
                f"a reference series ({reference}) is only used with RTSTRUCT "
                f"masks; mask {mask_path} is a label image.",
            )
        try:
            mask = read_image(mask_path, what="mask")
        except (ValueError, OSError) as exc:
            raise MaskError("readable", mask_path, str(exc)) from None
        if mask.GetDimension() != 3:
            raise MaskError(
                "dimension",
                mask_path,
                f"mask is {mask.GetDimension()}-D, size {mask.GetSize()}; expected 3-D",
            )
        if threshold is not None:
            mask = _threshold_fractional(mask, mask_path, threshold, label)
        _refuse_fractional(mask, mask_path)
        _refuse_intensity_image(mask, mask_path, image_path)
        mask, grid = conform_mask(
            image,
            mask,
            tolerance=tolerance,
            resample=resample,
            image_path=image_path,
            mask_path=mask_path,
        )
        return LoadedMasks("image", {"": mask}, grid)
    if kind == "seg":
        if reference is not None:
            raise MaskError(
                "reference",
                reference,
                f"a reference series ({reference}) is only used with RTSTRUCT "
                f"masks; {file} is a DICOM SEG, which carries its own geometry.",
            )
        from radsarc.images._seg import seg_masks

        return seg_masks(file, image, image_path=image_path, rois=rois, label=label)
    return _rtstruct_masks(
        file,
        image,
        image_path=image_path,
        rois=rois,
        reference=reference,
        label=label,
    )


#: More distinct values than a label image has (atlases have a few hundred).
MAX_MASK_LABELS = 1000


def _refuse_intensity_image(mask: sitk.Image, mask_path, image_path) -> None:
    """A "mask" that is an image (the image itself, or image and mask swapped).

    An MRI image with integer intensities passes as a label image: the voxels
    whose intensity happens to equal the label (1) became the region, and
    features of scattered voxels were reported, exit 0.
    """
    same = False
    if image_path:
        from radsarc._files import same_file

        same = same_file(mask_path, image_path)
    values = sitk.GetArrayViewFromImage(mask)
    n_values = 0
    if not same and values.dtype.itemsize > 1:
        n_values = np.unique(values).size
    if same or n_values > MAX_MASK_LABELS:
        what = (
            "is the image file itself"
            if same
            else f"holds {n_values:,} distinct values, more than a label image has "
            f"(at most {MAX_MASK_LABELS:,})"
        )
        raise MaskError(
            "mask_values",
            mask_path,
            f"mask {what}: it looks like an image, not a segmentation. Check the "
            f"manifest's mask column (image and mask swapped?); the image is "
            f"{image_path}",
        )


def _threshold_fractional(mask: sitk.Image, mask_path, threshold, label) -> sitk.Image:
    """A floating-point mask binarised at ``threshold``: ``label`` where the
    value is >= ``threshold``, else 0; other masks unchanged."""
    values = sitk.GetArrayViewFromImage(mask)
    if not np.issubdtype(values.dtype, np.floating):
        return mask
    bad = ~np.isfinite(values)
    if bad.any():
        raise MaskError(
            "mask_values",
            mask_path,
            f"mask holds {int(np.count_nonzero(bad))} NaN or infinite voxel(s); "
            f"expected finite partial-volume values to threshold at {threshold:g} "
            "(setting maskThreshold)",
        )
    inside = values >= threshold
    if not inside.any():
        raise MaskError(
            "mask_values",
            mask_path,
            f"no voxel of the mask reaches maskThreshold {threshold:g} (its largest "
            f"value is {float(values.max()):g}); lower the threshold or check the "
            "mask",
        )
    binary = sitk.GetImageFromArray((inside * label).astype(np.uint8))
    binary.CopyInformation(mask)
    return binary


def _refuse_fractional(mask: sitk.Image, mask_path) -> None:
    """A float mask with non-integer values is a partial-volume map: refused."""
    values = sitk.GetArrayViewFromImage(mask)
    if not np.issubdtype(values.dtype, np.floating):
        return
    fractional = ~np.isfinite(values) | (values != np.round(values))
    n_frac = int(np.count_nonzero(fractional))
    if n_frac:
        example = values[fractional].flat[0]
        raise MaskError(
            "mask_values",
            mask_path,
            f"mask holds {n_frac} voxel(s) with non-integer values (e.g. "
            f"{float(example):g}): a partial-volume or probability mask; "
            "expected integer labels. Threshold it with the setting "
            "'maskThreshold: 0.5' (the region is where the value is >= 0.5), or "
            "save it with integer values",
        )


def _describe_identity(identity, what: str) -> str:
    if identity is None:
        return f"the {what} is not DICOM (no series or frame of reference)"
    return (
        f"the {what} is series {identity['series'] or 'unknown'} in frame of "
        f"reference {identity['frame'] or 'unknown'}"
    )


def _rtstruct_masks(file, image, *, image_path, rois, reference, label):
    from radsarc.images._rtstruct import (
        contour_planes,
        rasterise,
        read_rtstruct,
        resolve_structure,
    )

    try:
        rt = read_rtstruct(file)
    except Exception as exc:  # noqa: BLE001 - pydicom's errors vary by file
        raise MaskError(
            "readable", file, f"Cannot read RTSTRUCT {file}: {exc}"
        ) from None
    if not rt.contours:
        raise MaskError("roi", file, f"RTSTRUCT {file} has no contoured structure.")
    if not rois:
        if len(rt.contours) != 1:
            raise MaskError(
                "roi",
                file,
                f"RTSTRUCT {file} has {len(rt.contours)} structures "
                f"{list(rt.contours)}; name the one(s) to use in the manifest "
                "column 'roi' (or 'roi_<SEQ>'), or with --roi NAME (roi= in "
                "Python).",
            )
        rois = tuple(rt.contours)
    names = {}
    for roi in rois:
        try:
            names[roi] = resolve_structure(rt, roi)
        except ValueError as exc:
            raise MaskError("roi", file, str(exc)) from None
        if not rt.contours[names[roi]]:
            raise MaskError(
                "roi",
                file,
                f"Structure {names[roi]!r} of RTSTRUCT {file} has no contour (an "
                "empty structure); expected a contoured region. The file has the "
                f"structures {list(rt.contours)}.",
            )
    references = (
        f"RTSTRUCT {file} references series "
        f"{sorted(rt.referenced_series) or 'unknown'} in frame of reference "
        f"{sorted(rt.frames_of_reference) or 'unknown'}"
    )
    identity = dicom_identity(image_path) if image_path else None

    def frame_conflict(ident) -> bool:
        return bool(
            ident
            and ident["frame"]
            and rt.frames_of_reference
            and ident["frame"] not in rt.frames_of_reference
            and ident["series"] not in rt.referenced_series
        )

    if reference is not None:
        reference = Path(reference)
        try:
            grid_image = read_image(reference, what="reference series")
        except (ValueError, OSError) as exc:
            raise MaskError("reference", reference, str(exc)) from None
        ref_identity = dicom_identity(reference)
        if frame_conflict(ref_identity):
            raise MaskError(
                "reference",
                reference,
                f"{references}; {_describe_identity(ref_identity, 'reference')} "
                f"({reference}); expected the series the RTSTRUCT was drawn on.",
            )
        if (
            identity
            and ref_identity
            and identity["frame"]
            and ref_identity["frame"]
            and identity["frame"] != ref_identity["frame"]
        ):
            raise MaskError(
                "reference",
                reference,
                f"reference series {reference} is in frame of reference "
                f"{ref_identity['frame']} but image {image_path} is in "
                f"{identity['frame']}; resampling between frames of reference "
                "needs a registration radsarc does not do.",
            )
    else:
        grid_image = image
        if frame_conflict(identity):
            raise MaskError(
                "reference",
                file,
                f"{references}; {_describe_identity(identity, 'image')} "
                f"({image_path}). Use the RTSTRUCT of this image, or name the "
                "series it was drawn on in the manifest column 'reference' (or "
                "'reference_<SEQ>').",
            )
        elsewhere = bool(
            identity
            and identity["series"]
            and rt.referenced_series
            and identity["series"] not in rt.referenced_series
        )
        for name in names.values():
            planes = contour_planes(rt, name, image)
            if not planes.size:
                continue
            off = float(np.max(np.abs(planes - np.rint(planes))))
            # Contours on every second (third, ...) slice only: drawn on a series
            # with thicker slices. A slice skipped here and there is not that.
            steps = np.diff(np.unique(np.rint(planes).astype(int)))
            gaps = steps.size >= 2 and int(steps.min()) >= 2
            if off > _PLANE_FIT or (elsewhere and gaps):
                detail = (
                    f"its contours of {name!r} lie up to {off:.2f} slices away "
                    "from the image's slice planes"
                    if off > _PLANE_FIT
                    else f"its contours of {name!r} lie on one slice in "
                    f"{int(steps.min())} or fewer of the image"
                )
                raise MaskError(
                    "reference",
                    file,
                    f"{references}, drawn on another grid than image "
                    f"{image_path}: {detail}; "
                    f"{_describe_identity(identity, 'image')}. Name the series it "
                    "was drawn on (its DICOM folder) in the manifest column "
                    "'reference' (or 'reference_<SEQ>'): the structure is then "
                    "rasterised on that series and resampled onto the image "
                    "(nearest neighbour).",
                )
    regions = {}
    for roi, name in names.items():
        try:
            mask = rasterise(rt, name, grid_image, label=label)
        except ValueError as exc:
            raise MaskError("geometry", file, str(exc)) from None
        if reference is not None:
            mask = resample_to_reference(mask, image)
        regions[roi] = mask
    keys = {roi: (roi if len(names) > 1 else "") for roi in names}
    grid = (
        MaskGrid("rasterised on reference, resampled")
        if reference is not None
        else MaskGrid("rasterised")
    )
    return LoadedMasks(
        "rtstruct",
        {keys[r]: m for r, m in regions.items()},
        grid,
        {keys[r]: names[r] for r in names},
    )


def mask_values(arr: np.ndarray) -> np.ndarray:
    """The distinct values of a mask array, sorted (``np.unique``), faster.

    Integer masks: when the minimum and maximum (two passes, no copy) differ
    by at most one, they are the values (a binary mask); else a ``bincount``
    when they fit in 0..2**20. Neither imports ``numpy.ma``, which
    ``numpy.unique`` does on first use (10-25 ms in a fresh process).
    """
    if arr.size and arr.dtype.kind in "ui":
        low, high = arr.min(), arr.max()
        if int(high) - int(low) <= 1:
            return np.array(sorted({low, high}), dtype=arr.dtype)
        if low >= 0 and high < 1 << 20:
            return np.flatnonzero(np.bincount(arr.ravel())).astype(arr.dtype)
    return np.unique(arr)
