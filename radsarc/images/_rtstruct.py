"""DICOM RTSTRUCT contours to masks on an image grid.

Contours of an RT structure set are closed planar polygons in patient
coordinates (millimetres, DICOM LPS). Each polygon is mapped to continuous voxel
indices of the target image, must lie in one slice of it (within half a voxel),
and is filled slice by slice: a voxel belongs to the polygon when its centre
lies inside it (a polygon smaller than a voxel keeps the voxel of its
centroid). Several polygons of one structure on the same slice combine by
exclusive or, so that an inner contour cuts a hole, the usual reading of
DICOM's closed planar contours.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

__all__ = ["RTStruct", "match_names", "read_rtstruct", "rtstruct_to_mask"]

logger = logging.getLogger(__name__)

# Largest distance (in slices) of a contour point from the contour's slice.
_PLANE_TOLERANCE = 0.5


@dataclass(frozen=True)
class RTStruct:
    """The parts of an RTSTRUCT file needed to rasterise its contours.

    Attributes
    ----------
    path : Path
        The file.
    referenced_series : frozenset of str
        SeriesInstanceUIDs of the image series the contours were drawn on.
    frames_of_reference : frozenset of str
        FrameOfReferenceUIDs the contours are given in.
    contours : dict of str to list of ndarray
        Per structure (ROI) name, its closed planar contours as (n_points, 3)
        arrays of patient coordinates in mm.
    """

    path: Path
    referenced_series: frozenset[str]
    frames_of_reference: frozenset[str]
    contours: dict[str, list[np.ndarray]] = field(repr=False)

    def find_roi(self, roi: str, *, partial: bool = False) -> str | None:
        """The structure whose name matches ``roi``, if exactly one does.

        See :func:`match_names` for the rule; ``partial=True`` lets the regular
        expression match part of a name (``re.search``) instead of all of it.
        """
        found = match_names(list(self.contours), roi, partial=partial)
        return found[0] if len(found) == 1 else None


def match_names(names: list[str], roi: str, *, partial: bool = False) -> list[str]:
    """Names matching ``roi``: exact (case-insensitive) first, else a regex.

    A name equal to ``roi`` ignoring case (and surrounding spaces) wins; when
    none is, ``roi`` is a regular expression (case-insensitive) that must match
    a whole name (``re.fullmatch``; ``partial=True``: ``re.search``). Returns
    every name that matches by the first rule that finds any; the caller
    requires exactly one.
    """
    wanted = roi.strip()
    exact = [n for n in names if n.strip().lower() == wanted.lower()]
    if exact:
        same_case = [n for n in exact if n.strip() == wanted]
        return same_case[:1] if len(exact) > 1 and same_case else exact
    try:
        pattern = re.compile(wanted, re.IGNORECASE)
    except re.error:
        return []
    match = pattern.search if partial else pattern.fullmatch
    return [n for n in names if match(n.strip())]


def read_rtstruct(path: str | os.PathLike) -> RTStruct:
    """Read the contours of a DICOM RT structure set.

    Parameters
    ----------
    path : str or path-like
        An RTSTRUCT file.

    Returns
    -------
    RTStruct

    Raises
    ------
    ValueError
        If the file is not an RTSTRUCT or a contour is malformed.
    """
    import pydicom

    path = Path(path)
    ds = pydicom.dcmread(path, force=True)
    if getattr(ds, "Modality", None) != "RTSTRUCT":
        raise ValueError(
            f"{path} is not a DICOM RT structure set; expected Modality RTSTRUCT, "
            f"got {getattr(ds, 'Modality', None)!r}."
        )
    series, frames = set(), set()
    for ref_frame in getattr(ds, "ReferencedFrameOfReferenceSequence", []):
        if "FrameOfReferenceUID" in ref_frame:
            frames.add(str(ref_frame.FrameOfReferenceUID))
        for study in getattr(ref_frame, "RTReferencedStudySequence", []):
            for ref_series in getattr(study, "RTReferencedSeriesSequence", []):
                series.add(str(ref_series.SeriesInstanceUID))
    names = {}
    for roi in getattr(ds, "StructureSetROISequence", []):
        names[int(roi.ROINumber)] = str(getattr(roi, "ROIName", roi.ROINumber))
        if "ReferencedFrameOfReferenceUID" in roi:
            frames.add(str(roi.ReferencedFrameOfReferenceUID))
    contours: dict[str, list[np.ndarray]] = {}
    for roi_contour in getattr(ds, "ROIContourSequence", []):
        name = names.get(int(roi_contour.ReferencedROINumber))
        if name is None:
            continue
        polygons = contours.setdefault(name, [])
        for contour in getattr(roi_contour, "ContourSequence", []):
            geometric_type = str(
                getattr(contour, "ContourGeometricType", "CLOSED_PLANAR")
            )
            data = _contour_data(contour)
            if data.size % 3:
                raise ValueError(
                    f"{path}: a contour of structure {name!r} has {data.size} "
                    "coordinates; expected x, y, z triplets."
                )
            if geometric_type == "POINT":
                continue
            polygons.append(data.reshape(-1, 3))
    return RTStruct(path, frozenset(series), frozenset(frames), contours)


def _contour_data(contour) -> np.ndarray:
    """ContourData as floats, parsed from the raw text when it is still raw.

    pydicom turns each decimal string into a Python object on access, which
    takes most of the reading time of a large structure set; the numbers are
    the same.
    """
    raw = contour.get_item("ContourData")
    value = getattr(raw, "value", None)
    if isinstance(value, bytes):
        try:
            text = value.decode("ascii").strip(" \x00")
            return np.array(text.split("\\"), dtype=float) if text else np.empty(0)
        except ValueError:  # not plain decimal strings: let pydicom parse them
            pass
    return np.asarray(contour.ContourData, dtype=float)


def _physical_to_index(image: sitk.Image, points: np.ndarray) -> np.ndarray:
    """Continuous (x, y, z) voxel indices of physical points (n, 3)."""
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing(), dtype=float)
    origin = np.asarray(image.GetOrigin(), dtype=float)
    matrix = direction @ np.diag(spacing)
    return np.linalg.solve(matrix, (points - origin).T).T


def _fill_polygon(vertices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean (y, x) array of the voxels whose centres lie inside the polygon."""
    from matplotlib.path import Path as PolygonPath

    ny, nx = shape
    out = np.zeros(shape, dtype=bool)
    x0 = max(int(np.floor(vertices[:, 0].min())), 0)
    x1 = min(int(np.ceil(vertices[:, 0].max())), nx - 1)
    y0 = max(int(np.floor(vertices[:, 1].min())), 0)
    y1 = min(int(np.ceil(vertices[:, 1].max())), ny - 1)
    if x1 < x0 or y1 < y0:
        return out
    xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    inside = PolygonPath(vertices[:, :2]).contains_points(centres)
    out[y0 : y1 + 1, x0 : x1 + 1] = inside.reshape(xs.shape)
    if not out.any():
        # A contour smaller than a voxel: keep the voxel holding its centroid.
        cx, cy = np.rint(vertices[:, :2].mean(axis=0)).astype(int)
        if 0 <= cx < nx and 0 <= cy < ny:
            out[cy, cx] = True
    return out


