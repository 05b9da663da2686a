"""``radsarc evaluate``: evaluate presets on a feature table and write the report."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from radsarc._files import atomic_write, check_csv_table, check_writable_folder
from radsarc.cli._main import (
    cutoff_options,
    main,
    n_jobs_option,
    quiet_option,
    refuse_overwriting_inputs,
    require_inputs,
    scheduler_option,
    seed_option,
    user_errors,
)
from radsarc.cli._outcomes import (
    baseline_options,
    check_presets,
    echo_baselines,
    echo_result,
    report_folder_option,
    resolve_baseline,
    run_preset,
    threshold_cv_option,
    tuning_option,
)

if TYPE_CHECKING:
    import pandas as pd

_CV_WITH_VALUE = ("splits", "external")


class _CvOption(click.Option):
    """``--cv`` taking one word, or two for ``splits FILE`` and ``external COLUMN``.

    ``--cv splits=FILE`` is accepted too. The value reaches the command as
    ``"splits=FILE"``.
    """

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            option = parser._long_opt.get(name) or parser._short_opt.get(name)
            if option is None:
                continue
            previous = option.process

            def process(value, state, previous=previous):
                if (
                    value in _CV_WITH_VALUE
                    and state.rargs
                    and not state.rargs[0].startswith("-")
                ):
                    value = f"{value}={state.rargs.pop(0)}"
                previous(value, state)

            option.process = process


def _parse_cv(value: str) -> tuple[str, str | None]:
    value = value.strip()
    if "=" not in value and value.split(maxsplit=1)[0] in _CV_WITH_VALUE:
        # --cv "external centre" given as one quoted argument
        value = "=".join(value.split(maxsplit=1))
    kind, _, arg = value.partition("=")
    arg = arg.strip()
    if kind in ("nested", "repeated") and not arg:
        return kind, None
    if kind in _CV_WITH_VALUE and arg:
        return kind, arg
    raise ValueError(
        f"--cv must be 'nested', 'repeated', 'splits FILE' or 'external COLUMN'; "
        f"got {value!r}."
    )


def read_feature_table(
    path: Path,
    label: str,
    exclude: tuple[str, ...] = (),
    positive: str | None = None,
    covariates: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Read FEATURES.csv: case ids in the first column, a label column, features.

    When FEATURES.columns.yaml (written by ``radsarc extract``) is beside it,
    the manifest columns it lists (label, group, covariates) are not features,
    except the ``covariates`` asked for. Returns ``(X, y, table, dropped)`` with
    the non-numeric columns that were left out of X in ``dropped``.
    """
    import numpy as np
    import pandas as pd

    from radsarc.cli._extract import columns_sidecar, read_columns_sidecar

    roles = read_columns_sidecar(path)
    clinical = [str(c) for c in roles["clinical"]] if roles else []
    unknown = [c for c in covariates if c not in clinical]
    if unknown:
        raise ValueError(
            f"--covariate {unknown[0]!r} is not a manifest column of {path}"
            + (
                f" (its manifest columns are {clinical})"
                if roles
                else f" ({columns_sidecar(path).name}, written by radsarc extract, "
                "is not beside it; every numeric column is a feature anyway)"
            )
            + "."
        )
    if path.is_dir():
        raise IsADirectoryError(
            f"Feature table {path} is a folder; expected a CSV file written by "
            "`radsarc extract`."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Feature table {path} does not exist.")
    check_csv_table(path, what="Feature table", complete_last_row=True)
    table = pd.read_csv(path, index_col=0)
    if table.empty:
        raise ValueError(
            f"Feature table {path} has no rows; expected one row per case below the "
            f"header {[table.index.name, *table.columns][:8]}."
        )
    if table.index.has_duplicates:
        dup = table.index[table.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{path}: case ids in the first column repeat: {dup}.")
    table.index = table.index.astype(str)
    for column in (label, *exclude):
        if column not in table.columns:
            raise ValueError(
                f"{path} has no column {column!r}; columns are "
                f"{list(table.columns[:8])}{' ...' if table.shape[1] > 8 else ''}."
            )
    raw = table[label]
    if raw.isna().any():
        missing = raw.index[raw.isna()][:5].tolist()
        raise ValueError(
            f"Label column {label!r} of {path} is empty for cases {missing}"
            f"{' ...' if raw.isna().sum() > 5 else ''} ({int(raw.isna().sum())} of "
            f"{len(raw)}); expected a 0/1 outcome for every case (remove the cases "
            "without one)."
        )
    if positive is not None:
        y = (raw.astype(str) == str(positive)).astype(int)
        if y.sum() == 0:
            raise ValueError(
                f"No case has label {positive!r} in column {label!r} of {path}; "
                f"values are {sorted(map(str, raw.unique()))[:10]}."
            )
    else:
        values = set(pd.unique(raw).tolist())
        if not values <= {0, 1}:
            raise ValueError(
                f"Label column {label!r} of {path} holds "
                f"{sorted(map(str, values))[:10]}; it must be 0/1, or give "
                "--positive VALUE to name the positive class."
            )
        y = raw.astype(int)
    if y.nunique() < 2:
        raise ValueError(
            f"Label column {label!r} of {path} holds one class only: every one of "
            f"its {len(y)} cases is {'positive' if y.iloc[0] else 'negative'} "
            f"({label} = {raw.iloc[0]}); an evaluation needs cases of both "
            "classes."
        )
    not_features = {label, *exclude} | (set(clinical) - set(covariates))
    features = table.drop(columns=[c for c in table.columns if c in not_features])
    dropped = [
        c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])
    ]
    _refuse_text_in_number_columns(path, features[dropped])
    X = features.drop(columns=dropped)
    if X.shape[1] == 0:
        raise ValueError(f"{path} has no numeric feature columns besides {label!r}.")
    infinite = np.isinf(X.to_numpy(dtype=float))
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        pairs = [
            f"case {X.index[r]!r} column {X.columns[c]!r}"
            for r, c in zip(rows[:5], cols[:5], strict=True)
        ]
        raise ValueError(
            f"Feature table {path} holds {int(infinite.sum())} infinite value(s): "
            f"{'; '.join(pairs)}{' ...' if infinite.sum() > 5 else ''}. Expected "
            "finite numbers (an empty cell for a missing value)."
        )
    return X, y.rename(label), table, dropped


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
# 1,234.5 or 12,345: a thousands separator.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?$")


