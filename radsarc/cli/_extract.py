"""``radsarc extract`` and ``radsarc validate``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click
import yaml

from radsarc._files import OutputSet, check_writable_folder
from radsarc.cli._main import (
    cache_dir_option,
    cohort_files,
    main,
    n_jobs_option,
    quiet_option,
    refuse_overwriting_inputs,
    require_inputs,
    roi_option,
    scheduler_option,
    settings_option,
    user_errors,
)


def _settings_checks(settings):
    """``Cohort.validate(extra_checks=)``: the checks of extract that depend on
    the settings (the NaN voxels outside the mask that a filter, resampling or
    normalisation would read; a bin width that makes too many grey levels).

    The bin check uses the image as read; with a ``preprocessing`` section
    extract repeats it on the preprocessed image.
    """
    from radsarc.features._extract import _binning_problem, _nonfinite_outside_problem

    def check(image, loaded):
        found = []
        outside = _nonfinite_outside_problem(image, settings)
        if outside is not None:
            found.append(("finite", outside))
        if not settings.preprocessing:
            for mask in loaded.regions.values():
                too_many = _binning_problem(image, mask, settings)
                if too_many is not None:
                    found.append(("binning", too_many))
                    break
        return found

    return check


def _sidecar(out: Path, kind: str, suffix: str = ".csv") -> Path:
    """FEATURES.csv -> FEATURES.<kind>.csv (or .<kind><suffix>) beside it."""
    if not out.name:
        raise ValueError(f"--out {str(out)!r} names no file; expected a file path.")
    name = out.name[: -len(".csv")] if out.name.endswith(".csv") else out.name
    return out.with_name(f"{name}.{kind}{suffix}")


def columns_sidecar(features: Path) -> Path:
    """FEATURES.csv -> FEATURES.columns.yaml: which columns are not features."""
    return _sidecar(features, "columns", ".yaml")


def read_columns_sidecar(features: Path) -> dict | None:
    """The column roles ``radsarc extract`` wrote beside FEATURES.csv, or None."""
    import yaml

    path = columns_sidecar(features)
    if not path.is_file():
        return None
    roles = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(roles, dict) or not isinstance(roles.get("clinical"), list):
        raise ValueError(
            f"{path} is not a column file written by radsarc extract (expected a "
            "'clinical' list of column names); delete it or write it again."
        )
    return roles


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@settings_option()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Feature table to write (CSV, one row per case).",
)
@n_jobs_option("Cases extracted in parallel (-1: all cores).")
@cache_dir_option("Result cache; default: .radsarc-cache beside the output.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@scheduler_option(
    "Run on a Dask cluster: its scheduler address, e.g. tcp://host:8786 "
    "(needs radsarc[dask]; workers must see the files at the same paths)."
)
@roi_option()
@quiet_option()
@user_errors
def extract(manifest, params, out, n_jobs, cache_dir, no_cache, scheduler, roi, quiet):
    """Extract radiomic features of every case in MANIFEST.

    Writes OUT (case_id, the manifest's label, group and covariate columns, then
    the features: ready for `radsarc evaluate OUT --label label`),
    OUT.diagnostics.csv, OUT.errors.csv (one row per failed case and sequence:
    case_id, sequence, stage, file, message), OUT.settings.yaml and
    OUT.columns.yaml (which columns are not features). Failed cases do not stop
    the others; the exit code is 0 when the run finished.
    """
    require_inputs(("Manifest", manifest))
    from radsarc.features import ExtractionSettings, extract_features
    from radsarc.features._cache import CacheWarning
    from radsarc.images import Cohort

    if scheduler is not None:
        from radsarc._parallel import import_distributed

        try:
            import_distributed()
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
    settings = ExtractionSettings.coerce(params)
    cohort = Cohort.from_csv(manifest, roi=list(roi) or None)
    errors_path = _sidecar(out, "errors")
    settings_path = out.with_name(out.name.removesuffix(".csv") + ".settings.yaml")
    diagnostics_path = _sidecar(out, "diagnostics")
    refuse_overwriting_inputs(
        {
            "--out": out,
            "The diagnostics table": diagnostics_path,
            "The settings file": settings_path,
            "The errors table": errors_path,
            "The column file": columns_sidecar(out),
        },
        {"the manifest": manifest, "the parameter file": params} | cohort_files(cohort),
    )
    check_writable_folder(out.parent, what="feature table")
    if not no_cache and cache_dir is None:
        cache_dir = out.parent / ".radsarc-cache"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheWarning)
        result = extract_features(
            cohort,
            settings,
            n_jobs=n_jobs,
            cache_dir=None if no_cache else cache_dir,
            progress=False if quiet else None,
            return_result=True,
            scheduler=scheduler,
        )
    for warning in caught:
        click.echo(f"radsarc: warning: {warning.message}", err=True)
    for row in result.error_records:
        seq = f" [{row['sequence']}]" if row["sequence"] else ""
        where = f" {row['file']}:" if row["file"] else ""
        click.echo(
            f"failed: {row['case_id']}{seq} ({row['stage']}):{where} {row['message']}",
            err=True,
        )
    n_cases, n_features = len(result.case_ids), len(result.feature_names)
    if n_cases == 0 or n_features == 0:
        click.echo(
            f"radsarc: error: every case of {manifest} failed "
            f"({result.n_failed} of {len(cohort)}); nothing was written "
            f"({out} and its side files are unchanged).",
            err=True,
        )
        sys.exit(1)
    if settings.engine == "ibsi":
        from radsarc.features.ibsi import ENGINE
    else:  # not the IBSI engine: its module imports scipy.signal and .stats
        from radsarc.features._pyradiomics import ENGINE

    clinical = [str(c) for c in result.clinical_names]
    columns_text = (
        "# Columns of " + out.name + " written by radsarc extract: the case id, "
        "then the\n# manifest's clinical columns (not features), then "
        "n_features feature columns.\n"
        + yaml.safe_dump(
            {
                "case_id": "case_id",
                "clinical": clinical,
                "n_features": n_features,
            },
            sort_keys=False,
        )
    )
    with OutputSet() as outputs:
        outputs.add(out, result.write_csv)
        outputs.add_text(columns_sidecar(out), columns_text)
        outputs.add(diagnostics_path, result.write_diagnostics_csv)
        outputs.add_text(
            settings_path,
            f"# radsarc extraction settings ("
            f"{ENGINE}); "
            f"digest {settings.digest}\n" + settings.to_yaml(),
        )
        outputs.add(errors_path, result.write_errors_csv)
        outputs.commit()
    click.echo(
        f"wrote {out} ({n_cases} cases x {n_features} features"
        + (f"; columns {', '.join(clinical)} from the manifest" if clinical else "")
        + f") in {result.elapsed:.1f} s"
    )
    if result.n_failed:
        click.echo(f"errors table: {errors_path}")
    click.echo(result.summary)


@main.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@settings_option(
    help="The extraction settings extract will use (--params is the same "
    "option): their label, geometryTolerance and correctMask apply here too.",
)
@click.option(
    "--label",
    type=click.IntRange(1),
    default=None,
    help="Mask label of the region of interest. Default: the parameter file's "
    "label, else 1.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="Geometry tolerance, a fraction of the voxel spacing. Default: the "
    "parameter file's geometryTolerance, else 0.001 (the same as extract).",
)
@roi_option()
@user_errors
def validate(manifest, params, label, tolerance, roi):
    """Check every file of MANIFEST (a CSV or a cohort folder) before extracting.

    The checks and the geometry tolerance are those of extract. Exit code 0 when
    no problem is found, 1 when problems are listed.
    """
    require_inputs(("Manifest", manifest))
    from radsarc.features import ExtractionSettings
    from radsarc.features._extract import geometry_tolerance
    from radsarc.images import Cohort

    settings = ExtractionSettings.coerce(params)
    roi = list(roi) or None
    cohort = (
        Cohort.from_directory(manifest, roi=roi)
        if manifest.is_dir()
        else (Cohort.from_csv(manifest, roi=roi))
    )
    report = cohort.validate(
        label=settings.label if label is None else label,
        geometry_tolerance=(
            geometry_tolerance(settings) if tolerance is None else tolerance
        ),
        resample_mask=bool(settings.setting.get("correctMask", False)),
        mask_threshold=settings.setting.get("maskThreshold"),
        extra_checks=None if params is None else _settings_checks(settings),
    )
    click.echo(str(report))
    sys.exit(0 if report.ok else 1)
