"""The TCIA Soft-tissue-Sarcoma collection (Vallieres et al. 2015) as a cohort.

51 patients with histologically proven soft-tissue sarcoma of the extremities,
each with T1-weighted and fat-suppressed T2-weighted (T2FS, or STIR) MRI, FDG-PET
and CT, DICOM RT structure sets with the tumour contour (``GTV_Mass``) and
oedema, and a clinical spreadsheet (histology, grade, lung metastasis, follow-up,
status). The images come from TCIA's public NBIA REST API, the spreadsheet from
the collection's page.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import SimpleITK as sitk

from radsarc._files import atomic_write, contained
from radsarc.datasets._download import (
    download_file,
    fetch_json,
    get_data_home,
    join_url,
)
from radsarc.images import Cohort, read_image
from radsarc.images._rtstruct import read_rtstruct, rtstruct_to_mask

__all__ = [
    "TCIA_NBIA_URL",
    "TCIA_STS_CLINICAL_URL",
    "TCIA_STS_COLLECTION",
    "fetch_tcia_sts",
]

logger = logging.getLogger(__name__)

#: TCIA's public NBIA REST API (version 1).
TCIA_NBIA_URL = "https://services.cancerimagingarchive.net/nbia-api/services/v1"
#: Environment variable overriding :data:`TCIA_NBIA_URL`.
TCIA_NBIA_URL_ENV = "RADSARC_TCIA_NBIA_URL"
#: The collection's name on TCIA.
TCIA_STS_COLLECTION = "Soft-tissue-Sarcoma"
#: The clinical spreadsheet published with the collection (XLSX or CSV).
TCIA_STS_CLINICAL_URL = (
    "https://www.cancerimagingarchive.net/wp-content/uploads/INFOclinical_STS.xlsx"
)
#: Environment variable overriding :data:`TCIA_STS_CLINICAL_URL`.
TCIA_STS_CLINICAL_URL_ENV = "RADSARC_TCIA_STS_CLINICAL_URL"

_MODALITY_SEQUENCES = {"MR": ("T1", "T2FS"), "PT": ("PET",), "CT": ("CT",)}

# Clinical columns: canonical name -> test on the normalised header.
_CLINICAL_COLUMNS: tuple[tuple[str, object], ...] = (
    ("patient_id", lambda c: "patient" in c),
    ("time_to_outcome_days", lambda c: "time" in c and "outcome" in c),
    ("follow_up_days", lambda c: "follow" in c),
    ("time_to_mri_days", lambda c: "time" in c and "mri" in c and "pet" not in c),
    ("time_mri_to_pet_days", lambda c: "time" in c and "pet" in c),
    ("lung_metastasis", lambda c: "lung" in c),
    ("outcome", lambda c: "outcome" in c),
    ("status", lambda c: c.startswith("status")),
    ("histology", lambda c: "histolog" in c),
    ("mskcc_type", lambda c: "mskcc" in c),
    ("site", lambda c: "site" in c),
    ("grade", lambda c: "grade" in c),
    ("treatment", lambda c: "treatment" in c),
    ("age", lambda c: c == "age" or c.startswith("age_")),
    ("sex", lambda c: c in {"sex", "gender"}),
)
_YES = {"yes", "y", "1", "true", "lung", "present"}
_NO = {"no", "n", "0", "false", "none", "absent"}


def _normalise_header(column: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(column).lower()).strip("_")


def _patient_key(value: object) -> str:
    """Join key of a patient id: its number (``STS_001`` -> ``1``), else itself."""
    text = str(value).strip()
    digits = re.findall(r"\d+", text)
    return str(int(digits[-1])) if digits else text.upper()


def read_sts_clinical(path: str | os.PathLike) -> pd.DataFrame:
    """Parse the STS clinical spreadsheet (XLSX or CSV) into canonical columns.

    Parameters
    ----------
    path : str or path-like
        The spreadsheet.

    Returns
    -------
    table : pandas.DataFrame
        One row per patient, indexed by ``patient_id``, with the columns found
        among ``age``, ``sex``, ``site``, ``histology``, ``mskcc_type``,
        ``grade``, ``treatment``, ``outcome``, ``time_to_outcome_days``,
        ``status``, ``follow_up_days`` and ``lung_metastasis`` (0/1; from a
        lung-metastasis column, else 1 when the outcome mentions the lung).

    Raises
    ------
    ValueError
        If the file has no patient-id column.
    """
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        raw = pd.read_excel(path)
    else:
        raw = pd.read_csv(path)
    raw = raw.dropna(how="all")
    renamed: dict[str, str] = {}
    for column in raw.columns:
        header = _normalise_header(column)
        for canonical, test in _CLINICAL_COLUMNS:
            if canonical not in renamed.values() and test(header):
                renamed[column] = canonical
                break
    if "patient_id" not in renamed.values():
        raise ValueError(
            f"Clinical spreadsheet {path} has no patient-id column; expected a "
            f"column named like 'Patient ID'. Found: {list(raw.columns)}."
        )
    table = raw[list(renamed)].rename(columns=renamed)
    table = table.dropna(subset=["patient_id"])
    table["patient_id"] = table["patient_id"].astype(str).str.strip()
    if "lung_metastasis" in table:
        text = table["lung_metastasis"].astype(str).str.strip().str.lower()
        table["lung_metastasis"] = np.where(
            text.isin(_YES), 1, np.where(text.isin(_NO), 0, np.nan)
        )
    elif "outcome" in table:
        table["lung_metastasis"] = (
            table["outcome"].astype(str).str.contains("lung", case=False).astype(int)
        )
    return table.set_index("patient_id")


def _sequence_name(series: dict) -> str:
    modality = str(series.get("Modality", ""))
    description = str(
        series.get("SeriesDescription") or series.get("ProtocolName") or ""
    )
    if modality == "MR":
        text = description.lower()
        if "stir" in text or "t2" in text:
            return "T2FS"
        if "t1" in text:
            return "T1"
        return re.sub(r"[^A-Za-z0-9]+", "", description) or "MR"
    return {"PT": "PET"}.get(modality, modality)


_MD5_MEMBER = "md5hashes.csv"
#: NBIA bases that answered getImageWithMD5Hash with an error (this process).
_NO_MD5_ENDPOINT: set[str] = set()


def _is_extra(name: str) -> bool:
    """Members of an NBIA series ZIP that are not image files."""
    base = PurePosixPath(name).name
    return base.upper() == "LICENSE" or base.endswith(".txt") or base == _MD5_MEMBER


def _check_zip(path: Path, series: dict | None = None) -> None:
    """Verify a series ZIP: readable, and what NBIA lists for the series.

    NBIA lists each series' number of images (``ImageCount``) and their total
    size in bytes (``FileSize``); ``getImageWithMD5Hash`` adds an
    ``md5hashes.csv`` with the MD5 of every file. Each one given is checked.
    """
    series = series or {}
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            raise ValueError("the ZIP archive holds no file")
        bad = archive.testzip()
        if bad is not None:
            raise ValueError(f"member {bad} is corrupted")
        images = [m for m in members if not _is_extra(m.filename)]
        count = str(series.get("ImageCount", "")).strip()
        if count.isdigit() and len(images) != int(count):
            raise ValueError(
                f"the archive holds {len(images)} image file(s); NBIA lists "
                f"{int(count)} for series {series.get('SeriesInstanceUID')}"
            )
        size = str(series.get("FileSize", "")).strip()
        total = sum(m.file_size for m in images)
        if size.isdigit() and total != int(size):
            raise ValueError(
                f"its image files total {total} bytes; NBIA lists {int(size)} for "
                f"series {series.get('SeriesInstanceUID')}"
            )
        md5_members = [
            m for m in members if PurePosixPath(m.filename).name == _MD5_MEMBER
        ]
        if md5_members:
            listed = _md5_table(archive.read(md5_members[0]))
            for member in images:
                name = PurePosixPath(member.filename).name
                expected = listed.get(name) or listed.get(member.filename)
                if expected is None:
                    raise ValueError(
                        f"{_MD5_MEMBER} lists no MD5 for {member.filename}"
                    )
                got = hashlib.md5(archive.read(member)).hexdigest()  # noqa: S324
                if got.lower() != expected.lower():
                    raise ValueError(
                        f"MD5 mismatch for {member.filename}: NBIA lists {expected}, "
                        f"got {got}"
                    )


def _md5_table(data: bytes) -> dict[str, str]:
    """``md5hashes.csv`` of NBIA (file name, MD5) as a dict."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"))))
    table = {}
    for row in rows:
        if len(row) >= 2 and re.fullmatch(r"[0-9a-fA-F]{32}", row[1].strip()):
            table[row[0].strip()] = row[1].strip()
            table[PurePosixPath(row[0].strip()).name] = row[1].strip()
    return table


