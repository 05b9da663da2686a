"""``radsarc fetch``: download public sarcoma data sets into the radsarc cache."""

from __future__ import annotations

from pathlib import Path

import click

from radsarc.cli._main import main, user_errors

_DATA_HOME = click.option(
    "--data-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache folder (default: $RADSARC_DATA or ~/radsarc_data).",
)
_WORC_NAME = click.argument("name", type=click.Choice(["Lipo", "Desmoid"]))


@main.group("fetch")
def fetch_group() -> None:
    """Download a public sarcoma data set (resumable, verified, cached)."""


@fetch_group.command("worc-table")
@_WORC_NAME
@_DATA_HOME
@click.option("--base-url", default=None, help="radMLBench base address.")
@user_errors
def worc_table_command(name, data_home, base_url):
    """The WORC radiomics table NAME from radMLBench (checksum-verified)."""
    from radsarc.datasets import fetch_worc_table, get_data_home

    X, y = fetch_worc_table(name, data_home, base_url=base_url, progress=True)
    path = get_data_home(data_home) / "worc" / "tables" / f"WORC-{name}.csv.gz"
    click.echo(f"WORC-{name}: {X.shape[0]} patients x {X.shape[1]} features -> {path}")


@fetch_group.command("worc-images")
@_WORC_NAME
@_DATA_HOME
@click.option(
    "--xnat-url",
    default=None,
    help="XNAT host of the WORC database (default: $RADSARC_WORC_XNAT_URL, "
    "else the known hosts in turn).",
)
@click.option(
    "--n-subjects", type=click.IntRange(1), default=None, help="Only the first N."
)
@user_errors
def worc_images_command(name, data_home, xnat_url, n_subjects):
    """The MRI scans and segmentations of WORC data set NAME, as a cohort."""
    from radsarc.datasets import fetch_worc_images

    cohort = fetch_worc_images(
        name, data_home, xnat_url=xnat_url, n_subjects=n_subjects, progress=True
    )
    click.echo(f"WORC-{name}: {len(cohort)} cases; manifest {cohort.source}")


@fetch_group.command("tcia-sts")
@_DATA_HOME
@click.option(
    "--modalities",
    default="MR",
    show_default=True,
    help="Comma-separated among MR, PT, CT.",
)
@click.option("--roi", default="GTV_Mass", show_default=True, help="Contour to use.")
@click.option(
    "--target",
    default="lung_metastasis",
    show_default=True,
    help="Clinical column that becomes the label.",
)
@click.option(
    "--n-patients", type=click.IntRange(1), default=None, help="Only the first N."
)
@click.option("--nbia-url", default=None, help="NBIA REST API base address.")
@click.option("--clinical-url", default=None, help="Clinical spreadsheet address.")
@user_errors
def tcia_sts_command(
    data_home, modalities, roi, target, n_patients, nbia_url, clinical_url
):
    """TCIA's Soft-tissue-Sarcoma collection: NIfTI images, masks and labels."""
    from radsarc.datasets import fetch_tcia_sts

    cohort = fetch_tcia_sts(
        data_home,
        modalities=tuple(m.strip() for m in modalities.split(",") if m.strip()),
        roi=roi,
        target=target,
        n_patients=n_patients,
        nbia_url=nbia_url,
        clinical_url=clinical_url,
        progress=True,
    )
    click.echo(
        f"TCIA STS: {len(cohort)} patients, sequences {list(cohort.sequences)}; "
        f"manifest {cohort.source}"
    )
