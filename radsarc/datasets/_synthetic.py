"""A synthetic soft-tissue-sarcoma MRI cohort with a known, documented signature.

The cohort imitates high-grade (label 1) versus low-grade (label 0) sarcomas on a
contrast-enhanced T1-weighted and a fat-suppressed T2-weighted (T2FS) sequence of a
limb. Every difference between the classes is scaled by ``effect_size``; with
``effect_size=0`` the classes are drawn from the same distribution (a null cohort,
useful for leakage checks). See ``docs/synthetic.md`` for the full signature.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

from radsarc._files import OutputSet
from radsarc.images import Cohort

__all__ = ["make_synthetic_cohort"]

# Tissue intensities (arbitrary MRI units) as (T1 post-contrast, T2FS).
_MUSCLE = (100.0, 80.0)
_FAT = (320.0, 45.0)
_TUMOUR = (190.0, 210.0)
_NECROSIS = (85.0, 330.0)
_OEDEMA_T2 = 165.0


def _smooth_field(rng, shape, sigma, spacing) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field smoothed by sigma (mm)."""
    noise = rng.standard_normal(shape)
    sig = [sigma / s for s in spacing]
    field = ndimage.gaussian_filter(noise, sig, mode="wrap")
    return field / (field.std() + 1e-12)


def _limb(shape, spacing):
    """The limb: a cylinder along z of muscle with a subcutaneous fat rim.

    Returns ``(z, y, x, centre, limb_r, body, fat)``: the voxel coordinates in mm
    from the volume's centre, that centre, the limb's radius and its masks.
    """
    grids = np.meshgrid(
        *(np.arange(n, dtype=float) * s for n, s in zip(shape, spacing, strict=True)),
        indexing="ij",
    )
    centre = [(n - 1) * s / 2 for n, s in zip(shape, spacing, strict=True)]
    z, y, x = (g - c for g, c in zip(grids, centre, strict=True))
    limb_r = min(centre[1], centre[2]) * 0.92
    r_xy = np.hypot(x, y)
    body = r_xy < limb_r
    fat = body & (r_xy > limb_r - 6.0)
    return z, y, x, centre, limb_r, body, fat


def _tissues(body, fat, tumour, necrosis, tumour_levels, texture, tex_sd):
    """T1 and T2FS signal before scanner effects: muscle, fat rim, textured tumour
    at ``tumour_levels`` (T1, T2FS) and its necrotic core."""
    t1 = np.zeros(body.shape)
    t2 = np.zeros(body.shape)
    for arr, k in ((t1, 0), (t2, 1)):
        arr[body] = _MUSCLE[k]
        arr[fat] = _FAT[k]
        arr[tumour] = tumour_levels[k] + tex_sd * texture[tumour]
        arr[necrosis] = _NECROSIS[k] + 0.4 * tex_sd * texture[necrosis]
    return t1, t2


def _scanner(rng, signals, group: int, bias) -> list[np.ndarray]:
    """The centre's gain and noise, the ``bias`` field and Rician-like noise
    (magnitude of complex Gaussian noise) on each signal; int16 images."""
    gain = (1.0, 1.18, 0.9)[group % 3]
    noise_sd = (6.0, 9.0, 7.0)[group % 3]
    images = []
    for arr in signals:
        real = arr * gain * bias + rng.normal(0, noise_sd, arr.shape)
        imag = rng.normal(0, noise_sd, arr.shape)
        images.append(np.rint(np.hypot(real, imag)).clip(0, 32767).astype(np.int16))
    return images


def _truth(tumour, necrosis, spacing) -> dict[str, float]:
    """The tumour's volume (ml) and necrotic fraction, as drawn."""
    return {
        "volume_ml": float(tumour.sum() * np.prod(spacing) / 1000.0),
        "necrosis_fraction": float(necrosis.sum() / max(tumour.sum(), 1)),
    }


