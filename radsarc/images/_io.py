"""Reading images and masks (any SimpleITK format or a DICOM series folder).

Every function here names the file it was given in its errors, so that a caller
holding the case id can report case, file and what was expected.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk

__all__ = [
    "IMAGE_SUFFIXES",
    "file_digest",
    "file_problem",
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


@contextlib.contextmanager
def _quiet_itk():
    """Keep ITK's own "WARNING: In /tmp/SimpleITK-build/..." lines off stderr.

    The display flag is process-wide in ITK, so it is switched off only around
    a read and put back as it was; radsarc reports what went wrong itself.
    """
    previous = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(previous)


def file_problem(path: str | os.PathLike, what: str = "image") -> str | None:
    """Why ``path`` cannot be an image or mask file, before reading it; or None.

    The same verdict is given by :meth:`radsarc.images.Cohort.validate` and by
    extraction: a missing file, a broken symbolic link or a link loop, something
    that is neither a file nor a folder (a FIFO, a device), an unreadable file,
    an empty (0-byte) file, a ``.nii.gz`` that is not gzip-compressed and a
    ``.nii`` that is. A symbolic link to a good file is followed.

    Parameters
    ----------
    path : path-like
        The image or mask path (a file or a DICOM folder).
    what : str, default="image"
        ``"image"`` or ``"mask"``, for the message.

    Returns
    -------
    str or None
        What is wrong and what was expected (without the path, which the
        caller names), or None when the file can be read.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return (
                f"{what} file does not exist: it is a broken symbolic link to "
                f"{os.readlink(path)}"
            )
        return f"{what} file does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{what} file is a symbolic link loop; expected a file"
        return f"{what} file cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return None  # a DICOM series folder, checked when read
    if not stat.S_ISREG(info.st_mode):
        return (
            f"{what} path is not a regular file (a FIFO, socket or device); "
            "expected an image file or a DICOM folder"
        )
    if info.st_size == 0:
        return f"{what} file is empty (0 bytes); expected an image file"
    name = path.name.lower()
    if not name.endswith((".nii", ".nii.gz")):
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        return f"{what} file cannot be read ({exc.strerror or exc})"
    gzipped = head[:2] == b"\x1f\x8b"
    if name.endswith(".gz") and not gzipped:
        plain = _nifti_layout_start(head)
        return f"{what} file is named .nii.gz but is not gzip-compressed" + (
            "; it is an uncompressed NIfTI file: rename it to .nii"
            if plain
            else " and not a NIfTI file; expected a gzip-compressed NIfTI file"
        )
    if name.endswith(".nii") and gzipped:
        return (
            f"{what} file is named .nii but is gzip-compressed; rename it to "
            ".nii.gz (expected an uncompressed NIfTI file for .nii)"
        )
    if name.endswith(".nii") and not _nifti_layout_start(head):
        return (
            f"{what} file is named .nii but is not a NIfTI file (no NIfTI-1 or "
            "NIfTI-2 header); expected an uncompressed NIfTI file"
        )
    return None


def _nifti_layout_start(head: bytes) -> bool:
    """True when the first 4 bytes are a NIfTI-1/2 header size (348 or 540)."""
    if len(head) < 4:
        return False
    return any(struct.unpack(e + "i", head[:4])[0] in (348, 540) for e in "<>")


