"""``radsarc benchmark``: every tabular preset on the bundled WORC tables and splits."""

from __future__ import annotations

import shlex
import sys
import time

import click

from radsarc.cli._main import (
    main,
    n_jobs_option,
    scheduler_option,
    seed_option,
    user_errors,
)
from radsarc.cli._outcomes import (
    baseline_options,
    check_presets,
    echo_baselines,
    report_folder_option,
    resolve_baseline,
    run_preset,
    threshold_cv_option,
    tuning_option,
)

#: Default number of WORC splits: keeps ``radsarc benchmark`` under 3 minutes on
#: 2 cores; ``--splits 100`` is WORC's full protocol.
DEFAULT_SPLITS = 10
_DATASETS = {"worc-lipo": "Lipo", "worc-desmoid": "Desmoid"}


def _split_names(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@main.command("benchmark")
@click.option(
    "--dataset",
    type=click.Choice([*_DATASETS, "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "--presets",
    "presets",
    multiple=True,
    help="Presets to run, comma-separated or repeated (default: all tabular).",
)
@click.option(
    "--splits",
    "n_splits",
    default=DEFAULT_SPLITS,
    show_default=True,
    type=click.IntRange(1, 100),
    help="How many of WORC's 100 train/test splits (100 = full protocol).",
)
@tuning_option(
    "Tune each preset's hyper-parameter grid inside every training part "
    "(3-fold inner cross-validation), as WORC's protocol does."
)
@threshold_cv_option(
    "Folds of each training part whose predictions choose the cut-off."
)
@baseline_options(
    "Column for the baseline model fitted on the same splits (default: the "
    "tumour volume, MR_original_shape_MeshVolume on the WORC tables)."
)
@n_jobs_option("Splits run in parallel (joblib).", default=2)
@seed_option("Seed of the inner folds and cut-off folds (Python: random_state=).")
@report_folder_option("Folder for report.html, results.csv and the figures.")
@scheduler_option()
@user_errors
def benchmark_command(
    dataset,
    presets,
    n_splits,
    tuning,
    threshold_cv,
    baseline_column,
    no_baseline,
    n_jobs,
    seed,
    out_dir,
    scheduler,
):
    """Run the tabular presets on WORC-Lipo and WORC-Desmoid with WORC's own splits.

    Results are shown beside WORC's published AUC on the same patients and splits
    (Lipo 0.83, Desmoid 0.82, mean over 100 splits).
    """
    from radsarc._files import atomic_write, check_writable_folder
    from radsarc._parallel import parallel_backend
    from radsarc._progress import progress_bar
    from radsarc.datasets import (
        WORC_PUBLISHED_RESULTS,
        load_worc_splits,
        load_worc_table,
    )
    from radsarc.evaluation import FixedSplits, evaluate
    from radsarc.presets import list_presets
    from radsarc.report import results_table, write_report

    names = _split_names(presets) or list_presets("features")
    check_presets(names)  # unknown names and non-tabular presets, before any work
    baseline = resolve_baseline(baseline_column, no_baseline)
    check_writable_folder(out_dir, what="report")
    datasets = list(_DATASETS.values()) if dataset == "all" else [_DATASETS[dataset]]
    start = time.perf_counter()
    sections, reference, failures = {}, {}, {}
    with (
        parallel_backend(scheduler),
        progress_bar(
            None,
            total=len(datasets) * len(names) * n_splits,
            unit="split",
            desc="benchmark",
        ) as bar,
    ):
        for ds in datasets:
            X, y = load_worc_table(ds)
            splits = load_worc_splits(ds)[:n_splits]
            scheme = FixedSplits(splits, name=f"WORC's splits 0-{n_splits - 1} of 100")
            key = f"WORC-{ds}"
            reference[key] = dict(WORC_PUBLISHED_RESULTS[ds])
            sections[key] = []
            for name in names:
                bar.set_postfix_str(f"{key} {name}")
                res, message = run_preset(
                    name,
                    lambda name=name, X=X, y=y, scheme=scheme: evaluate(
                        name,
                        X,
                        y,
                        cv=scheme,
                        tuning=tuning,
                        baseline=baseline,
                        threshold_cv=threshold_cv,
                        random_state=seed,
                        n_jobs=n_jobs if scheduler is None else -1,
                        progress=None,
                    ),
                )
                bar.update(len(splits))
                if res is None:
                    failures.setdefault(key, {})[name] = message
                else:
                    sections[key].append(res)
    sections = {k: v for k, v in sections.items() if v}
    if not sections:
        # Nothing to report: a previous results.csv and report stay as they were.
        raise ValueError(
            f"Every preset failed on every table; nothing was written "
            f"({out_dir / 'results.csv'} and {out_dir / 'report.html'} are "
            "unchanged)."
        )
    table = results_table(sections, reference, failures=failures)
    with atomic_write(out_dir / "results.csv") as tmp:
        table.to_csv(tmp, index=False)
    command = "radsarc " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = write_report(
        sections,
        out_dir,
        title="radsarc benchmark on the WORC tables",
        reference=reference,
        command=command,
        failures=failures,
    )
    elapsed = time.perf_counter() - start
    click.echo(
        f"\nMean test AUC over {n_splits} of WORC's 100 splits (95% CI, Nadeau-Bengio):"
    )
    for key in reference:
        results = sections.get(key, [])
        click.echo(f"  {key} (WORC published: {reference[key]['auc']:.2f})")
        for res in results:
            s = res.summary.loc["auc"]
            ci = f"{s['ci_low']:.2f}-{s['ci_high']:.2f}" if s["n_splits"] > 1 else "n/a"
            click.echo(f"    {res.name:<20} {s['mean']:.3f}  ({ci})")
        for name, message in failures.get(key, {}).items():
            click.echo(f"    {name:<20} FAILED: {message}")
        echo_baselines(results, indent="    ")
        for res in results:
            for _, row in res.comparisons.iterrows():
                click.echo(f"    {row['sentence']}")
    click.echo(f"Wrote {path} and {out_dir / 'results.csv'} in {elapsed:.0f} s")