def _make_case(rng, label: int, effect: float, group: int, shape, spacing):
    """Return (t1, t2fs, mask) arrays in (z, y, x) order and the case's truth."""
    z, y, x, centre, limb_r, body, fat = _limb(shape, spacing)

    # Tumour: ellipsoid, larger and with a more irregular (infiltrative) margin
    # in high grade.
    # Each trait of the signature is expressed with its own strength: most
    # high-grade tumours show most traits, some low-grade ones show a little.
    lo_hi = (0.25, 1.0) if label else (0.0, 0.35)
    size_s, margin_s, necro_s, oedema_s, tex_s = effect * rng.uniform(*lo_hi, size=5)
    radius = rng.lognormal(np.log(15.0), 0.18) * (1.0 + 0.30 * size_s)
    axes = radius * rng.uniform(0.8, 1.2, size=3)
    axes[0] = max(axes[0], 2.5 * spacing[0])
    shift = rng.uniform(-4, 4, size=3)
    rho = np.sqrt(
        ((z - shift[0]) / axes[0]) ** 2
        + ((y - shift[1]) / axes[1]) ** 2
        + ((x - shift[2]) / axes[2]) ** 2
    )
    margin = _smooth_field(rng, shape, 6.0, spacing)
    irregular = 0.04 + 0.16 * margin_s
    tumour = (rho < 1.0 + irregular * margin) & body & ~fat

    # Necrotic core: T2-bright, non-enhancing, in high grade.
    necrosis_frac = 0.50 * necro_s
    core_field = _smooth_field(rng, shape, 4.0, spacing)
    necrosis = tumour & (rho < necrosis_frac * (1.0 + 0.15 * core_field))

    # Peritumoral oedema on T2FS: a bright shell outside the tumour, in high grade.
    oedema_width = 0.35 * oedema_s
    oedema = body & ~tumour & ~fat & (rho < 1.0 + irregular * margin + oedema_width)

    # Heterogeneous tumour signal: a smooth texture field whose contrast rises
    # with grade.
    texture = _smooth_field(rng, shape, 1.5, spacing)
    tex_sd = 8.0 + 28.0 * tex_s

    t1, t2 = _tissues(body, fat, tumour, necrosis, _TUMOUR, texture, tex_sd)
    t2[oedema] = _OEDEMA_T2 + 10.0 * texture[oedema]

    # Scanner effects: centre-specific gain and noise, a smooth bias field,
    # Rician-like noise (magnitude of complex Gaussian noise).
    bias = 1.0 + 0.08 * (x / (limb_r + 1e-9)) + 0.05 * (z / (centre[0] + 1e-9))
    images = _scanner(rng, (t1, t2), group, bias)
    truth = _truth(tumour, necrosis, spacing)
    return images[0], images[1], tumour.astype(np.uint8), truth


def _write(array: np.ndarray, spacing, path: Path) -> None:
    img = sitk.GetImageFromArray(array)
    img.SetSpacing((spacing[2], spacing[1], spacing[0]))
    img.SetOrigin((0.0, 0.0, 0.0))
    sitk.WriteImage(img, str(path), useCompression=True)


def _write_case(out: Path, case_id: str, spacing, images, labels) -> dict:
    """Write ``out/<case_id>/<name>.nii.gz`` for each image (``{sequence: array}``)
    and label map (``{column: array}``); returns the manifest row's paths."""
    case_dir = out / case_id
    case_dir.mkdir(exist_ok=True)
    row = {"case_id": case_id}
    for seq, arr in images.items():
        _write(arr, spacing, case_dir / f"{seq}.nii.gz")
        row[f"image_{seq}"] = f"{case_id}/{seq}.nii.gz"
    for column, arr in labels.items():
        _write(arr, spacing, case_dir / f"{column}.nii.gz")
        row[column] = f"{case_id}/{column}.nii.gz"
    return row


def _write_tables(out: Path, rows: list[dict], truths: list[dict]) -> Cohort:
    """Write ``manifest.csv`` and ``truth.csv`` together; the cohort read back."""
    manifest = out / "manifest.csv"
    with OutputSet() as outputs:
        outputs.add(manifest, lambda p: pd.DataFrame(rows).to_csv(p, index=False))
        outputs.add(
            out / "truth.csv", lambda p: pd.DataFrame(truths).to_csv(p, index=False)
        )
        outputs.commit()
    return Cohort.from_csv(manifest)


def _check_cohort_arguments(count, effect_size, fraction, n_groups) -> None:
    """Validate the arguments shared by the synthetic cohort generators.

    ``count`` and ``fraction`` are ``(name, value)`` pairs, so that the message
    names the caller's own parameter.
    """
    name, n = count
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"{name} must be an integer >= 2; got {n!r}.")
    if not 0.0 <= effect_size <= 1.0:
        raise ValueError(f"effect_size must be in [0, 1]; got {effect_size!r}.")
    fname, f = fraction
    if not 0.0 < f < 1.0:
        raise ValueError(f"{fname} must be in (0, 1); got {f!r}.")
    if n_groups not in (1, 2, 3):
        raise ValueError(f"n_groups must be 1, 2 or 3; got {n_groups!r}.")


def _draw_labels(root: np.random.SeedSequence, n: int, fraction: float) -> np.ndarray:
    """``round(n * fraction)`` ones (at least one of each class), shuffled.

    Uses the first child of ``root``; the cases use the next ``n`` children.
    """
    order_rng = np.random.default_rng(root.spawn(1)[0])
    n_pos = min(max(round(n * fraction), 1), n - 1)
    labels = np.array([1] * n_pos + [0] * (n - n_pos))
    order_rng.shuffle(labels)
    return labels


