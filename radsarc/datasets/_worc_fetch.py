"""Download the WORC sarcoma data from their public sources.

- :func:`fetch_worc_table`: the radMLBench feature tables (the same files that are
  bundled in ``radsarc/data/worc``), verified against the SHA-256 of the bundled
  copies.
- :func:`fetch_worc_images`: the MRI scans and segmentations of WORC-Lipo and
  WORC-Desmoid from the WORC database, an XNAT project named ``worc``, read
  through XNAT's standard REST API, written as a cohort manifest with labels.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import pandas as pd

from radsarc._files import atomic_write, contained
from radsarc.datasets._download import (
    download_file,
    fetch_json,
    get_data_home,
    join_url,
)
from radsarc.datasets._worc import _canonical_name
from radsarc.images import Cohort

__all__ = [
    "RADMLBENCH_SHA256",
    "WORC_XNAT_HOSTS",
    "fetch_worc_images",
    "fetch_worc_table",
]

logger = logging.getLogger(__name__)

#: Environment variable overriding the radMLBench base address.
RADMLBENCH_URL_ENV = "RADSARC_RADMLBENCH_URL"
#: radMLBench pinned to the commit the bundled tables were copied from.
RADMLBENCH_URL = (
    "https://github.com/aydindemircioglu/radMLBench/raw/"
    "f757f7b2f2659800a5c0951ec91ff9b37abab130"
)
#: SHA-256 of the bundled tables = of ``datasets/WORC-<name>.gz`` at that commit.
RADMLBENCH_SHA256: dict[str, str] = {
    "Desmoid": "936fcfb8fb6c64430a2ee0d2f480080b9f2a7c67f777ee4e3478ba4e8a9f5973",
    "Lipo": "957630688cc24bb84c28ca7cb748e81e0e86c8e6f9de5099fef119bfe346a6ec",
}

#: Environment variable choosing the XNAT host of the WORC database.
WORC_XNAT_URL_ENV = "RADSARC_WORC_XNAT_URL"
#: Hosts that have served the WORC database, newest first. BMIA's XNAT
#: (xnat.bmia.nl, where the papers point) moved to Health-RI. When no host is
#: given, each is tried in turn.
WORC_XNAT_HOSTS: tuple[str, ...] = (
    "https://xnat.health-ri.nl",
    "https://xnat.bmia.nl",
)
_PROJECT = "worc"

# Subjects whose scan holds one segmentation per lesion, with the label of each
# lesion (from the WORC database's own experiment script); other subjects take
# the subject's ``diagnosis_binary`` field.
_LESION_LABELS: dict[str, dict[str, int]] = {
    "Lipo-073": {"Lipoma": 0, "WDLPS": 1},
}
_SEGMENTATION_RE = re.compile(r"^segmentation(?:_(?P<lesion>.+?))?\.nii(?:\.gz)?$")
_IMAGE_NAME = "image.nii.gz"


def _read_table(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    table = pd.read_csv(path, compression="gzip").set_index("ID")
    y = table.pop("Target").astype(int)
    return table, y


def fetch_worc_table(
    name: str,
    data_home: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Download a WORC radiomics table from radMLBench, verified and cached.

    The bundled copy (:func:`~radsarc.datasets.load_worc_table`) is the same
    file; this function fetches it from its public source instead, and refuses
    any file whose SHA-256 differs from the bundled copy's.

    Parameters
    ----------
    name : {"Lipo", "Desmoid"}
        The data set, case-insensitive (``"WORC-Lipo"`` is accepted as well).
    data_home : str or path-like, default=None
        Cache folder (see :func:`~radsarc.datasets.get_data_home`); the table is
        stored as ``<data_home>/worc/tables/WORC-<name>.csv.gz``.
    base_url : str, default=None
        Address that ``datasets/WORC-<name>.gz`` is relative to. Default: the
        environment variable ``RADSARC_RADMLBENCH_URL``, else radMLBench on
        GitHub at the pinned commit (:data:`RADMLBENCH_URL`).
    retries : int, default=4
        Retries after the first attempt; an interrupted transfer resumes.
    backoff : float, default=1.0
        Pause before the first retry in seconds, doubled at each retry.
    progress : bool, default=None
        Show a progress bar; None shows it on a terminal only.

    Returns
    -------
    X : pandas.DataFrame of shape (n_patients, 1015)
        Features indexed by patient ID, as :func:`~radsarc.datasets.load_worc_table`.
    y : pandas.Series of shape (n_patients,)
        The binary target.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or the download does not match the checksum.
    ConnectionError
        If the host cannot be reached.

    See Also
    --------
    load_worc_table : The bundled copy, no download.
    """
    canonical = _canonical_name(name)
    base = base_url or os.environ.get(RADMLBENCH_URL_ENV) or RADMLBENCH_URL
    url = join_url(base, "datasets", f"WORC-{canonical}.gz")
    target = get_data_home(data_home) / "worc" / "tables" / f"WORC-{canonical}.csv.gz"
    download_file(
        url,
        target,
        sha256=RADMLBENCH_SHA256[canonical],
        setting=f"base_url= or the environment variable {RADMLBENCH_URL_ENV}",
        retries=retries,
        backoff=backoff,
        progress=progress,
    )
    return _read_table(target)


