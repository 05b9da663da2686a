"""``radsarc synthetic``: write the synthetic sarcoma cohort."""

from __future__ import annotations

from pathlib import Path

import click

from radsarc.cli._main import main, seed_option, user_errors


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--n-cases", type=click.IntRange(2), default=20, show_default=True)
@seed_option("Random seed (Python: random_state=).")
@click.option(
    "--effect-size",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Strength of the high-grade signature in [0, 1]; 0: null cohort.",
)
@click.option(
    "--positive-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.4,
    show_default=True,
    help="Fraction of high-grade (label 1) cases.",
)
@user_errors
def synthetic(out_dir, n_cases, seed, effect_size, positive_fraction):
    """Write a synthetic two-sequence (T1, T2FS) sarcoma MRI cohort to OUT_DIR.

    See docs/synthetic.md for the high-grade signature it carries.
    """
    if out_dir.is_dir() and any(out_dir.iterdir()):
        held = sorted(p.name for p in out_dir.iterdir())
        raise FileExistsError(
            f"Folder {out_dir} is not empty (it holds {held[:4]}"
            f"{' ...' if len(held) > 4 else ''}); writing a synthetic cohort there "
            "would replace its manifest.csv and case folders. Choose a new or empty "
            "folder."
        )
    from radsarc.datasets import make_synthetic_cohort

    cohort = make_synthetic_cohort(
        n_cases,
        out_dir,
        random_state=seed,
        effect_size=effect_size,
        positive_fraction=positive_fraction,
    )
    n_pos = int((cohort.labels == 1).sum())
    click.echo(
        f"wrote {len(cohort)} cases ({n_pos} high grade) and {out_dir / 'manifest.csv'}"
    )