def _extract_series(archive: Path, folder: Path) -> Path:
    """Unpack a series ZIP into ``folder`` atomically (flattened)."""
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            for i, member in enumerate(zf.infolist()):
                if member.is_dir():
                    continue
                name = PurePosixPath(member.filename).name
                if _is_extra(member.filename):
                    continue
                with (
                    zf.open(member) as src,
                    (tmp / f"{i:05d}_{name}").open("wb") as dst,
                ):
                    shutil.copyfileobj(src, dst)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write_atomic(image: sitk.Image, path: Path) -> None:
    tmp = path.with_name(path.name.replace(".nii.gz", ".part.nii.gz"))
    sitk.WriteImage(image, str(tmp), True)
    os.replace(tmp, path)


def _frame_of_reference(folder: Path) -> str | None:
    import pydicom

    for file in sorted(folder.iterdir()):
        try:
            ds = pydicom.dcmread(file, stop_before_pixels=True, force=True)
        except Exception:  # noqa: BLE001 - not a DICOM file; try the next
            continue
        if "FrameOfReferenceUID" in ds:
            return str(ds.FrameOfReferenceUID)
    return None


def fetch_tcia_sts(
    data_home: str | os.PathLike | None = None,
    *,
    modalities: tuple[str, ...] = ("MR",),
    sequences: tuple[str, ...] | None = None,
    roi: str = "GTV_Mass",
    target: str = "lung_metastasis",
    n_patients: int | None = None,
    nbia_url: str | None = None,
    clinical_url: str | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    progress: bool | None = None,
) -> Cohort:
    """Download TCIA's Soft-tissue-Sarcoma collection as a multi-sequence cohort.

    Each image series is fetched as a ZIP of DICOM files through the NBIA REST
    API (``getSeries``, ``getImage``), converted to NIfTI, and the contour
    ``roi`` of the RT structure set that references the series (by
    SeriesInstanceUID, else by frame of reference) is rasterised into a mask on
    the same grid. The clinical spreadsheet gives the labels. Everything is
    cached; a run started again downloads and converts only what is missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder (see :func:`~radsarc.datasets.get_data_home`); the data go
        to ``<data_home>/tcia_sts/`` and the manifest to
        ``<data_home>/tcia_sts/manifest.csv``.
    modalities : tuple of {"MR", "PT", "CT"}, default=("MR",)
        Which image series to download.
    sequences : tuple of str, default=None
        Sequences a patient must have to be included (columns ``image_<SEQ>``,
        ``mask_<SEQ>``). Default: ``T1`` and ``T2FS`` for MR (STIR counts as
        T2FS), ``PET`` for PT, ``CT`` for CT.
    roi : str, default="GTV_Mass"
        The structure to rasterise (name, case-insensitive, or a regular
        expression matching one name); e.g. ``"GTV_Edema"`` for the oedema.
    target : str, default="lung_metastasis"
        Clinical column that becomes ``label``; the other clinical columns are
        kept as covariates (``grade``, ``histology``, ``status``,
        ``follow_up_days``, ...).
    n_patients : int, default=None
        Download only the first ``n_patients`` patients (by id).
    nbia_url : str, default=None
        NBIA API base. Default: the environment variable
        ``RADSARC_TCIA_NBIA_URL``, else :data:`TCIA_NBIA_URL`.
    clinical_url : str, default=None
        The clinical spreadsheet (.xlsx or .csv). Default: the environment
        variable ``RADSARC_TCIA_STS_CLINICAL_URL``, else
        :data:`TCIA_STS_CLINICAL_URL`.
    retries : int, default=4
        Retries of each request and download after the first attempt.
    backoff : float, default=1.0
        Pause before the first retry in seconds, doubled at each retry.
    progress : bool, default=None
        Show progress bars; None shows them on a terminal only.

    Returns
    -------
    cohort : radsarc.images.Cohort
        One case per patient with ``image_<SEQ>``/``mask_<SEQ>`` per sequence,
        ``label`` (``target``) and the clinical covariates.

    Raises
    ------
    ConnectionError
        If a host cannot be reached; the message names the URL and the setting.
    ValueError
        If a download fails verification, ``target`` is not a clinical column,
        or no patient has every requested sequence with its contour.

    Notes
    -----
    Patients lacking a sequence or whose contour cannot be matched are left out
    with a warning that names them and the reason.

    References
    ----------
    .. [1] Vallieres M, Freeman CR, Skamene SR, El Naqa I. "A radiomics model from
       joint FDG-PET and MRI texture features for the prediction of lung
       metastases in soft-tissue sarcomas of the extremities." Phys Med Biol
       2015;60(14):5471-96. Data: TCIA, doi:10.7937/K9/TCIA.2015.7GO2GSKS.
    """
    from tqdm.auto import tqdm

    modalities = tuple(m.upper() for m in modalities)
    unknown = [m for m in modalities if m not in _MODALITY_SEQUENCES]
    if unknown or not modalities:
        raise ValueError(
            "modalities must be a non-empty tuple among "
            f"{sorted(_MODALITY_SEQUENCES)}; got {modalities!r}."
        )
    if sequences is None:
        sequences = tuple(s for m in modalities for s in _MODALITY_SEQUENCES[m])
    nbia = nbia_url or os.environ.get(TCIA_NBIA_URL_ENV) or TCIA_NBIA_URL
    nbia_setting = f"nbia_url= or the environment variable {TCIA_NBIA_URL_ENV}"
    clinical = (
        clinical_url
        or os.environ.get(TCIA_STS_CLINICAL_URL_ENV)
        or (TCIA_STS_CLINICAL_URL)
    )
    clinical_setting = (
        f"clinical_url= or the environment variable {TCIA_STS_CLINICAL_URL_ENV}"
    )
    root = get_data_home(data_home) / "tcia_sts"
    common = {"retries": retries, "backoff": backoff, "progress": progress}

    # 1. The clinical labels first: small, and a wrong target fails early.
    clinical_name = PurePosixPath(urlparse(clinical).path).name or "clinical.xlsx"
    clinical_path = download_file(
        clinical, root / clinical_name, setting=clinical_setting, **common
    )
    table = read_sts_clinical(clinical_path)
    if target not in table.columns:
        raise ValueError(
            f"target {target!r} is not a column of the clinical spreadsheet "
            f"{clinical_path}; available: {sorted(table.columns)}."
        )
    table.index = table.index.map(_patient_key)

    # 2. The series list.
    series: list[dict] = []
    for modality in (*modalities, "RTSTRUCT"):
        url = join_url(
            nbia,
            "getSeries",
            query={"Collection": TCIA_STS_COLLECTION, "Modality": modality},
        )
        rows = fetch_json(url, retries=retries, backoff=backoff, setting=nbia_setting)
        if not isinstance(rows, list):
            raise ValueError(
                f"{url} did not return a list of series; got {str(rows)[:120]!r}."
            )
        series.extend(rows)
    by_patient: dict[str, list[dict]] = defaultdict(list)
    for row in series:
        by_patient[str(row["PatientID"])].append(row)
    patients = sorted(by_patient)
    if n_patients is not None:
        patients = patients[:n_patients]

    rows, problems = [], []
    for patient in tqdm(
        patients,
        desc="TCIA STS",
        unit="patient",
        disable=None if progress is None else not progress,
    ):
        try:
            row = _patient_case(
                patient,
                by_patient[patient],
                root,
                nbia,
                nbia_setting,
                sequences,
                roi,
                common,
            )
        except ValueError as exc:
            logger.warning("Leaving out TCIA STS patient %s: %s", patient, exc)
            problems.append(f"{patient}: {exc}")
            continue
        key = _patient_key(patient)
        if key not in table.index:
            problems.append(f"{patient}: no row in the clinical spreadsheet")
            continue
        clinical_row = table.loc[key]
        if isinstance(clinical_row, pd.DataFrame):
            clinical_row = clinical_row.iloc[0]
        row["label"] = clinical_row[target]
        for column, value in clinical_row.items():
            if column != target:
                row[column] = value
        rows.append(row)
    if problems:
        warnings.warn(
            f"{len(problems)} TCIA STS patient(s) left out:\n  "
            + "\n  ".join(problems),
            stacklevel=2,
        )
    if not rows:
        raise ValueError(
            f"No TCIA {TCIA_STS_COLLECTION} patient has every sequence of "
            f"{list(sequences)} with a {roi!r} contour; see the warnings above."
        )
    manifest = root / "manifest.csv"
    with atomic_write(manifest) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    logger.info("TCIA STS: %d case(s), manifest %s", len(rows), manifest)
    return Cohort.from_csv(manifest)


