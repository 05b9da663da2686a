"""Real DICOM input: MRI series folders with RTSTRUCT masks, through a manifest.

Three patients of TCIA's Soft-tissue-Sarcoma collection (CC BY 3.0; see
shared/data/sts-tcia-sample/PROVENANCE.md): T1 DICOM series with the RTSTRUCT of
the tumour, and the same image and mask as NIfTI files. The manifest names the
DICOM folder, the RTSTRUCT file and the structure (``roi``); the features equal
those of the NIfTI files. A raw T2 series whose RTSTRUCT has two structures gives
each region its own features. Also: a NIfTI mask whose header origin differs from
the DICOM image's by float32 rounding (~1e-5 mm) takes the image grid, and the
diagnostics say by how much.

Data: $RADSARC_SHARED_DATA/sts-tcia-sample, else the nearest
shared/data/sts-tcia-sample above this file.

Run: python examples/real_sts_dicom.py  (about 15 s on 2 cores)
"""

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from radsarc.features import extract_features
from radsarc.images import Cohort


def find_data() -> Path | None:
    root = os.environ.get("RADSARC_SHARED_DATA")
    if root:
        return Path(root) / "sts-tcia-sample"
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "sts-tcia-sample").is_dir():
            return parent / "shared" / "data" / "sts-tcia-sample"
    return None


DATA = find_data()
if DATA is None or not DATA.is_dir():
    print(
        "The TCIA sample (shared/data/sts-tcia-sample) is not here; set "
        "RADSARC_SHARED_DATA to the folder that holds it. Nothing to do."
    )
    sys.exit(0)

SETTINGS = {
    "featureClass": {"firstorder": None, "shape": None, "glcm": None},
    "setting": {"binWidth": 25},
}
PATIENTS = ["STS_001", "STS_002", "STS_003"]


def manifest(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    t1 = {p: DATA / p / "MR_T1" for p in PATIENTS}
    dicom = manifest(
        tmp / "dicom.csv",
        [
            {
                "case_id": p,
                "image": t1[p] / "dicom" / "image",  # a DICOM series folder
                "mask": t1[p] / "dicom" / "mask" / "RS.dcm",  # an RTSTRUCT
                "roi": "GTV_Mass.*",  # a regex matching exactly one structure
            }
            for p in PATIENTS
        ],
    )
    nifti = manifest(
        tmp / "nifti.csv",
        [
            {
                "case_id": p,
                "image": t1[p] / "nifti" / "image" / "image.nii.gz",
                "mask": t1[p] / "nifti" / "mask" / "mask.nii.gz",
            }
            for p in PATIENTS
        ],
    )
    mixed = manifest(
        tmp / "mixed.csv",
        [
            {
                "case_id": p,
                "image": t1[p] / "dicom" / "image",
                "mask": t1[p] / "nifti" / "mask" / "mask.nii.gz",
            }
            for p in PATIENTS
        ],
    )
    cohort = Cohort.from_csv(dicom)
    print(cohort)
    print("validate (DICOM + RTSTRUCT):", cohort.validate())

    runs = {
        name: extract_features(path, SETTINGS, return_result=True)
        for name, path in (("dicom", dicom), ("nifti", nifti), ("mixed", mixed))
    }
    for name, run in runs.items():
        print(f"{name:6s} {run.summary}; {run.features.shape[1]} features")
    a, b = runs["dicom"].features, runs["nifti"].features
    rel = np.max(np.abs(a.to_numpy() - b.to_numpy()) / np.abs(b.to_numpy()))
    print(
        f"DICOM + RTSTRUCT vs NIfTI image + mask: largest relative difference {rel:.1e}"
    )
    same = (a.to_numpy() == runs["mixed"].features.to_numpy()).all()
    print(f"DICOM + RTSTRUCT vs DICOM + NIfTI mask: identical values: {same}")
    diagnostics = runs["mixed"].diagnostics
    print("NIfTI masks on the DICOM grid (header rounding, within the tolerance):")
    print(
        diagnostics[
            [
                "diagnostics_radsarc_MaskGrid",
                "diagnostics_radsarc_MaskOffset_mm",
                "diagnostics_radsarc_MaskOffset_voxels",
            ]
        ].to_string()
    )
    print(
        "voxels per tumour:",
        runs["dicom"]
        .diagnostics["diagnostics_Mask-original_VoxelNum"]
        .astype(int)
        .to_dict(),
    )

    # Two regions of one RTSTRUCT: each gets its own features, prefixed by name.
    t2 = DATA / "STS_001" / "MR_T2_raw"
    raw = manifest(
        tmp / "t2.csv",
        [
            {
                "case_id": "STS_001",
                "image": t2 / "image",
                "mask": t2 / "mask" / "RS.dcm",
            }
        ],
    )
    regions = extract_features(
        raw,
        {"featureClass": {"firstorder": None, "shape": None}},
        roi=["GTV_Mass", "GTV_Edema"],  # --roi GTV_Mass --roi GTV_Edema
        return_result=True,
    )
    print(regions.summary, "- columns like", list(regions.features.columns[:2]))
    volumes = regions.features.filter(like="shape_MeshVolume").T
    print((volumes / 1000).round(1).rename(columns={"STS_001": "volume (mL)"}))
