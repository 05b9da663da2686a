"""A synthetic two-timepoint sarcoma cohort with a known treatment response.

Every patient is imaged before (``pre``) and after (``post``) neoadjuvant
therapy on the two sequences of :func:`make_synthetic_cohort`. Baseline tumours
of responders and non-responders are drawn from the same distribution, so a
single-timepoint model has nothing to find at baseline; after therapy,
responders shrink, lose enhancement and become necrotic. See
``docs/response.md``.
"""

from __future__ import annotations

import os

import numpy as np

from radsarc.datasets._synthetic import (
    _TUMOUR,
    _cases,
    _check_cohort_arguments,
    _limb,
    _scanner,
    _smooth_field,
    _tissues,
    _truth,
    _write_case,
    _write_tables,
)
from radsarc.images import Cohort

__all__ = ["make_synthetic_response_cohort"]

TIMEPOINTS = ("pre", "post")


def _geometry(rng, shape, spacing):
    """Everything about a patient's limb and tumour that therapy does not change."""
    z, y, x, centre, limb_r, body, fat = _limb(shape, spacing)
    radius = rng.lognormal(np.log(13.0), 0.18)
    axes = radius * rng.uniform(0.8, 1.2, size=3)
    axes[0] = max(axes[0], 2.5 * spacing[0])
    shift = rng.uniform(-3, 3, size=3)
    # Distance in units of the pre-therapy radii, before any shrinkage.
    rho = np.sqrt(
        ((z - shift[0]) / axes[0]) ** 2
        + ((y - shift[1]) / axes[1]) ** 2
        + ((x - shift[2]) / axes[2]) ** 2
    )
    return {
        "x": x,
        "z": z,
        "centre": centre,
        "limb_r": limb_r,
        "body": body,
        "fat": fat,
        "rho": rho,
        "margin": 0.06 * _smooth_field(rng, shape, 6.0, spacing),
        "core": _smooth_field(rng, shape, 4.0, spacing),
        "texture": _smooth_field(rng, shape, 1.5, spacing),
        "necrosis0": rng.uniform(0.0, 0.25),
        "tex_sd": rng.uniform(8.0, 24.0),
    }


def _scan(rng, geo, *, scale, necrosis_frac, t1_tumour, t2_tumour, group, spacing):
    """Draw one timepoint: tumour radii times ``scale``; returns t1, t2, mask, truth."""
    body, fat, texture = geo["body"], geo["fat"], geo["texture"]
    rho = geo["rho"] / scale
    tumour = (rho < 1.0 + geo["margin"]) & body & ~fat
    necrosis = tumour & (rho < necrosis_frac * (1.0 + 0.15 * geo["core"]))
    t1, t2 = _tissues(
        body, fat, tumour, necrosis, (t1_tumour, t2_tumour), texture, geo["tex_sd"]
    )
    bias = (
        1.0
        + 0.08 * (geo["x"] / geo["limb_r"])
        + 0.05 * (geo["z"] / (geo["centre"][0] + 1e-9))
    )
    images = _scanner(rng, (t1, t2), group, bias)
    truth = _truth(tumour, necrosis, spacing)
    return images[0], images[1], tumour.astype(np.uint8), truth


