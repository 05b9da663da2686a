"""``radsarc presets``: list the presets, or show one in full."""

from __future__ import annotations

import re
import shutil
import textwrap

import click

from radsarc.cli._main import main, user_errors

_INPUTS = ("features", "delta", "voxels")


def study(preset) -> str:
    """``"Gitto S et al., Radiol Med 2023"`` from a preset's citation, else its
    title."""
    citation = preset.citation or ""
    authors, _, rest = citation.partition(". ")
    year = re.search(r"\b(19|20)\d\d\b", rest)
    if not authors or not year:
        return preset.title or preset.name
    first = authors.split(",")[0].strip()
    more = " et al." if "," in authors else ""
    journal = rest.split(".")[0].strip()
    if len(journal) > 30:  # a title rather than a journal: leave it out
        return f"{first}{more} {year.group(0)}"
    return f"{first}{more}, {journal} {year.group(0)}"


def _metrics(metrics: dict) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in metrics.items()) or "none reported"


def _list(input_kind: str | None) -> None:
    from radsarc.presets import get_preset, list_presets

    names = list_presets(input_kind)
    rows = [("name", "input", "study", "reported metrics")]
    for name in names:
        p = get_preset(name)
        rows.append((name, p.input, study(p), _metrics(p.reported_metrics)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )
    click.echo(
        f"\n{len(names)} preset(s). `radsarc presets NAME` shows one: its steps, "
        "grid and departures from the paper."
    )


def _show(name: str) -> None:
    from radsarc.presets import get_preset

    p = get_preset(name)  # unknown name: ValueError with "Did you mean"
    width = min(shutil.get_terminal_size((100, 20)).columns, 100)

    def para(text: str, indent: str = "  ", first: str | None = None) -> None:
        click.echo(
            textwrap.fill(
                text,
                width=width,
                initial_indent=indent if first is None else first,
                subsequent_indent=indent if first is None else " " * len(first),
            )
        )

    click.echo(f"{p.name}: {p.title}")
    for label, value in (
        ("study", f"{p.citation} doi:{p.doi}" if p.doi else p.citation),
        ("input", p.input),
        ("task", p.task),
        ("cohort", p.cohort),
        ("sequences", ", ".join(p.sequences)),
        ("reported metrics", _metrics(p.reported_metrics)),
        ("source", p.reported_source),
        (
            "review Table 1",
            f"{p.review_model}: {_metrics(p.review_metrics)}"
            if p.review_metrics
            else "not listed",
        ),
    ):
        para(value or "-", first=f"  {label}: ")
    pipeline = p.make()
    click.echo("  steps:")
    step_width = max(len(n) for n, _ in pipeline.steps)
    for step_name, step in pipeline.steps:
        text = " ".join(repr(step).split())
        para(text, first=f"    {step_name.ljust(step_width)}  ")
    click.echo("  grid (tuned inside each training part):")
    if p.param_grid:
        for key, values in p.param_grid.items():
            click.echo(f"    {key}: {values}")
    else:
        click.echo("    none")
    click.echo("  departures from the paper:")
    for item in p.departures or ("none listed",):
        para(item, indent="      ", first="    - ")
    click.echo(f"  Python: radsarc.presets.make_preset({p.name!r})")


@main.command("presets")
@click.argument("name", required=False)
@click.option(
    "--input",
    "input_kind",
    type=click.Choice(_INPUTS),
    default=None,
    help="List only the presets whose rows are of this kind.",
)
@user_errors
def presets_command(name, input_kind):
    """List every preset (name, input kind, study, reported metrics), or show NAME.

    With NAME: its study, task and cohort, the pipeline's steps, the grid tuned
    inside each training part, and where radsarc departs from the paper.
    """
    if name is None:
        _list(input_kind)
    else:
        _show(name)