# -- XNAT ---------------------------------------------------------------------


def _results(payload, url: str) -> list[dict]:
    """Rows of an XNAT listing (``{"ResultSet": {"Result": [...]}}``)."""
    try:
        rows = payload["ResultSet"]["Result"]
    except (KeyError, TypeError):
        raise ValueError(
            f"{url} did not return an XNAT listing (expected JSON with "
            f"ResultSet.Result); got {str(payload)[:120]!r}."
        ) from None
    return list(rows)


def _subject_fields(payload) -> dict[str, str]:
    """Custom fields of an XNAT subject document (``?format=json``)."""
    fields = {}
    for item in payload.get("items", []) if isinstance(payload, dict) else []:
        for child in item.get("children", []):
            if child.get("field") != "fields/field":
                continue
            for entry in child.get("items", []):
                data = entry.get("data_fields", {})
                if "name" in data:
                    fields[str(data["name"]).lower()] = data.get("field")
    return fields


class _Xnat:
    """The few read-only XNAT REST calls the WORC download needs."""

    def __init__(self, host: str, setting: str, retries: int, backoff: float):
        self.host = host.rstrip("/")
        self.setting = setting
        self.retries = retries
        self.backoff = backoff

    def get(self, *parts: str, query: dict | None = None):
        url = join_url(
            self.host, "data", *parts, query={"format": "json", **(query or {})}
        )
        return url, fetch_json(
            url, retries=self.retries, backoff=self.backoff, setting=self.setting
        )

    def listing(self, *parts: str, query: dict | None = None) -> list[dict]:
        url, payload = self.get(*parts, query=query)
        return _results(payload, url)


def _resolve_hosts(xnat_url: str | None) -> list[str]:
    if xnat_url:
        return [xnat_url]
    if os.environ.get(WORC_XNAT_URL_ENV):
        return [os.environ[WORC_XNAT_URL_ENV]]
    return list(WORC_XNAT_HOSTS)


def _worc_subjects(xnat: _Xnat, dataset: str) -> list[dict]:
    subjects = xnat.listing(
        "projects", _PROJECT, "subjects", query={"columns": "ID,label"}
    )
    prefix = f"{dataset.lower()}-"
    candidates = [
        s for s in subjects if str(s.get("label", "")).lower().startswith(prefix)
    ]
    if not candidates:
        # Labels do not carry the data set name: read every subject's fields.
        candidates = subjects
    return sorted(candidates, key=lambda s: str(s.get("label", "")))


