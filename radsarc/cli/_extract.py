"""``radsarc extract`` and ``radsarc validate``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from radsarc.cli._main import main, user_errors


def _sidecar(out: Path, kind: str, suffix: str = ".csv") -> Path:
    """FEATURES.csv -> FEATURES.<kind>.csv (or .<kind><suffix>) beside it."""
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
@click.option(
    "--params",
    "params",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="pyradiomics parameter file (YAML). Default: pyradiomics defaults.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Feature table to write (CSV, one row per case).",
)
@click.option(
    "--n-jobs",
    type=int,
    default=1,
    show_default=True,
    help="Cases extracted in parallel (-1: all cores).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Result cache; default: .radsarc-cache beside the output.",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on a Dask cluster: its scheduler address, e.g. tcp://host:8786 "
    "(needs radsarc[dask]; workers must see the files at the same paths).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@user_errors
def extract(manifest, params, out, n_jobs, cache_dir, no_cache, scheduler, quiet):
    """Extract radiomic features of every case in MANIFEST.

    Writes OUT (case_id, the manifest's label, group and covariate columns, then
    the features: ready for `radsarc evaluate OUT --label label`),
    OUT.diagnostics.csv, OUT.errors.csv (one row per failed case and sequence:
    case_id, sequence, stage, file, message), OUT.settings.yaml and
    OUT.columns.yaml (which columns are not features). Failed cases do not stop
    the others; the exit code is 0 when the run finished.
    """
    from radsarc.features import ExtractionSettings, extract_features
    from radsarc.images import Cohort

    if scheduler is not None:
        from radsarc._parallel import import_distributed

        try:
            import_distributed()
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
    settings = ExtractionSettings.coerce(params)
    cohort = Cohort.from_csv(manifest)
    if not no_cache and cache_dir is None:
        cache_dir = out.parent / ".radsarc-cache"
    result = extract_features(
        cohort,
        settings,
        n_jobs=n_jobs,
        cache_dir=None if no_cache else cache_dir,
        progress=not quiet,
        return_result=True,
        scheduler=scheduler,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(out, float_format="%.17g")
    clinical = [str(c) for c in result.clinical.columns]
    columns_sidecar(out).write_text(
        "# Columns of " + out.name + " written by radsarc extract: the case id, "
        "then the\n# manifest's clinical columns (not features), then "
        "n_features feature columns.\n"
        + yaml.safe_dump(
            {
                "case_id": result.features.index.name or "case_id",
                "clinical": clinical,
                "n_features": int(result.features.shape[1]),
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    result.diagnostics.to_csv(_sidecar(out, "diagnostics"))
    settings_path = out.with_name(out.name.removesuffix(".csv") + ".settings.yaml")
    from radsarc.features._pyradiomics import ENGINE

    settings_path.write_text(
        f"# radsarc extraction settings ({ENGINE}); digest {settings.digest}\n"
        + settings.to_yaml(),
        encoding="utf-8",
    )
    errors_path = _sidecar(out, "errors")
    result.errors.to_csv(errors_path, index=False)
    for row in result.errors.itertuples(index=False):
        seq = f" [{row.sequence}]" if row.sequence else ""
        click.echo(f"failed: {row.case_id}{seq} ({row.stage}): {row.message}", err=True)
    click.echo(
        f"wrote {out} ({result.features.shape[0]} cases x "
        f"{result.features.shape[1]} features"
        + (f"; columns {', '.join(clinical)} from the manifest" if clinical else "")
        + f") in {result.elapsed:.1f} s"
    )
    if result.n_failed:
        click.echo(f"errors table: {errors_path}")
    click.echo(result.summary)


@main.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option(
    "--label",
    type=int,
    default=1,
    show_default=True,
    help="Mask label of the region of interest.",
)
@click.option(
    "--tolerance",
    type=float,
    default=1e-3,
    show_default=True,
    help="Geometry tolerance (relative to the voxel spacing).",
)
@user_errors
def validate(manifest, label, tolerance):
    """Check every file of MANIFEST (a CSV or a cohort folder) before extracting.

    Exit code 0 when no problem is found, 1 when problems are listed.
    """
    from radsarc.images import Cohort

    cohort = (
        Cohort.from_directory(manifest)
        if manifest.is_dir()
        else (Cohort.from_csv(manifest))
    )
    report = cohort.validate(label=label, geometry_tolerance=tolerance)
    click.echo(str(report))
    sys.exit(0 if report.ok else 1)