def _check_slice_positions(folder: Path, files: list[str]) -> None:
    """Refuse a DICOM series whose slices are not evenly spaced.

    SimpleITK reads a series with a missing slice (or a slice file copied
    twice) as if its slices were evenly spaced, with the mean spacing: every
    slice after the gap sits at the wrong place and the volume is wrong, with
    no error. The positions along the slice normal must step by the same
    spacing (within 1 %, or 1 micron).
    """
    if len(files) < 3:
        return
    import pydicom

    positions = []
    normal = None
    for name in files:
        try:
            ds = pydicom.dcmread(
                name,
                stop_before_pixels=True,
                specific_tags=["ImagePositionPatient", "ImageOrientationPatient"],
            )
            position = np.asarray(ds.ImagePositionPatient, dtype=float)
            if normal is None:
                orientation = np.asarray(ds.ImageOrientationPatient, dtype=float)
                normal = np.cross(orientation[:3], orientation[3:])
        except Exception:  # noqa: BLE001 - no geometry tags: nothing to check
            return
        positions.append(float(position @ normal))
    order = np.argsort(positions, kind="stable")
    files = [files[k] for k in order]
    steps = np.diff(np.asarray(positions)[order])
    spacing = float(np.median(steps))
    if spacing == 0:
        return
    off = np.flatnonzero(np.abs(steps - spacing) > max(1e-3, 0.01 * spacing))
    if not off.size:
        return
    i = int(off[0])
    a, b = Path(files[i]).name, Path(files[i + 1]).name
    if steps[i] <= max(1e-3, 0.01 * spacing):
        detail = f"slices {a} and {b} are at the same position (a file copied twice?)"
    else:
        detail = (
            f"slices {a} and {b} are {steps[i]:.4g} mm apart where the others "
            f"are {spacing:.4g} mm apart (a missing slice?)"
        )
    raise ValueError(
        f"DICOM series in {folder} is not evenly spaced: {detail}; "
        f"{off.size} of its {len(files) - 1} slice steps differ. Expected one "
        "complete series of evenly spaced slices (SimpleITK would read it with "
        "the mean spacing, putting slices at the wrong place)."
    )


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
    problem = file_problem(path, what)
    if problem is not None:
        missing = f"{what} file does not exist"
        if problem.startswith(missing):
            raise FileNotFoundError(
                f"{what.capitalize()} file {path} does not exist"
                f"{problem[len(missing) :]}."
            )
        raise ValueError(f"Cannot read {what} {path}: {problem}.")
    try:
        if path.is_dir():
            with _quiet_itk():
                files = _dicom_files(path)
                _check_slice_positions(path, files)
                reader = sitk.ImageSeriesReader()
                reader.SetFileNames(files)
                return reader.Execute()
        # The NIfTI check decompresses the file itself; it runs in a thread
        # beside SimpleITK's reading (zlib releases the GIL), on the core that
        # the reading leaves idle: a 19 MB float32 .nii.gz is read and checked
        # in the time of one of them, not both.
        checked: dict = {}

        def check() -> None:
            try:
                checked["nonfinite"] = _check_nifti(path, what)
            except BaseException as exc:  # noqa: BLE001 - raised below
                checked["error"] = exc

        checker = None
        if path.name.lower().endswith(".nii.gz"):
            import threading

            checker = threading.Thread(target=check, daemon=True)
            checker.start()
        else:
            check()
        try:
            with _quiet_itk():
                image = sitk.ReadImage(str(path))
        except RuntimeError:
            if checker is not None:
                checker.join()
            if "error" in checked:  # the check's message names the problem
                raise checked["error"] from None
            raise
        if checker is not None:
            checker.join()
        if "error" in checked:
            raise checked["error"]
        nonfinite = checked["nonfinite"]
        if nonfinite is not None:
            # Put back the NaN / infinite voxels SimpleITK replaced by 0, so that
            # validation reports them instead of extracting zeros.
            array = sitk.GetArrayFromImage(image)
            if np.issubdtype(array.dtype, np.floating):
                array.reshape(-1)[nonfinite[0]] = nonfinite[1]
                restored = sitk.GetImageFromArray(
                    array, isVector=image.GetNumberOfComponentsPerPixel() > 1
                )
                restored.CopyInformation(image)
                image = restored
        return image
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


def _nifti_layout(header: bytes):
    """(end of voxel data, voxel offset, n voxels, datatype, byte order) or None."""
    for endian in "<>":
        if len(header) >= 348 and struct.unpack(endian + "i", header[:4])[0] == 348:
            datatype, bitpix = struct.unpack(endian + "2h", header[70:74])
            dims = struct.unpack(endian + "8h", header[40:56])
            offset = max(int(struct.unpack(endian + "f", header[108:112])[0]), 352)
            break
        if len(header) >= 540 and struct.unpack(endian + "i", header[:4])[0] == 540:
            datatype, bitpix = struct.unpack(endian + "2h", header[12:16])
            dims = struct.unpack(endian + "8q", header[16:80])
            offset = max(struct.unpack(endian + "q", header[168:176])[0], 544)
            break
    else:
        return None
    n_dims = dims[0]
    if not 1 <= n_dims <= 7 or bitpix <= 0:
        return None
    voxels = 1
    for d in dims[1 : n_dims + 1]:
        voxels *= max(int(d), 1)
    return offset + voxels * bitpix // 8, offset, voxels, datatype, endian


def _gunzip(data: bytes) -> bytes:
    """The content of gzip ``data`` (every member), each member's CRC and size
    checked; in one zlib call per member, which releases the GIL (so that
    :func:`read_image` checks a file while SimpleITK reads it)."""
    out = []
    while True:
        inflate = zlib.decompressobj(wbits=31)
        out.append(inflate.decompress(data))
        if not inflate.eof:
            raise EOFError(
                "Compressed file ended before the end-of-stream marker was reached"
            )
        data = inflate.unused_data.lstrip(b"\0")  # gzip's trailing zero padding
        if not data:
            return b"".join(out)


def _check_nifti(path: Path, what: str):
    """Refuse a truncated NIfTI file; find its non-finite voxels.

    SimpleITK reads a truncated NIfTI file padded with zeros and turns NaN and
    infinite voxels into 0, silently. Returns ``(flat indices, values)`` of the
    non-finite voxels of a floating-point NIfTI file (None when there are none).
    """
    name = path.name.lower()
    if not name.endswith((".nii", ".nii.gz")):
        return None
    try:
        data = path.read_bytes()
        if name.endswith(".gz"):
            data = _gunzip(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"Cannot read {what} {path}: expected a readable, complete NIfTI file; "
            f"it is truncated or corrupt ({exc})."
        ) from None
    layout = _nifti_layout(data[:540])
    if layout is None:
        return None
    needed, offset, voxels, datatype, endian = layout
    if len(data) < needed:
        raise ValueError(
            f"Cannot read {what} {path}: expected a readable, complete NIfTI file; "
            f"it is truncated ({len(data)} bytes, its header needs {needed})."
        )
    kind = {16: "f4", 64: "f8"}.get(datatype)
    if kind is None:
        return None
    values = np.frombuffer(data, np.dtype(endian + kind), count=voxels, offset=offset)
    bad = np.flatnonzero(~np.isfinite(values))
    return (bad, values[bad].astype(np.float64)) if bad.size else None


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