def fetch_worc_images(
    name: str,
    data_home: str | os.PathLike | None = None,
    *,
    xnat_url: str | None = None,
    n_subjects: int | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    progress: bool | None = None,
) -> Cohort:
    """Download the MRI scans and segmentations of WORC-Lipo or WORC-Desmoid.

    The WORC database is the public XNAT project ``worc``. Each subject carries
    the fields ``dataset`` (``"Lipo"``, ``"Desmoid"``, ...) and
    ``diagnosis_binary`` (0/1), and one scan whose ``NIFTI`` resource holds
    ``image.nii.gz`` and ``segmentation.nii.gz``. ``Lipo-073`` has two lesions
    (``segmentation_Lipoma.nii.gz``, label 0, and ``segmentation_WDLPS.nii.gz``,
    label 1) and becomes two cases, ``Lipo-073_Lipoma`` and ``Lipo-073_WDLPS``.

    Files already downloaded are kept, so an interrupted run started again
    fetches only what is missing.

    Parameters
    ----------
    name : {"Lipo", "Desmoid"}
        The data set, case-insensitive.
    data_home : str or path-like, default=None
        Cache folder (see :func:`~radsarc.datasets.get_data_home`). The files go
        to ``<data_home>/worc/<name>/<subject>/`` and the manifest to
        ``<data_home>/worc/<name>/manifest.csv``.
    xnat_url : str, default=None
        The XNAT host (e.g. ``"https://xnat.health-ri.nl"``). Default: the
        environment variable ``RADSARC_WORC_XNAT_URL``, else each of
        :data:`WORC_XNAT_HOSTS` in turn.
    n_subjects : int, default=None
        Download only the first ``n_subjects`` subjects (by label), e.g. to try
        the pipeline; None downloads all.
    retries : int, default=4
        Retries of each request and download after the first attempt.
    backoff : float, default=1.0
        Pause before the first retry in seconds, doubled at each retry.
    progress : bool, default=None
        Show progress bars; None shows them on a terminal only.

    Returns
    -------
    cohort : radsarc.images.Cohort
        One case per lesion with columns ``case_id``, ``image``, ``mask``,
        ``label`` (Lipo: 1 = well-differentiated liposarcoma, 0 = lipoma;
        Desmoid: 1 = desmoid-type fibromatosis, 0 = soft-tissue sarcoma) and the
        covariates ``patient_id`` (the XNAT subject label) and ``xnat_subject``.

    Raises
    ------
    ConnectionError
        If no XNAT host can be reached; the message names the addresses tried
        and the setting to change.
    ValueError
        If ``name`` is unknown, a file fails verification, or no subject of
        the data set is found.

    Notes
    -----
    Downloads are verified with the size (and MD5 digest, when the host lists
    one) that XNAT reports for each file.

    References
    ----------
    .. [1] Starmans et al., "The WORC database: MRI and CT scans, segmentations,
       and clinical labels for 930 patients from six radiomics studies",
       medRxiv 2021. https://github.com/MStarmans91/WORCDatabase
    """
    from tqdm.auto import tqdm

    canonical = _canonical_name(name)
    if n_subjects is not None and (
        not isinstance(n_subjects, int)
        or isinstance(n_subjects, bool)
        or n_subjects < 1
    ):
        raise ValueError(
            f"n_subjects must be a positive int or None; got {n_subjects!r}."
        )
    setting = f"xnat_url= or the environment variable {WORC_XNAT_URL_ENV}"
    hosts = _resolve_hosts(xnat_url)
    errors = []
    for host in hosts:
        xnat = _Xnat(host, setting, retries, backoff)
        try:
            subjects = _worc_subjects(xnat, canonical)
            break
        except ConnectionError as exc:
            logger.warning("WORC XNAT host %s failed: %s", host, exc)
            errors.append(f"{host}: {exc}")
    else:
        raise ConnectionError(
            f"Could not reach the WORC database (XNAT project {_PROJECT!r}) at "
            f"{', '.join(hosts)}. Set {setting} to the host that serves it now.\n"
            + "\n".join(errors)
        )

    root = get_data_home(data_home) / "worc" / canonical
    rows: list[dict] = []
    skipped: list[str] = []
    n_done = 0
    bar = tqdm(
        subjects,
        desc=f"WORC-{canonical}",
        unit="subject",
        disable=None if progress is None else not progress,
    )
    for subject in bar:
        if n_subjects is not None and n_done >= n_subjects:
            break
        subject_id, label = (
            str(subject["ID"]),
            str(subject.get("label") or subject["ID"]),
        )
        _, document = xnat.get("projects", _PROJECT, "subjects", subject_id)
        fields = _subject_fields(document)
        if str(fields.get("dataset", "")).lower() != canonical.lower():
            logger.debug("Skipping %s: dataset field %r", label, fields.get("dataset"))
            continue
        try:
            diagnosis = _diagnosis(fields, label, host)
            files = _subject_nifti_files(xnat, subject_id, label)
            # Names from the server become paths: each must stay in its folder.
            folder = contained(root, label, what=f"subject label from {host}")
            targets = {
                name: contained(folder, name, what=f"file name from {host}")
                for name in files
            }
        except ValueError as exc:
            logger.warning("Skipping WORC subject %s: %s", label, exc)
            skipped.append(f"{label}: {exc}")
            continue
        paths = {}
        for file_name, info in files.items():
            size = info.get("Size")
            paths[file_name] = download_file(
                join_url(host, info["URI"]),
                targets[file_name],
                size=int(size) if str(size or "").isdigit() else None,
                md5=info.get("digest") or None,
                retries=retries,
                backoff=backoff,
                setting=setting,
                progress=progress,
            )
        lesions = _LESION_LABELS.get(label, {})
        for file_name, path in sorted(paths.items()):
            match = _SEGMENTATION_RE.match(file_name)
            if not match:
                continue
            lesion = match.group("lesion")
            rows.append(
                {
                    "case_id": f"{label}_{lesion}" if lesion else label,
                    "image": paths[_IMAGE_NAME].relative_to(root).as_posix(),
                    "mask": path.relative_to(root).as_posix(),
                    "label": lesions.get(lesion, diagnosis) if lesion else diagnosis,
                    "patient_id": label,
                    "xnat_subject": subject_id,
                }
            )
        n_done += 1
    bar.close()
    if skipped:
        warnings.warn(
            f"{len(skipped)} WORC-{canonical} subject(s) were skipped:\n  "
            + "\n  ".join(skipped),
            stacklevel=2,
        )
    if not rows:
        raise ValueError(
            f"No WORC-{canonical} subject with an image and a segmentation was found "
            f"in XNAT project {_PROJECT!r} at {host}; expected subjects whose field "
            f"'dataset' is {canonical!r}."
        )
    manifest = root / "manifest.csv"
    with atomic_write(manifest) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    logger.info("WORC-%s: %d case(s), manifest %s", canonical, len(rows), manifest)
    return Cohort.from_csv(manifest)


