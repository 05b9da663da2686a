"""``radsarc fit`` and ``radsarc predict``: a saved model from images to classes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from radsarc._files import OutputSet, check_writable_folder
from radsarc.cli._main import (
    ROI_HELP,
    cache_dir_option,
    cohort_files,
    cutoff_options,
    main,
    n_jobs_option,
    quiet_option,
    refuse_overwriting_inputs,
    require_inputs,
    roi_option,
    seed_option,
    settings_option,
    user_errors,
)


def _sidecar(out: Path, kind: str) -> Path:
    """PRED.csv -> PRED.<kind>.csv beside it."""
    if not out.name:
        raise ValueError(f"--out {str(out)!r} names no file; expected a file path.")
    name = out.name[: -len(".csv")] if out.name.endswith(".csv") else out.name
    return out.with_name(f"{name}.{kind}.csv")


def _echo_errors(errors) -> None:
    for row in errors.itertuples(index=False):
        seq = f" [{row.sequence}]" if row.sequence else ""
        where = f" {row.file}:" if row.file else ""
        click.echo(
            f"failed: {row.case_id}{seq} ({row.stage}):{where} {row.message}", err=True
        )


@main.command("fit")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preset", required=True, help="Preset to fit (see docs/presets.md).")
@settings_option()
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file to write (e.g. model.radsarc).",
)
@click.option(
    "--harmonise",
    is_flag=True,
    help="ComBat on the manifest's 'group' (centre), fitted on the training cases.",
)
@click.option(
    "--nyul-region",
    "--nyul",
    "nyul",
    type=click.Choice(["body", "roi"]),
    default=None,
    help="Learn Nyul landmarks on the training images (this region).",
)
@cutoff_options("Cut-off rule on out-of-fold probabilities of the training cases.")
@click.option(
    "--cv", type=click.IntRange(2), default=5, show_default=True, help="Folds."
)
@click.option(
    "--tuning/--no-tuning",
    default=True,
    show_default=True,
    help="Tune the preset's hyper-parameter grid by --cv-fold AUC before fitting.",
)
@click.option(
    "--group",
    "group_column",
    default=None,
    metavar="COLUMN",
    help="Manifest column with the patient id when a patient has several "
    "lesions: every fold keeps a patient's lesions together (Python: "
    "group_column=).",
)
@click.option("--positive", default=None, help="Label value of class 1 if not 0/1.")
@roi_option(ROI_HELP + " Saved with the model, which uses it for new cases too.")
@n_jobs_option()
@cache_dir_option()
@seed_option("Seed of the folds (Python: random_state=).")
@quiet_option("No progress bars (shown on a terminal only).")
@user_errors
def fit_command(
    manifest,
    preset,
    params,
    out,
    harmonise,
    nyul,
    cutoff,
    min_sensitivity,
    cv,
    tuning,
    group_column,
    positive,
    roi,
    n_jobs,
    cache_dir,
    seed,
    quiet,
):
    """Fit PRESET on the images of MANIFEST and save the model to OUT.

    The model holds the extraction settings (and learned preprocessing), the
    fitted pipeline and the cut-off chosen on out-of-fold probabilities of the
    training cases. Cases that fail extraction are listed (and written to
    OUT.training-errors.csv) and left out; the others are used.
    """
    require_inputs(("Manifest", manifest))
    from radsarc.cli._outcomes import check_presets
    from radsarc.deploy import RadiomicsModel
    from radsarc.features import ExtractionSettings
    from radsarc.images import Cohort

    check_presets([preset])  # delta and voxel presets: refused before any work
    settings = ExtractionSettings.coerce(params)
    cohort = Cohort.from_csv(manifest, roi=list(roi) or None)
    errors_path = _sidecar(out, "training-errors")
    refuse_overwriting_inputs(
        {"--out": out, "The training errors table": errors_path},
        {"the manifest": manifest, "the parameter file": params} | cohort_files(cohort),
    )
    check_writable_folder(out.parent, what="model")
    model = RadiomicsModel(
        preset=preset,
        settings=settings,
        harmonise=harmonise,
        nyul_region=nyul,
        cutoff=cutoff,
        min_sensitivity=min_sensitivity,
        cv=cv,
        tuning=tuning,
        group_column=group_column,
        positive=positive,
        roi=list(roi) or None,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        random_state=seed,
        progress=False if quiet else None,
    ).fit(cohort)
    with OutputSet() as outputs:
        outputs.add(out, model.save)
        if len(model.training_errors_):
            outputs.add(
                errors_path, lambda p: model.training_errors_.to_csv(p, index=False)
            )
        outputs.commit()
    _echo_errors(model.training_errors_)
    summary = model.training_summary_
    click.echo(
        f"wrote {out}: {preset} fitted on {summary['n_cases']} cases "
        f"({summary['n_positive']} positive), "
        + (
            f"{'nested ' if summary.get('tuned_inner_auc') is not None else ''}"
            f"out-of-fold AUC {summary['oof_auc']:.3f}"
            if summary["oof_auc"] is not None
            else f"out-of-fold AUC n/a ({summary.get('oof_auc_method')})"
        )
        + f", cut-off {model.threshold_:.4g} ({cutoff})"
        + (f", tuned {summary['best_params']}" if summary["best_params"] else "")
    )
    if len(model.training_errors_):
        click.echo(
            f"{summary['n_failed']} case(s) failed and were left out: {errors_path}"
        )


@main.command("predict")
@click.argument("model_path", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Predictions to write (CSV: case_id, probability, class).",
)
@n_jobs_option()
@cache_dir_option()
@roi_option(
    ROI_HELP + " Default: the structure(s) the model was fitted with "
    "(--roi of radsarc fit)."
)
@quiet_option()
@user_errors
def predict_command(model_path, manifest, out, n_jobs, cache_dir, roi, quiet):
    """Score the cases of MANIFEST with the saved model MODEL_PATH.

    Writes OUT (case_id, probability, class) and OUT.errors.csv (case_id,
    sequence, stage, file, message for each case that could not be scored).
    Failed cases do not stop the others; the exit code is 0 when the run finished.
    """
    require_inputs(("Model file", model_path), ("Manifest", manifest))
    from radsarc.deploy import load_model
    from radsarc.images import Cohort

    errors_path = _sidecar(out, "errors")
    refuse_overwriting_inputs(
        {"--out": out, "The errors table": errors_path},
        {"the model file": model_path, "the manifest": manifest},
    )
    model = load_model(model_path)
    model.progress = False if quiet else None
    if roi:
        model.roi = list(roi)
    cohort = Cohort.from_csv(manifest, roi=model.roi)
    refuse_overwriting_inputs(
        {"--out": out, "The errors table": errors_path}, cohort_files(cohort)
    )
    check_writable_folder(out.parent, what="predictions")
    result = model.predict_cohort(cohort, n_jobs=n_jobs, cache_dir=cache_dir)
    _echo_errors(result.errors)
    if result.predictions.empty:
        click.echo(
            f"radsarc: error: no case of {manifest} could be scored "
            f"({len(cohort)} failed); nothing was written ({out} and its errors "
            "table are unchanged).",
            err=True,
        )
        sys.exit(1)
    with OutputSet() as outputs:
        outputs.add(
            out,
            lambda p: result.predictions.to_csv(p, index=False, float_format="%.17g"),
        )
        outputs.add(errors_path, lambda p: result.errors.to_csv(p, index=False))
        outputs.commit()
    click.echo(f"wrote {out} (cut-off {result.threshold:.4g})")
    if len(result.errors):
        click.echo(f"errors table: {errors_path}")
    click.echo(result.summary)