def make_synthetic_response_cohort(
    n_patients: int,
    out_dir: str | os.PathLike,
    *,
    random_state: int = 0,
    effect_size: float = 1.0,
    responder_fraction: float = 0.4,
    n_groups: int = 2,
    shape: tuple[int, int, int] = (16, 64, 64),
    spacing: tuple[float, float, float] = (3.0, 1.0, 1.0),
) -> Cohort:
    """Write a pre/post-therapy cohort with a known response and return it.

    The manifest has one row per patient and timepoint: ``case_id``
    (``RSP-001-pre``, ``RSP-001-post``, ...), ``image_T1``, ``image_T2FS``,
    ``mask``, ``label`` (1 = pathological complete response, the same on both
    rows), ``group`` (centre), ``patient_id``, ``timepoint`` (``pre`` or
    ``post``), ``age`` and ``sex``. This is radsarc's convention for
    longitudinal cohorts; :func:`radsarc.features.delta_features` pairs the rows.

    Baseline tumours do not depend on the response. Each patient has a
    response strength ``s``: ``effect_size x U(0.3, 1)`` for responders and
    ``effect_size x U(0, 0.4)`` for non-responders (they overlap). After therapy:

    - the tumour radii shrink by the factor ``1 - 0.35 s``;
    - enhancement falls: tumour T1 190 -> ``190 - 70 s``, and T2FS
      210 -> ``210 - 40 s`` (fibrosis / treatment change);
    - the necrotic core (T1 85, T2FS 330) grows from its baseline fraction
      ``U(0, 0.25)`` of the radius by ``0.45 s``.

    The centre's gain and noise, the bias field and the tumour texture are
    those of :func:`make_synthetic_cohort` and stay the same at both
    timepoints (fresh noise per scan). ``truth.csv`` holds each scan's
    ``volume_ml``, ``necrosis_fraction`` and the patient's ``response_strength``.

    Parameters
    ----------
    n_patients : int
        Number of patients (>= 2); the cohort has twice as many rows.
    out_dir : path-like
        Folder to write into (created).
    random_state : int, default=0
        Seed; the same seed gives byte-identical files.
    effect_size : float, default=1.0
        Strength of the response in [0, 1]; 0 gives a null cohort.
    responder_fraction : float, default=0.4
        Fraction of responders (rounded; at least one of each class).
    n_groups : int, default=2
        Number of centres (1 to 3).
    shape : tuple of int, default=(16, 64, 64)
        Volume size (z, y, x).
    spacing : tuple of float, default=(3.0, 1.0, 1.0)
        Voxel spacing (z, y, x) in mm.

    Returns
    -------
    Cohort
        Read back from ``out_dir/manifest.csv``.

    Examples
    --------
    >>> from radsarc.datasets import make_synthetic_response_cohort
    >>> cohort = make_synthetic_response_cohort(4, "response")  # doctest: +SKIP
    """
    _check_cohort_arguments(
        ("n_patients", n_patients),
        effect_size,
        ("responder_fraction", responder_fraction),
        n_groups,
    )
    out, cases = _cases(out_dir, random_state, n_patients, responder_fraction)
    rows, truths = [], []
    for i, (rng, label) in enumerate(cases):
        patient = f"RSP-{i + 1:03d}"
        group = int(rng.integers(n_groups))
        geo = _geometry(rng, shape, spacing)
        strength = effect_size * rng.uniform(*((0.3, 1.0) if label else (0.0, 0.4)))
        age = int(np.clip(rng.normal(55, 12), 18, 90))
        sex = "F" if rng.random() < 0.45 else "M"
        scans = {
            "pre": {
                "scale": 1.0,
                "necrosis_frac": geo["necrosis0"],
                "t1_tumour": _TUMOUR[0],
                "t2_tumour": _TUMOUR[1],
            },
            "post": {
                "scale": 1.0 - 0.35 * strength,
                "necrosis_frac": geo["necrosis0"] + 0.45 * strength,
                "t1_tumour": _TUMOUR[0] - 70.0 * strength,
                "t2_tumour": _TUMOUR[1] - 40.0 * strength,
            },
        }
        for timepoint in TIMEPOINTS:
            case_id = f"{patient}-{timepoint}"
            t1, t2, mask, truth = _scan(
                rng, geo, group=group, spacing=spacing, **scans[timepoint]
            )
            rows.append(
                {
                    **_write_case(
                        out, case_id, spacing, {"T1": t1, "T2FS": t2}, {"mask": mask}
                    ),
                    "label": int(label),
                    "group": f"centre-{'ABC'[group]}",
                    "patient_id": patient,
                    "timepoint": timepoint,
                    "age": age,
                    "sex": sex,
                }
            )
            truths.append(
                {
                    "case_id": case_id,
                    "patient_id": patient,
                    "timepoint": timepoint,
                    "volume_ml": round(truth["volume_ml"], 3),
                    "necrosis_fraction": round(truth["necrosis_fraction"], 4),
                    "response_strength": round(float(strength), 4),
                }
            )
    return _write_tables(out, rows, truths)