def _diagnosis(fields: dict, label: str, host: str) -> int:
    value = str(fields.get("diagnosis_binary", "")).strip()
    if value not in {"0", "1"}:
        raise ValueError(
            f"WORC subject {label} ({host}) has diagnosis_binary "
            f"{fields.get('diagnosis_binary')!r}; expected 0 or 1."
        )
    return int(value)


def _subject_nifti_files(xnat: _Xnat, subject_id: str, label: str) -> dict[str, dict]:
    """The image and segmentation files of a subject's NIFTI resource(s)."""
    found: dict[str, dict] = {}
    base = ("projects", _PROJECT, "subjects", subject_id, "experiments")
    for experiment in xnat.listing(*base):
        exp = str(experiment["ID"])
        for scan in xnat.listing(*base, exp, "scans"):
            scan_id = str(scan["ID"])
            resources = xnat.listing(*base, exp, "scans", scan_id, "resources")
            if not any(str(r.get("label")) == "NIFTI" for r in resources):
                continue
            for entry in xnat.listing(
                *base, exp, "scans", scan_id, "resources", "NIFTI", "files"
            ):
                file_name = str(entry.get("Name", ""))
                if file_name == _IMAGE_NAME or _SEGMENTATION_RE.match(file_name):
                    if file_name in found:
                        raise ValueError(
                            f"WORC subject {label} has more than one {file_name} "
                            "(several scans with a NIFTI resource); expected one "
                            "image and its segmentation(s)."
                        )
                    found[file_name] = entry
    if _IMAGE_NAME not in found or len(found) < 2:
        raise ValueError(
            f"WORC subject {label} has no NIFTI resource with {_IMAGE_NAME} and a "
            f"segmentation*.nii.gz; found {sorted(found) or 'no files'}."
        )
    return found
