"""``radsarc maps``: voxel-based texture maps of every case."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from radsarc._files import OutputSet, check_writable_folder
from radsarc.cli._main import (
    cohort_files,
    main,
    n_jobs_option,
    quiet_option,
    refuse_overwriting_inputs,
    require_inputs,
    settings_option,
    user_errors,
)


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@settings_option(
    help="Extraction settings, as for extract (a pyradiomics parameter file with "
    "its voxelSetting section; --params is the older name); shape is left out.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder: OUT/<case_id>/<column>.nii.gz per feature.",
)
@click.option(
    "--kernel-radius",
    type=click.IntRange(1),
    default=None,
    help="Kernel radius in voxels (default: voxelSetting.kernelRadius, else 1).",
)
@n_jobs_option("Cases computed in parallel (-1: all cores).")
@quiet_option("No progress bar.")
@user_errors
def maps(manifest, params, out, kernel_radius, n_jobs, quiet):
    """Voxel-based texture maps of every case in MANIFEST.

    For each case, one NIfTI per feature on the image's grid:
    OUT/<case_id>/<column>.nii.gz, where <column> is the column name `radsarc
    extract` gives the feature (original_glcm_Contrast; T1_original_... with
    several sequences). Each voxel of the mask holds the feature of the kernel
    around it, as pyradiomics' voxel-based extraction computes it; voxels
    outside the mask hold voxelSetting.initValue (0). Also writes OUT/maps.csv
    (case_id, column, path) and OUT/errors.csv. A case whose maps are complete
    for the same inputs and settings is not computed again; failed cases do
    not stop the others.
    """
    require_inputs(("Manifest", manifest))
    import warnings

    from radsarc.features import ExtractionSettings, feature_maps
    from radsarc.images import Cohort

    settings = ExtractionSettings.coerce(params)
    cohort = Cohort.from_csv(manifest)
    refuse_overwriting_inputs(
        {
            "--out's maps.csv": out / "maps.csv",
            "--out's errors.csv": out / "errors.csv",
        },
        {"the manifest": manifest, "the settings file": params} | cohort_files(cohort),
    )
    check_writable_folder(out, what="maps")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = feature_maps(
            cohort,
            settings,
            out,
            kernel_radius=kernel_radius,
            n_jobs=n_jobs,
            progress=not quiet,
        )
    for warning in caught:
        if "failed and have no maps" not in str(warning.message):
            click.echo(f"radsarc: warning: {warning.message}", err=True)
    for row in result.errors.itertuples(index=False):
        seq = f" [{row.sequence}]" if row.sequence else ""
        where = f" {row.file}:" if row.file else ""
        click.echo(
            f"failed: {row.case_id}{seq} ({row.stage}):{where} {row.message}",
            err=True,
        )
    if not result.files.empty:
        with OutputSet() as outputs:
            outputs.add(out / "maps.csv", lambda p: result.files.to_csv(p, index=False))
            outputs.add(
                out / "errors.csv", lambda p: result.errors.to_csv(p, index=False)
            )
            outputs.commit()
    if result.files.empty:
        click.echo(
            f"radsarc: error: every case of {manifest} failed "
            f"({result.n_failed} of {len(cohort)}); no maps were written.",
            err=True,
        )
        sys.exit(1)
    n_cases = result.files["case_id"].nunique()
    n_columns = result.files["column"].nunique()
    click.echo(
        f"wrote {len(result.files)} maps ({n_cases} cases x {n_columns} features) "
        f"to {out} in {result.elapsed:.1f} s"
    )
    click.echo(result.summary)
