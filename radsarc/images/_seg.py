"""DICOM SEG segments to masks on an image grid (read with highdicom)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radsarc.images._masks import LoadedMasks, MaskError, MaskGrid, dicom_identity
from radsarc.images._rtstruct import match_names

__all__ = ["seg_masks"]


def _segments(seg) -> list[tuple[int, str, str]]:
    return [
        (
            int(item.SegmentNumber),
            str(getattr(item, "SegmentLabel", "") or ""),
            str(getattr(item, "SegmentDescription", "") or ""),
        )
        for item in seg.SegmentSequence
    ]


def _listing(segments) -> str:
    return ", ".join(
        f"{n} {lab!r}" + (f" ({desc!r})" if desc else "") for n, lab, desc in segments
    )


def _choose(segments, roi: str, file: Path) -> tuple[int, str]:
    """The one segment whose label or description matches ``roi``."""
    labels = [s[1] for s in segments]
    descriptions = [s[2] for s in segments]
    chosen: set[int] = set()
    for exact in (True, False):
        for names in (labels, descriptions):
            pool = [n for n in names if n]
            found = (
                match_names(pool, roi)
                if not exact
                else [n for n in pool if n.strip().lower() == roi.strip().lower()]
            )
            chosen |= {s[0] for s in segments if s[1] in found or s[2] in found}
        if chosen:
            break
    if len(chosen) == 1:
        number = chosen.pop()
        return number, next(s[1] or s[2] for s in segments if s[0] == number)
    if chosen:
        raise MaskError(
            "roi",
            file,
            f"DICOM SEG {file}: {roi!r} matches {len(chosen)} segments "
            f"{sorted(chosen)}; expected exactly one. The file has the segments "
            f"{_listing(segments)}.",
        )
    raise MaskError(
        "roi",
        file,
        f"DICOM SEG {file} has no segment whose label or description matches "
        f"{roi!r} (case-insensitive name, or a regular expression matching a whole "
        f"name); it has the segments {_listing(segments)}.",
    )


def seg_masks(
    file: str | os.PathLike,
    image: sitk.Image,
    *,
    image_path: str | os.PathLike = "",
    rois: tuple[str, ...] = (),
    label: int = 1,
) -> LoadedMasks:
    """Segments of a DICOM SEG as masks on the grid of ``image``.

    The segment's frames are assembled into a volume by highdicom (positions
    and orientation from the SEG itself) and mapped onto the image grid by
    nearest neighbour, which keeps every voxel when the SEG was made on this
    image series (its voxel centres are the image's).
    """
    import highdicom as hd

    file = Path(file)
    try:
        seg = hd.seg.segread(file)
    except Exception as exc:  # noqa: BLE001 - highdicom/pydicom errors vary
        raise MaskError(
            "readable", file, f"Cannot read DICOM SEG {file}: {exc}"
        ) from None
    seg_type = str(getattr(seg, "SegmentationType", ""))
    if seg_type == "FRACTIONAL":
        raise MaskError(
            "readable",
            file,
            f"DICOM SEG {file} is FRACTIONAL (probabilities or occupancy); "
            "expected a BINARY or LABELMAP segmentation, whose voxels are in or "
            "out of the region.",
        )
    segments = _segments(seg)
    if not segments:
        raise MaskError("roi", file, f"DICOM SEG {file} has no segment.")
    if not rois:
        if len(segments) != 1:
            raise MaskError(
                "roi",
                file,
                f"DICOM SEG {file} has {len(segments)} segments "
                f"({_listing(segments)}); name the one(s) to use in the manifest "
                "column 'roi' (or 'roi_<SEQ>'), or with --roi NAME (roi= in "
                "Python).",
            )
        rois = (segments[0][1] or segments[0][2] or str(segments[0][0]),)
        chosen = {rois[0]: (segments[0][0], rois[0])}
    else:
        chosen = {roi: _choose(segments, roi, file) for roi in rois}
    identity = dicom_identity(image_path) if image_path else None
    frame = str(getattr(seg, "FrameOfReferenceUID", "") or "")
    if identity and identity["frame"] and frame and frame != identity["frame"]:
        raise MaskError(
            "reference",
            file,
            f"DICOM SEG {file} is in frame of reference {frame}; image "
            f"{image_path} is series {identity['series']} in frame of reference "
            f"{identity['frame']}; expected a segmentation of this image.",
        )
    regions, structures = {}, {}
    several = len(chosen) > 1
    for roi, (number, name) in chosen.items():
        try:
            volume = seg.get_volume(segment_numbers=[number], combine_segments=True)
        except Exception as exc:  # noqa: BLE001 - frames that make no volume
            raise MaskError(
                "readable",
                file,
                f"Cannot assemble segment {number} of DICOM SEG {file} into a "
                f"volume: {exc}",
            ) from None
        seg_image = volume.to_simpleitk()
        array = (sitk.GetArrayViewFromImage(seg_image) > 0).astype(np.uint8)
        binary = sitk.GetImageFromArray(array * np.uint8(label))
        binary.CopyInformation(seg_image)
        mask = sitk.Resample(
            binary,
            image,
            sitk.Transform(),
            sitk.sitkNearestNeighbor,
            0,
            sitk.sitkUInt8,
        )
        key = roi if several else ""
        regions[key] = mask
        structures[key] = name
    return LoadedMasks("seg", regions, MaskGrid("segmentation resampled"), structures)
