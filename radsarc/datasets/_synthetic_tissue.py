"""A synthetic multiparametric MRI phantom of sarcomas with known tissue classes.

Each patient has one tumour made of four tissue classes -- viable tumour,
necrosis, fibrosis / treatment change and fat -- arranged in smooth random
blobs, imaged on four co-registered maps as in Blackledge et al. (2019):
contrast-enhanced T1-weighted (``T1``), fat-suppressed T2-weighted (``T2FS``),
the apparent diffusion coefficient (``ADC``, 10^-6 mm^2/s) and a Dixon fat
fraction (``FF``, %). The label map of the classes is the ground truth for
voxel classifiers. See ``docs/voxel.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from radsarc.datasets._synthetic import _smooth_field, _write_case, _write_tables
from radsarc.images import Cohort

__all__ = ["TISSUE_CLASSES", "make_synthetic_tissue_phantom"]

#: Tissue classes of the phantom's label maps (0 = outside the tumour).
TISSUE_CLASSES = {
    1: "viable tumour",
    2: "necrosis",
    3: "fibrosis / treatment change",
    4: "fat",
}

SEQUENCES = ("T1", "T2FS", "ADC", "FF")
# Mean value per class (rows: classes 1-4; columns: T1, T2FS, ADC, FF) and the
# within-class spread (s.d. of a smooth texture field) -- chosen so that every
# pair of classes overlaps on at least one map, as real tissues do.
_MEANS = np.array(
    [
        [190.0, 210.0, 1100.0, 4.0],  # viable: enhancing, T2 intermediate, low ADC
        [90.0, 320.0, 2300.0, 3.0],  # necrosis: no enhancement, T2 bright, high ADC
        [140.0, 110.0, 1500.0, 8.0],  # fibrosis: weak enhancement, T2 dark
        [300.0, 60.0, 500.0, 80.0],  # fat: T1 bright, suppressed on T2FS, high FF
    ]
)
_SPREAD = np.array([45.0, 50.0, 380.0, 8.0])
_NOISE = np.array([12.0, 14.0, 180.0, 4.0])
_MUSCLE = np.array([100.0, 80.0, 1500.0, 5.0])


def _make_patient(rng, shape, spacing):
    zz, yy, xx = np.meshgrid(
        *(np.arange(n, dtype=float) * s for n, s in zip(shape, spacing, strict=True)),
        indexing="ij",
    )
    centre = [(n - 1) * s / 2 for n, s in zip(shape, spacing, strict=True)]
    axes = min(centre[1], centre[2]) * rng.uniform(0.6, 0.85, size=3)
    axes[0] = max(min(axes[0], centre[0] * 0.9), 2.5 * spacing[0])
    rho = np.sqrt(
        ((zz - centre[0]) / axes[0]) ** 2
        + ((yy - centre[1]) / axes[1]) ** 2
        + ((xx - centre[2]) / axes[2]) ** 2
    )
    tumour = rho < 1.0 + 0.08 * _smooth_field(rng, shape, 6.0, spacing)
    # Tissue composition varies between patients (Dirichlet weights); each
    # class occupies the voxels where its smooth field (plus log weight) wins.
    weights = rng.dirichlet([4.0, 2.0, 2.0, 1.0])
    fields = np.stack([_smooth_field(rng, shape, 4.0, spacing) for _ in range(4)])
    fields += np.log(weights)[:, None, None, None]
    classes = (np.argmax(fields, axis=0) + 1) * tumour
    gain = rng.uniform(0.85, 1.15, size=2)  # scanner gain of the weighted images
    maps = []
    for j in range(len(SEQUENCES)):
        texture = _smooth_field(rng, shape, 1.5, spacing)
        arr = np.full(shape, _MUSCLE[j]) + 0.3 * _SPREAD[j] * texture
        for k in range(4):
            inside = classes == k + 1
            arr[inside] = _MEANS[k, j] + _SPREAD[j] * texture[inside]
        if j < 2:  # weighted images: gain and Rician-like noise
            real = arr * gain[j] + rng.normal(0, _NOISE[j], shape)
            imag = rng.normal(0, _NOISE[j], shape)
            arr = np.hypot(real, imag)
        else:  # quantitative maps: additive noise, physical range
            arr = arr + rng.normal(0, _NOISE[j], shape)
            arr = arr.clip(0, 100 if SEQUENCES[j] == "FF" else 4000)
        maps.append(np.rint(arr).astype(np.int16))
    return maps, tumour.astype(np.uint8), classes.astype(np.uint8)


def make_synthetic_tissue_phantom(
    n_patients: int,
    out_dir: str | os.PathLike,
    *,
    random_state: int = 0,
    shape: tuple[int, int, int] = (6, 40, 40),
    spacing: tuple[float, float, float] = (5.0, 1.5, 1.5),
) -> Cohort:
    """Write a multiparametric sarcoma phantom with known voxel tissue classes.

    Every patient has four co-registered maps (``T1``, ``T2FS``, ``ADC``,
    ``FF``), a tumour mask and a label map of the tissue classes
    (:data:`TISSUE_CLASSES`: 1 viable tumour, 2 necrosis, 3 fibrosis /
    treatment change, 4 fat; 0 outside the tumour).

    Class means (T1 / T2FS / ADC / FF): viable 190 / 210 / 1100 / 4, necrosis
    90 / 320 / 2300 / 3, fibrosis 140 / 110 / 1500 / 8, fat 300 / 60 / 500 / 80.
    Within each class a smooth texture field (s.d. 45 / 50 / 380 / 8) and noise
    make the classes overlap; the T1 and T2FS gain differs between patients
    (0.85 to 1.15, a scanner effect), the ADC and FF maps are quantitative.
    The composition (class weights) is drawn per patient from a Dirichlet
    distribution, so tissue fractions differ between patients.

    Parameters
    ----------
    n_patients : int
        Number of patients (>= 2).
    out_dir : path-like
        Folder to write into (created): ``<case_id>/<SEQ>.nii.gz``,
        ``<case_id>/mask.nii.gz``, ``<case_id>/tissue.nii.gz``,
        ``manifest.csv`` (column ``tissue`` holds the label-map path) and
        ``truth.csv`` (the true fraction of each class per patient).
    random_state : int, default=0
        Seed; the same seed gives byte-identical files.
    shape : tuple of int, default=(6, 40, 40)
        Volume size (z, y, x).
    spacing : tuple of float, default=(5.0, 1.5, 1.5)
        Voxel spacing (z, y, x) in mm.

    Returns
    -------
    Cohort
        Read back from ``out_dir/manifest.csv``.

    References
    ----------
    Blackledge MD, Winfield JM, Miah A, et al. Supervised machine-learning
    enables segmentation and evaluation of heterogeneous post-treatment changes
    in multi-parametric MRI of soft-tissue sarcoma. Front Oncol. 2019;9:941.

    Examples
    --------
    >>> from radsarc.datasets import make_synthetic_tissue_phantom
    >>> cohort = make_synthetic_tissue_phantom(4, "phantom")  # doctest: +SKIP
    """
    if (
        isinstance(n_patients, bool)
        or not isinstance(n_patients, int)
        or n_patients < 2
    ):
        raise ValueError(f"n_patients must be an integer >= 2; got {n_patients!r}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, truths = [], []
    seeds = np.random.SeedSequence(random_state).spawn(n_patients)
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        case_id = f"TIS-{i + 1:02d}"
        maps, mask, classes = _make_patient(rng, shape, spacing)
        images = dict(zip(SEQUENCES, maps, strict=True))
        labels = {"mask": mask, "tissue": classes}
        rows.append(_write_case(out, case_id, spacing, images, labels))
        n = max(int(mask.sum()), 1)
        truths.append(
            {
                "case_id": case_id,
                **{
                    name: round(float((classes == k).sum() / n), 4)
                    for k, name in TISSUE_CLASSES.items()
                },
            }
        )
    return _write_tables(out, rows, truths)