def rtstruct_to_mask(
    rtstruct: RTStruct | str | os.PathLike,
    image: sitk.Image,
    roi: str,
    *,
    case_id: str = "",
    partial: bool = False,
    label: int = 1,
) -> sitk.Image:
    """Rasterise one structure of an RTSTRUCT onto an image grid.

    Parameters
    ----------
    rtstruct : RTStruct or path-like
        The structure set.
    image : SimpleITK.Image
        The 3D image whose grid the mask takes (origin, spacing, direction).
    roi : str
        Structure name (case-insensitive), or a regular expression matching
        exactly one structure name (see :func:`match_names`).
    case_id : str, default=""
        Used in error messages.
    partial : bool, default=False
        Let the regular expression match part of a name.
    label : int, default=1
        Mask value inside the structure.

    Returns
    -------
    mask : SimpleITK.Image
        ``uint8`` mask (``label`` inside the structure) on the image's grid.

    Raises
    ------
    ValueError
        If no structure or several match, a contour does not lie in one slice
        of the image grid, or no contour falls inside the image.
    """
    if not isinstance(rtstruct, RTStruct):
        rtstruct = read_rtstruct(rtstruct)
    name = resolve_structure(rtstruct, roi, case_id=case_id, partial=partial)
    return rasterise(rtstruct, name, image, case_id=case_id, label=label)