def _refuse_text_in_number_columns(path: Path, columns: pd.DataFrame) -> None:
    """Refuse a feature column of numbers with a few cells that are not numbers.

    Such a column would be left out of the features as "non-numeric" (the whole
    feature lost because of one cell), and numbers written with a decimal comma
    likewise. A column of text only (e.g. a diagnostics string) stays ignored.
    """
    import pandas as pd

    for column in columns.columns:
        cells = columns[column]
        text = cells[cells.notna()].astype(str).str.strip()
        text = text[text != ""]
        if text.empty:
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        comma = text.str.match(_DECIMAL_COMMA) | text.str.match(_THOUSANDS)
        if comma.any() and (comma | numbers.notna()).all():
            case = text.index[comma][0]
            raise ValueError(
                f"Feature table {path}, column {column!r}: numbers written with a "
                f"decimal comma or a thousands separator (case {case!r}: "
                f"{text[case]!r}); radsarc reads CSV files with '.' as the decimal "
                "mark, no thousands separator and ',' between columns. Save the "
                "table with plain numbers (e.g. 1234.5)."
            )
        if numbers.notna().any() and numbers.isna().any():
            bad = text.index[numbers.isna()]
            shown = "; ".join(f"case {c!r}: {text[c]!r}" for c in bad[:3])
            raise ValueError(
                f"Feature table {path}, column {column!r} holds numbers but "
                f"{len(bad)} cell(s) that are not ({shown}"
                f"{' ...' if len(bad) > 3 else ''}); expected a number, or an empty "
                "cell for a missing value. Otherwise the whole column would be "
                "left out of the features."
            )


def _read_settings_sidecar(path: Path) -> dict:
    """FEATURES.settings.yaml as written by ``radsarc extract``: its settings, and
    the engine and digest from its first (comment) line."""
    import yaml

    text = path.read_text(encoding="utf-8")
    out: dict = {"file": path.name}
    first = text.splitlines()[0] if text else ""
    found = re.match(r"# radsarc extraction settings \((.*)\); digest (\w+)", first)
    if found:
        out.update(engine=found.group(1), digest=found.group(2))
    out["settings"] = yaml.safe_load(text)
    return out


