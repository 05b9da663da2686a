"""From a manifest with labels to a report: ``radsarc extract`` then ``evaluate``."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from radsarc.cli import main

PARAMS = {
    "featureClass": {"firstorder": None, "shape": None},
    "setting": {"binWidth": 25},
}


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """``radsarc synthetic`` (20 small cases) and ``radsarc extract``, as a user runs
    them. Returns ``(features_csv, manifest_table)``."""
    from radsarc.datasets import make_synthetic_cohort

    root = tmp_path_factory.mktemp("roundtrip")
    cohort = make_synthetic_cohort(
        20, root / "cohort", random_state=1, shape=(8, 40, 40)
    )
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    out = root / "out" / "features.csv"
    result = _run("extract", cohort.source, "--params", params, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert "columns label, group, age, sex from the manifest" in result.output
    return out, pd.read_csv(cohort.source, index_col="case_id")


def test_extract_writes_case_id_label_group_covariates_then_features(extracted):
    out, manifest = extracted
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == ["case_id", "label", "group", "age", "sex"]
    assert table.columns[5].startswith("T1_original_")
    table = table.set_index("case_id")
    for column in ("label", "group", "age", "sex"):
        assert table[column].tolist() == manifest.loc[table.index, column].tolist()
    roles = yaml.safe_load(out.with_name("features.columns.yaml").read_text())
    assert roles == {
        "case_id": "case_id",
        "clinical": ["label", "group", "age", "sex"],
        "n_features": table.shape[1] - 4,
    }


def test_extract_output_goes_to_evaluate_as_is(extracted, tmp_path):
    out, _ = extracted
    n_features = pd.read_csv(out, index_col=0).shape[1] - 4
    report = tmp_path / "report"
    result = _run(
        "evaluate", out, "--label", "label", "--preset", "peeken2019",
        "--n-splits", 3, "--n-repeats", 1, "--out", report,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # group (a centre), age and sex are not features; no column is dropped
    # silently as "non-numeric" either.
    assert f"20 cases (8 positive), {n_features} features" in result.output
    assert "not used as features: group, age, sex" in result.output
    assert "non-numeric" not in result.output
    auc = float(re.search(r"mean AUC (\d\.\d+)", result.output).group(1))
    assert 0.0 <= auc <= 1.0
    # The extraction settings reach the report's reproducibility record.
    first = out.with_name("features.settings.yaml").read_text().splitlines()[0]
    digest = first.split("digest ")[1]
    assert len(digest) == 64
    html = (report / "report.html").read_text(encoding="utf-8")
    assert digest in html
    assert "&quot;binWidth&quot;: 25" in html


def test_a_covariate_becomes_a_feature_only_when_asked(extracted, tmp_path):
    out, _ = extracted
    n_features = pd.read_csv(out, index_col=0).shape[1] - 4
    result = _run(
        "evaluate", out, "--label", "label", "--preset", "peeken2019",
        "--covariate", "age", "--n-splits", 3, "--n-repeats", 1, "--out", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{n_features + 1} features" in result.output
    result = _run(
        "evaluate", out, "--label", "label", "--preset", "peeken2019",
        "--covariate", "weight", "--out", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--covariate 'weight' is not a manifest column" in result.output
    assert "['label', 'group', 'age', 'sex']" in result.output


def test_python_result_to_frame_has_the_documented_order(small_cohort):
    from radsarc.features import extract_features

    result = extract_features(small_cohort, PARAMS, return_result=True)
    table = result.to_frame()
    assert table.index.name == "case_id"
    clinical = list(small_cohort.clinical().columns)
    assert list(table.columns[: len(clinical)]) == clinical
    pd.testing.assert_frame_equal(table[result.features.columns], result.features)
    assert table["label"].tolist() == small_cohort.labels.tolist()
    # The plain DataFrame API gives the features only (X for a pipeline).
    features = extract_features(small_cohort, PARAMS)
    assert list(features.columns) == list(result.features.columns)
