"""``radsarc presets`` lists the registry and shows one preset in full."""

from __future__ import annotations

import dataclasses

from click.testing import CliRunner

from radsarc.cli import main
from radsarc.model import _presets
from radsarc.presets import get_preset, list_presets


def _run(*args):
    return CliRunner().invoke(main, ["presets", *args])


def test_lists_every_preset_with_input_study_and_metrics():
    result = _run()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "input", "study", "reported", "metrics"]
    rows = {line.split()[0]: line for line in lines[1:] if line and line[0] != " "}
    names = list_presets()
    assert [n for n in rows if n in names] == names
    gitto = rows["gitto2023"].split()
    assert gitto[:2] == ["gitto2023", "features"]
    assert "Gitto S et al., Radiol Med 2023" in rows["gitto2023"]
    assert rows["gitto2023"].endswith("auc 0.74, sensitivity 0.92, specificity 0.33")
    assert rows["vallieres2015"].endswith("none reported")
    assert rows["blackledge2019"].split()[1] == "voxels"
    assert f"{len(names)} preset(s)." in result.output


def test_lists_whatever_the_registry_holds(monkeypatch):
    extra = dataclasses.replace(
        get_preset("xu2020"), name="zz2099", citation="", title="A later preset"
    )
    monkeypatch.setitem(_presets._PRESETS, "zz2099", extra)
    result = _run()
    assert result.exit_code == 0, result.output
    row = next(r for r in result.output.splitlines() if r.startswith("zz2099"))
    assert row.split()[1] == "features"
    assert "A later preset" in row


def test_input_filter():
    result = _run("--input", "voxels")
    assert result.exit_code == 0, result.output
    assert "blackledge2019" in result.output
    assert "gitto2023" not in result.output


def test_shows_steps_grid_and_departures():
    result = _run("liang2022")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    preset = get_preset("liang2022")
    assert result.output.startswith(f"liang2022: {preset.title}")
    steps = [name for name, _ in preset.make().steps]
    assert steps == [
        "imputer", "variance", "scaler", "mrmr", "lasso", "sampler", "classifier"
    ]  # fmt: skip
    positions = [out.index(f" {name} ") for name in steps]
    assert positions == sorted(positions)
    assert "MRMRSelector(n_features_to_select=20)" in out
    assert "SMOTE(k_neighbors=3, random_state=0)" in out
    assert "lasso__C: [0.1, 0.5]" in out
    assert "classifier__estimator__C: [1.0, 10.0]" in out
    for item in preset.departures:
        assert " ".join(item.split()) in out
    assert "doi:10.3389/fonc.2022.897676" in out
    assert "reported metrics: auc 0.799" in out
    # The review's figures are the deep learning radiomics nomogram's.
    assert "review Table 1: DLRN based on ResNet 34" in " ".join(out.split())
    assert "auc 0.833, sensitivity 0.474" in " ".join(out.split())


def test_unknown_name_suggests_the_closest():
    result = _run("peeken2091")
    assert result.exit_code == 2
    assert "Unknown preset 'peeken2091'" in result.output
    assert "Did you mean 'peeken20" in result.output


def test_study_is_first_author_journal_and_year():
    from radsarc.cli._presets import study

    paper = get_preset("xu2020")
    assert study(paper) == "Xu W et al., AJR Am J Roentgenol 2020"
    book = dataclasses.replace(
        paper,
        citation="Doe J, Roe R. A rather long title of a method paper. Proc. X, 2004.",
    )
    assert study(book) == "Doe J et al. 2004"
    bare = dataclasses.replace(paper, citation="", title="Some title")
    assert study(bare) == "Some title"