def _download_series(uid, root, nbia, setting, common, series=None) -> Path:
    """Download, verify and unpack one series (its folder below root/dicom)."""
    what = "series UID from the NBIA server"
    folder = contained(root / "dicom", uid, what=what)
    if folder.is_dir():
        return folder
    target = contained(root / "zip", f"{uid}.zip", what=what)
    archive = None
    if nbia not in _NO_MD5_ENDPOINT:
        # getImageWithMD5Hash adds md5hashes.csv (MD5 of every file); a host
        # without it answers 404 and the plain getImage is used from then on.
        try:
            archive = download_file(
                join_url(nbia, "getImageWithMD5Hash", query={"SeriesInstanceUID": uid}),
                contained(root / "zip", f"{uid}.md5.zip", what=what),
                validate=lambda path: _check_zip(path, series),
                setting=setting,
                **common,
            )
        except ConnectionError as exc:
            logger.info("NBIA %s has no getImageWithMD5Hash (%s)", nbia, exc)
            _NO_MD5_ENDPOINT.add(nbia)
    if archive is None:
        archive = download_file(
            join_url(nbia, "getImage", query={"SeriesInstanceUID": uid}),
            target,
            validate=lambda path: _check_zip(path, series),
            setting=setting,
            **common,
        )
    _extract_series(archive, folder)
    archive.unlink()
    return folder