def resolve_structure(
    rtstruct: RTStruct, roi: str, *, case_id: str = "", partial: bool = False
) -> str:
    """The one structure name matching ``roi``, or a ValueError listing them."""
    found = match_names(list(rtstruct.contours), roi, partial=partial)
    if len(found) == 1:
        return found[0]
    where = f" (case {case_id!r})" if case_id else ""
    if found:
        raise ValueError(
            f"RTSTRUCT {rtstruct.path}{where}: {roi!r} matches {len(found)} "
            f"structures {found}; expected exactly one. The file has the "
            f"structures {list(rtstruct.contours)}."
        )
    raise ValueError(
        f"RTSTRUCT {rtstruct.path}{where} has no structure matching {roi!r} "
        "(case-insensitive name, or a regular expression matching a whole name); "
        f"it has the structures {list(rtstruct.contours)}."
    )


def contour_planes(rtstruct: RTStruct, name: str, image: sitk.Image) -> np.ndarray:
    """The (continuous) slice index of each contour of ``name`` on ``image``."""
    return np.array(
        [
            float(np.mean(_physical_to_index(image, polygon)[:, 2]))
            for polygon in rtstruct.contours[name]
        ]
    )


def rasterise(
    rtstruct: RTStruct,
    name: str,
    image: sitk.Image,
    *,
    case_id: str = "",
    label: int = 1,
) -> sitk.Image:
    """Rasterise the structure called exactly ``name`` onto ``image``'s grid."""
    where = f" (case {case_id!r})" if case_id else ""
    nx, ny, nz = image.GetSize()
    array = np.zeros((nz, ny, nx), dtype=bool)
    n_outside = 0
    for polygon in rtstruct.contours[name]:
        index = _physical_to_index(image, polygon)
        k = float(np.mean(index[:, 2]))
        if np.max(np.abs(index[:, 2] - k)) > _PLANE_TOLERANCE:
            raise ValueError(
                f"A contour of {name!r} in {rtstruct.path}{where} spans "
                f"{np.ptp(index[:, 2]):.2f} slices of the image grid; expected "
                "contours in the image's slice planes (the RTSTRUCT was drawn on "
                "another grid: rasterise it on its own series and resample)."
            )
        slice_index = int(np.rint(k))
        if not 0 <= slice_index < nz:
            n_outside += 1
            continue
        array[slice_index] ^= _fill_polygon(index, (ny, nx))
    if not array.any():
        raise ValueError(
            f"Structure {name!r} of {rtstruct.path}{where} has no voxel inside the "
            f"image grid ({n_outside} contour(s) fall outside its {nz} slices); "
            "expected the RTSTRUCT of this image series."
        )
    if n_outside:
        logger.warning(
            "%d contour(s) of %r in %s%s fall outside the image grid",
            n_outside,
            name,
            rtstruct.path,
            where,
        )
    mask = sitk.GetImageFromArray(array.astype(np.uint8) * np.uint8(label))
    mask.CopyInformation(image)
    return mask