def _cases(out_dir, random_state, n: int, fraction: float):
    """The output folder (created) and each case's random generator and label:
    ``round(n * fraction)`` ones (see :func:`_draw_labels`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = np.random.SeedSequence(random_state)
    labels = _draw_labels(root, n, fraction)
    rngs = [np.random.default_rng(seed) for seed in root.spawn(n)]
    return out, list(zip(rngs, labels.tolist(), strict=True))


def make_synthetic_cohort(
    n_cases: int,
    out_dir: str | os.PathLike,
    *,
    random_state: int = 0,
    effect_size: float = 1.0,
    positive_fraction: float = 0.4,
    n_groups: int = 2,
    shape: tuple[int, int, int] = (20, 80, 80),
    spacing: tuple[float, float, float] = (3.0, 1.0, 1.0),
) -> Cohort:
    """Write a synthetic two-sequence sarcoma MRI cohort and return it.

    Each case has a T1-weighted post-contrast-like and a T2FS-like NIfTI volume
    of a limb with one tumour, a tumour mask, and a manifest row with a binary
    ``label`` (1 = high grade, 0 = low grade), a ``group`` (centre) and clinical
    covariates (``age``, ``sex``). The ground truth used to draw each tumour
    (``volume_ml``, ``necrosis_fraction``) is written to ``truth.csv``, apart
    from the manifest so that it cannot leak into a model.

    The high-grade signature, every part scaled by ``effect_size``. Each trait
    has its own strength per case, drawn from U(0.25, 1) for high grade and
    U(0, 0.35) for low grade, so the classes overlap as in real cohorts:

    - larger tumours (radius x 1.3);
    - an irregular, infiltrative margin (boundary perturbation 0.04 -> 0.20 of the
      radius);
    - a necrotic core (T2FS bright, not enhancing on T1) of up to half the radius;
    - peritumoral oedema (a T2FS-bright shell outside the mask);
    - heterogeneous tumour signal (texture s.d. 8 -> 36).

    Centres differ in gain and noise (a batch effect for harmonisation), every
    image has a smooth bias field and Rician-like noise.

    Parameters
    ----------
    n_cases : int
        Number of cases (>= 2).
    out_dir : path-like
        Folder to write into (created). Files: ``<case_id>/T1.nii.gz``,
        ``<case_id>/T2FS.nii.gz``, ``<case_id>/mask.nii.gz`` and ``manifest.csv``.
    random_state : int, default=0
        Seed; the same seed gives byte-identical images.
    effect_size : float, default=1.0
        Strength of the high-grade signature in [0, 1]; 0 gives a null cohort.
    positive_fraction : float, default=0.4
        Fraction of high-grade cases (rounded; at least one of each class).
    n_groups : int, default=2
        Number of centres (1 to 3).
    shape : tuple of int, default=(20, 80, 80)
        Volume size (z, y, x) in voxels.
    spacing : tuple of float, default=(3.0, 1.0, 1.0)
        Voxel spacing (z, y, x) in mm.

    Returns
    -------
    Cohort
        The cohort read back from ``out_dir/manifest.csv``.

    Examples
    --------
    >>> from radsarc.datasets import make_synthetic_cohort
    >>> cohort = make_synthetic_cohort(4, "synthetic", random_state=0)  # doctest: +SKIP
    """
    _check_cohort_arguments(
        ("n_cases", n_cases),
        effect_size,
        ("positive_fraction", positive_fraction),
        n_groups,
    )
    out, cases = _cases(out_dir, random_state, n_cases, positive_fraction)
    rows, truths = [], []
    for i, (rng, label) in enumerate(cases):
        case_id = f"STS-{i + 1:03d}"
        group = int(rng.integers(n_groups))
        t1, t2, mask, truth = _make_case(
            rng, int(label), effect_size, group, shape, spacing
        )
        rows.append(
            {
                **_write_case(
                    out, case_id, spacing, {"T1": t1, "T2FS": t2}, {"mask": mask}
                ),
                "label": int(label),
                "group": f"centre-{'ABC'[group]}",
                "age": int(
                    np.clip(rng.normal(52 + 6 * effect_size * label, 12), 18, 90)
                ),
                "sex": "F" if rng.random() < 0.45 else "M",
            }
        )
        truths.append(
            {
                "case_id": case_id,
                "volume_ml": round(truth["volume_ml"], 3),
                "necrosis_fraction": round(truth["necrosis_fraction"], 4),
            }
        )
    return _write_tables(out, rows, truths)
