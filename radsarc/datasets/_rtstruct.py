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

__all__ = ["RTStruct", "read_rtstruct", "rtstruct_to_mask"]

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

    def find_roi(self, roi: str) -> str | None:
        """The structure whose name matches ``roi`` (exact, else regex), if any."""
        for name in self.contours:
            if name.strip().lower() == roi.strip().lower():
                return name
        pattern = re.compile(roi, re.IGNORECASE)
        matches = [name for name in self.contours if pattern.search(name)]
        return matches[0] if len(matches) == 1 else None


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
            data = np.asarray(contour.ContourData, dtype=float)
            if data.size % 3:
                raise ValueError(
                    f"{path}: a contour of structure {name!r} has {data.size} "
                    "coordinates; expected x, y, z triplets."
                )
            if geometric_type == "POINT":
                continue
            polygons.append(data.reshape(-1, 3))
    return RTStruct(path, frozenset(series), frozenset(frames), contours)


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
        exactly one structure name.
    case_id : str, default=""
        Used in error messages.

    Returns
    -------
    mask : SimpleITK.Image
        ``uint8`` mask (1 inside the structure) on the image's grid.

    Raises
    ------
    ValueError
        If the structure is missing, a contour does not lie in one slice of the
        image grid, or no contour falls inside the image.
    """
    if not isinstance(rtstruct, RTStruct):
        rtstruct = read_rtstruct(rtstruct)
    where = f" (case {case_id!r})" if case_id else ""
    name = rtstruct.find_roi(roi)
    if name is None:
        raise ValueError(
            f"RTSTRUCT {rtstruct.path}{where} has no structure matching {roi!r}; "
            f"it has {sorted(rtstruct.contours)}."
        )
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
    mask = sitk.GetImageFromArray(array.astype(np.uint8))
    mask.CopyInformation(image)
    return mask
