"""Reading images and masks (any SimpleITK format or a DICOM series folder).

Every function here names the file it was given in its errors, so that a caller
holding the case id can report case, file and what was expected.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

__all__ = [
    "IMAGE_SUFFIXES",
    "file_digest",
    "geometry_mismatch",
    "read_image",
    "resample_to_reference",
]

#: File name endings radsarc recognises as image files (everything SimpleITK reads
#: through its ImageIO factories; DICOM series are folders).
IMAGE_SUFFIXES = (
    ".nii.gz",
    ".nii",
    ".nrrd",
    ".nhdr",
    ".mha",
    ".mhd",
    ".dcm",
)

_CHUNK = 1 << 20


def _dicom_files(folder: Path) -> list[str]:
    """Files of the first DICOM series in ``folder`` (sorted by SimpleITK)."""
    reader = sitk.ImageSeriesReader()
    series = reader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise ValueError(
            f"Folder {folder} holds no readable DICOM series; expected a folder of "
            "DICOM files of one image series (or an image file such as .nii.gz)."
        )
    if len(series) > 1:
        raise ValueError(
            f"Folder {folder} holds {len(series)} DICOM series ({', '.join(series)}); "
            "expected exactly one series per folder."
        )
    return list(reader.GetGDCMSeriesFileNames(str(folder), series[0]))


def read_image(path: str | os.PathLike, *, what: str = "image") -> sitk.Image:
    """Read an image file or a DICOM series folder into a SimpleITK image.

    Parameters
    ----------
    path : str or path-like
        An image file in any format SimpleITK reads (NIfTI, NRRD, MHA/MHD, ...) or
        a folder holding one DICOM series.
    what : str, default="image"
        What the file is, used in error messages (``"image"``, ``"mask"``).

    Returns
    -------
    SimpleITK.Image

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read as an image.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what.capitalize()} file {path} does not exist.")
    try:
        if path.is_dir():
            files = _dicom_files(path)
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(files)
            return reader.Execute()
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        # SimpleITK's messages are long C++ traces; keep the first useful line.
        first = next(
            (line.strip() for line in str(exc).splitlines() if "ERROR" in line.upper()),
            str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error",
        )
        raise ValueError(
            f"Cannot read {what} {path}: expected a readable image file (NIfTI, NRRD, "
            f"MHA) or DICOM series folder; SimpleITK said: {first}"
        ) from None


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, or of all files of a folder in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = (
        sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    )
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def geometry_mismatch(
    image: sitk.Image, mask: sitk.Image, tolerance: float = 1e-3
) -> list[str]:
    """Differences in size, spacing, origin and direction between image and mask.

    Spacing and origin are compared with a tolerance relative to the image spacing
    (as ITK does), direction cosines with an absolute ``tolerance``.

    Returns
    -------
    list of str
        One human-readable line per differing property; empty when they match.
    """
    problems = []
    if image.GetSize() != mask.GetSize():
        problems.append(f"size {mask.GetSize()} != image size {image.GetSize()}")
    spacing = np.asarray(image.GetSpacing())
    scale = tolerance * spacing
    if np.any(np.abs(np.asarray(mask.GetSpacing()) - spacing) > scale):
        problems.append(
            f"spacing {_fmt(mask.GetSpacing())} != image spacing {_fmt(spacing)}"
        )
    if len(mask.GetOrigin()) == len(image.GetOrigin()) and np.any(
        np.abs(np.asarray(mask.GetOrigin()) - np.asarray(image.GetOrigin())) > scale
    ):
        problems.append(
            f"origin {_fmt(mask.GetOrigin())} != image origin {_fmt(image.GetOrigin())}"
        )
    if len(mask.GetDirection()) != len(image.GetDirection()) or np.any(
        np.abs(np.asarray(mask.GetDirection()) - np.asarray(image.GetDirection()))
        > tolerance
    ):
        problems.append("direction cosines differ from the image's")
    return problems


def _fmt(values) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def resample_to_reference(mask: sitk.Image, reference: sitk.Image) -> sitk.Image:
    """Resample a label mask onto the grid of ``reference`` (nearest neighbour)."""
    return sitk.Resample(
        mask,
        reference,
        sitk.Transform(),
        sitk.sitkNearestNeighbor,
        0,
        mask.GetPixelID(),
    )
