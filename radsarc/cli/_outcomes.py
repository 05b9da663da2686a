"""What ``evaluate`` and ``benchmark`` share: their common options, preset checks,
failed presets, and the printed verdicts against the baselines."""

from __future__ import annotations

import logging
from pathlib import Path

import click

logger = logging.getLogger(__name__)


def report_folder_option(help: str):  # noqa: A002 - click's word
    """``--out DIR`` (required): the folder for report.html and results.csv."""
    return click.option(
        "--out",
        "out_dir",
        required=True,
        type=click.Path(path_type=Path),
        help=help,
    )


def tuning_option(help: str):  # noqa: A002 - click's word
    """``--tuning/--no-tuning`` (default on): tune each preset's grid."""
    return click.option(
        "--tuning/--no-tuning", default=True, show_default=True, help=help
    )


def threshold_cv_option(help: str):  # noqa: A002 - click's word
    """``--threshold-cv N`` (default 3): folds whose predictions choose the cut-off."""
    return click.option(
        "--threshold-cv",
        default=3,
        show_default=True,
        type=click.IntRange(2),
        help=help,
    )


def baseline_options(help: str):  # noqa: A002 - click's word
    """``--baseline COLUMN`` (``help`` is its help) and ``--no-baseline``; see
    :func:`resolve_baseline`."""
    baseline = click.option(
        "--baseline",
        "baseline_column",
        default=None,
        metavar="COLUMN",
        help=help,
    )
    no_baseline = click.option(
        "--no-baseline",
        is_flag=True,
        default=False,
        help="Do not fit the tumour-volume baseline.",
    )
    return lambda func: baseline(no_baseline(func))


def resolve_baseline(baseline_column: str | None, no_baseline: bool):
    """``evaluate(baseline=)`` from ``--baseline``/``--no-baseline``: False, the
    column, or True (the tumour volume); both given is refused."""
    if baseline_column and no_baseline:
        raise ValueError("Give --baseline COLUMN or --no-baseline, not both.")
    return False if no_baseline else (baseline_column or True)


def check_presets(names) -> None:
    """Refuse, before any work, unknown presets and presets that do not take a
    case-level feature table (delta and voxel presets)."""
    from radsarc.presets import get_preset, list_presets

    for name in names:
        preset = get_preset(name)  # unknown names: the closest known one
        if preset.input != "features":
            raise ValueError(
                f"Preset {name!r} takes {preset.input} input (Preset.input="
                f"{preset.input!r}), not a case-level feature table; presets for "
                f"a feature table: {', '.join(list_presets('features'))}."
            )


def run_preset(name: str, run):
    """``run()`` (one preset's evaluation), or its failure message.

    A preset that fails (too few cases for its selector, a singular fit, ...)
    becomes a "failed" row with its message; the other presets go on.
    """
    import numpy as np

    try:
        return run(), None
    except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        logger.warning("Preset %s failed: %s", name, message)
        click.echo(f"{name}: FAILED - {message}", err=True)
        return None, message


def echo_result(res, indent: str = "") -> None:
    """Mean AUC with its CI, then the verdict against each baseline."""
    s = res.summary.loc["auc"]
    ci = (
        f"95% CI {s['ci_low']:.3f} to {s['ci_high']:.3f}, {s['ci_method']}"
        if s["n_splits"] > 0 and s["ci_low"] == s["ci_low"]
        else "no CI"
    )
    click.echo(f"{indent}{res.name}: mean AUC {s['mean']:.3f} ({ci})")
    for _, row in res.comparisons.iterrows():
        click.echo(f"{indent}  {row['sentence']}")


def echo_baselines(results, indent: str = "") -> None:
    """The baselines' own AUC (once per data set), or why there is none."""
    from radsarc.report._tables import section_baselines

    baselines = section_baselines(results)
    for b in baselines:
        s = b.summary.loc["auc"]
        what = b.settings.get("baseline_column") or ", ".join(
            b.settings.get("covariates") or []
        )
        click.echo(
            f"{indent}baseline {b.name} ({what}): mean AUC {s['mean']:.3f} "
            f"(95% CI {s['ci_low']:.3f} to {s['ci_high']:.3f})"
        )
    note = results[0].settings.get("baseline", "no baseline") if results else None
    if results and (not baselines or "failed" in str(note)):
        click.echo(f"{indent}{note}")