@main.command("evaluate")
@click.argument("features", type=click.Path(path_type=Path))
@click.option("--label", required=True, help="Column holding the 0/1 outcome.")
@click.option(
    "--positive",
    default=None,
    help="Label value of the positive class when the label is not 0/1.",
)
@click.option(
    "--preset",
    "presets",
    multiple=True,
    required=True,
    help="Preset to evaluate (repeat for several; see `radsarc presets`).",
)
@click.option(
    "--cv",
    cls=_CvOption,
    default="repeated",
    show_default=True,
    help="nested | repeated | splits FILE (WORC format) | external COLUMN. nested: "
    "inside every training part a stratified 3-fold grid search tunes the preset's "
    "grid; auto, which has no grid, chooses its ensemble by its own stratified "
    "5-fold cross-validation of its library instead.",
)
@click.option(
    "--test-centre",
    default=None,
    help="With --cv external: the centre held out (default: each in turn).",
)
@click.option(
    "--group",
    default=None,
    help="Column with the patient id when a patient has several lesions.",
)
@click.option(
    "--n-splits",
    default=5,
    show_default=True,
    type=click.IntRange(2),
    help="Folds of repeated/nested cross-validation.",
)
@click.option(
    "--n-repeats",
    default=None,
    type=click.IntRange(1),
    help="Repeats (default 10 for repeated, 1 for nested).",
)
@cutoff_options(
    "Cut-off rule, chosen on each training part.",
    "With --cutoff specificity: the sensitivity to keep.",
)
@click.option(
    "--covariate",
    "covariates",
    multiple=True,
    metavar="COLUMN",
    help="Use this manifest covariate (e.g. age) as a feature too (repeat for "
    "several). Without it, the manifest columns `radsarc extract` wrote beside the "
    "features (label, group, covariates) are never features.",
)
@tuning_option(
    "Tune each preset's hyper-parameter grid inside every training part "
    "(3-fold inner cross-validation; the nested scheme's inner folds), in every "
    "--cv scheme. auto has no grid: it always tunes inside its own fit (5-fold)."
)
@threshold_cv_option(
    "Folds of each training part whose predictions choose the cut-off "
    "(fewer when its smallest class has fewer cases)."
)
@baseline_options(
    "Column for the baseline model fitted on the same splits (default: the "
    "tumour volume, the shape MeshVolume, else VoxelVolume, of the first "
    "sequence and region)."
)
@click.option(
    "--clinical",
    "clinical_columns",
    default=None,
    metavar="COLUMNS",
    help="Comma-separated covariate columns (e.g. age,sex): a clinical-only "
    "model is fitted on them on the same splits; they are not radiomic features.",
)
@seed_option("Seed of the splits, inner folds and bootstrap (Python: random_state=).")
@n_jobs_option("Splits run in parallel.")
@quiet_option()
@report_folder_option("Folder for report.html and results.csv.")
@scheduler_option()
@user_errors
def evaluate_command(
    features,
    label,
    positive,
    presets,
    cv,
    test_centre,
    group,
    n_splits,
    n_repeats,
    cutoff,
    min_sensitivity,
    covariates,
    tuning,
    threshold_cv,
    baseline_column,
    no_baseline,
    clinical_columns,
    seed,
    n_jobs,
    quiet,
    out_dir,
    scheduler,
):
    """Evaluate presets on FEATURES.csv and write DIR/report.html and results.csv.

    FEATURES.csv has the case id in its first column, the label column and the
    feature columns; the table `radsarc extract` writes works as is (its
    manifest columns are not used as features, see --covariate). Every step
    that learns from data is fitted on the training part of each split only.
    """
    require_inputs(("Feature table", features))
    import numpy as np

    from radsarc._parallel import parallel_backend
    from radsarc.evaluation import (
        ExternalValidation,
        FixedSplits,
        NestedCV,
        RepeatedCV,
        evaluate,
    )
    from radsarc.report import results_table, write_report

    kind, arg = _parse_cv(cv)
    refuse_overwriting_inputs(
        {
            "--out's results.csv": out_dir / "results.csv",
            "--out's report.html": out_dir / "report.html",
        },
        {
            "the feature table": features,
            "the splits file": Path(arg) if kind == "splits" else None,
        },
    )
    exclude = tuple(c for c in (group, arg if kind == "external" else None) if c)
    X, y, table, dropped = read_feature_table(
        features, label, exclude, positive, covariates
    )
    clinical_names = [c.strip() for c in (clinical_columns or "").split(",")]
    dropped = [c for c in dropped if c not in clinical_names]
    text_covariates = [c for c in covariates if c in dropped]
    if text_covariates:
        name = text_covariates[0]
        shown = sorted(map(str, table[name].dropna().unique()))[:4]
        raise ValueError(
            f"--covariate {name!r} of {features} is not a number column (values "
            f"{shown}); a covariate used as a feature must hold numbers (encode it, "
            "e.g. 0/1). For a clinical-only model of such columns use --clinical."
        )
    if dropped:
        click.echo(
            f"Ignoring {len(dropped)} non-numeric column(s): "
            f"{', '.join(dropped[:10])}{' ...' if len(dropped) > 10 else ''}",
            err=True,
        )
    check_presets(presets)  # unknown names and non-tabular presets, before any work
    baseline = resolve_baseline(baseline_column, no_baseline)
    clinical = None
    if clinical_columns:
        names = [c.strip() for c in clinical_columns.split(",") if c.strip()]
        missing = [c for c in names if c not in table.columns]
        if missing:
            raise ValueError(
                f"--clinical {missing[0]!r} is not a column of {features}; columns "
                f"are {list(table.columns[:8])}"
                f"{' ...' if table.shape[1] > 8 else ''}."
            )
        if label in names:
            raise ValueError(f"--clinical cannot include the label column {label!r}.")
        clinical = table.loc[X.index, names]
        # Covariates are the clinical model's, not radiomic features.
        X = X.drop(columns=[c for c in names if c in X.columns])
    if baseline_column and baseline_column not in X.columns:
        if baseline_column in table.columns and baseline_column != label:
            # A size column that is not a feature (e.g. a manifest covariate).
            baseline = table.loc[X.index, baseline_column].rename(baseline_column)
    for column, option, what in (
        (group, "--group", "a patient id"),
        (arg if kind == "external" else None, "--cv external", "a centre"),
    ):
        empty = table.index[table[column].isna()] if column else []
        if len(empty):
            raise ValueError(
                f"Column {column!r} ({option}) of {features} is empty for cases "
                f"{list(empty[:5])}{' ...' if len(empty) > 5 else ''} ({len(empty)} "
                f"of {len(table)}); expected {what} for every case."
            )
    groups = table[group].to_numpy() if group else None
    check_writable_folder(out_dir, what="report")
    if kind == "repeated":
        scheme = RepeatedCV(
            n_splits=n_splits, n_repeats=n_repeats or 10, random_state=seed
        )
    elif kind == "nested":
        scheme = NestedCV(
            n_splits=n_splits, n_repeats=n_repeats or 1, random_state=seed
        )
    elif kind == "splits":
        scheme = FixedSplits.from_csv(Path(arg))
    else:
        centres = table[arg].astype(str).to_numpy()
        scheme = ExternalValidation(
            centres, test_centre=None if test_centre is None else str(test_centre)
        )
    from radsarc.cli._extract import read_columns_sidecar

    roles = read_columns_sidecar(features)
    unused = [c for c in (roles or {}).get("clinical", []) if c != label and c in table]
    unused = [c for c in unused if c not in covariates]
    # More folds than the smallest class has cases: refused before any work.
    scheme.split(X, y, groups)
    note = (
        " (auto: no grid search; its own stratified 5-fold cross-validation of its "
        "library inside)"
        if kind == "nested" and "auto" in presets
        else ""
    )
    click.echo(
        f"{len(X)} cases ({int(y.sum())} positive), {X.shape[1]} features; "
        f"{scheme.describe()['description']}{note}."
        + (
            f" Manifest columns not used as features: {', '.join(unused)}."
            if unused
            else ""
        )
    )
    results, failed = [], {}
    with parallel_backend(scheduler):
        for name in presets:
            res, message = run_preset(
                name,
                lambda name=name: evaluate(
                    name,
                    X,
                    y,
                    cv=scheme,
                    groups=groups,
                    tuning=tuning,
                    baseline=baseline,
                    clinical=clinical,
                    cutoff=cutoff,
                    min_sensitivity=min_sensitivity,
                    threshold_cv=threshold_cv,
                    random_state=seed,
                    n_jobs=n_jobs if scheduler is None else -1,
                    progress=False if quiet else None,
                ),
            )
            if res is None:
                failed[name] = message
                continue
            echo_result(res)
            results.append(res)
    if not results:
        # Nothing to report: a previous results.csv and report stay as they were.
        raise ValueError(
            f"Every preset failed ({', '.join(failed)}); nothing was written "
            f"({out_dir / 'results.csv'} and {out_dir / 'report.html'} are "
            "unchanged)."
        )
    if not np.isfinite(results[0].mean_auc):
        raise ValueError(
            "The mean AUC is undefined: every test part has one class; nothing "
            "was written."
        )
    echo_baselines(results)
    section = {features.name: results}
    failures = {features.name: failed} if failed else None
    with atomic_write(out_dir / "results.csv") as tmp:
        results_table(section, failures=failures).to_csv(tmp, index=False)
    command = "radsarc " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    # `radsarc extract` writes the settings beside the feature table.
    sidecar = features.with_name(features.name.removesuffix(".csv") + ".settings.yaml")
    extraction = _read_settings_sidecar(sidecar) if sidecar.is_file() else None
    path = write_report(
        section,
        out_dir,
        title=f"radsarc evaluate: {features.name}",
        command=command,
        extraction=extraction,
        failures=failures,
    )
    click.echo(f"Wrote {path} and {out_dir / 'results.csv'}")