def _patient_case(patient, series, root, nbia, setting, sequences, roi, common):
    """Download, convert and rasterise one patient; the manifest row."""
    images: dict[str, list[dict]] = defaultdict(list)
    structures = []
    for row in series:
        if row.get("Modality") == "RTSTRUCT":
            structures.append(row)
        else:
            images[_sequence_name(row)].append(row)
    missing = [s for s in sequences if s not in images]
    if missing:
        raise ValueError(
            f"no series for sequence(s) {missing}; found "
            f"{sorted((s, len(v)) for s, v in images.items())}"
        )
    rtstructs = []
    for row in structures:
        folder = _download_series(
            row["SeriesInstanceUID"], root, nbia, setting, common, row
        )
        for file in sorted(folder.iterdir()):
            rtstructs.append(read_rtstruct(file))
    out = contained(root / "nifti", patient, what="PatientID from the NBIA server")
    out.mkdir(parents=True, exist_ok=True)
    case = {"case_id": patient}
    for sequence in sequences:
        candidates = images[sequence]
        # Prefer the series an RTSTRUCT was drawn on.
        referenced = set().union(*(r.referenced_series for r in rtstructs))
        candidates = sorted(
            candidates,
            key=lambda r: (
                r["SeriesInstanceUID"] not in referenced,
                str(r.get("SeriesNumber", "")),
            ),
        )
        chosen = candidates[0]
        if len(candidates) > 1:
            logger.info(
                "Patient %s has %d %s series; using %s",
                patient,
                len(candidates),
                sequence,
                chosen["SeriesInstanceUID"],
            )
        uid = chosen["SeriesInstanceUID"]
        image_path = out / f"{sequence}.nii.gz"
        mask_path = out / f"{sequence}_mask.nii.gz"
        if not (image_path.exists() and mask_path.exists()):
            folder = _download_series(uid, root, nbia, setting, common, chosen)
            image = read_image(folder)
            matching = [r for r in rtstructs if uid in r.referenced_series]
            if not matching:
                frame = _frame_of_reference(folder)
                matching = [
                    r for r in rtstructs if frame and frame in r.frames_of_reference
                ]
            matching = [
                r for r in matching if r.find_roi(roi, partial=True) is not None
            ]
            if not matching:
                raise ValueError(
                    f"no RTSTRUCT with a {roi!r} contour references the {sequence} "
                    f"series {uid} (by series or frame of reference)"
                )
            mask = rtstruct_to_mask(
                matching[0], image, roi, case_id=patient, partial=True
            )
            _write_atomic(image, image_path)
            _write_atomic(mask, mask_path)
        case[f"image_{sequence}"] = image_path.relative_to(root).as_posix()
        case[f"mask_{sequence}"] = mask_path.relative_to(root).as_posix()
    return case
