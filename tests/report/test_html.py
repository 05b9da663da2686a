"""The HTML report: embedded figures, tables, PNGs beside it, reproducibility."""

import base64
import re

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.datasets import make_classification
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import ExternalValidation, RepeatedCV, evaluate
from radsarc.report import compare_models, results_table, write_report


@pytest.fixture(scope="module")
def results():
    X, y = make_classification(
        n_samples=80, n_features=10, n_informative=3, random_state=0
    )
    X = pd.DataFrame(
        X, columns=[f"f{i}" for i in range(10)], index=[f"c{i}" for i in range(80)]
    )
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("select", SelectKBest(k=3)),
            ("classifier", LogisticRegression()),
        ]
    )
    cv = RepeatedCV(n_splits=4, n_repeats=1)
    a = evaluate(pipe, X, y, cv=cv, name="k3")
    b = evaluate(pipe.set_params(select__k=1), X, y, cv=cv, name="k1")
    ext = evaluate(
        pipe,
        X,
        y,
        cv=ExternalValidation(np.repeat(["A", "B"], 40), "B"),
        n_bootstraps=50,
        name="external",
    )
    return a, b, ext


def test_report_is_self_contained_with_pngs(results, tmp_path):
    import matplotlib.pyplot as plt

    a, b, ext = results
    path = write_report(
        {"Synthetic": [a, b], "External": [ext]},
        tmp_path,
        reference={"Synthetic": {"auc": 0.83, "source": "Paper X"}},
        command="radsarc evaluate x.csv",
    )
    text = path.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 10  # 5 figures x 2 sections
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    for kind in ("auc", "roc", "calibration", "decision"):
        assert (tmp_path / f"synthetic_{kind}.png").is_file()
    assert "<table>" in text
    assert "Nadeau-Bengio" in text
    assert "bootstrap" in text
    assert "0.830" in text  # the published reference in the comparison table
    assert a.data["sha256"] in text
    assert "radsarc evaluate x.csv" in text
    assert "Cut-off rule: Youden" in text
    assert 'src="http' not in text  # nothing fetched from outside
    assert plt.get_fignums() == []  # no pyplot state leaked


def test_results_table_and_comparison(results):
    a, b, _ = results
    table = results_table({"Synthetic": [a, b]}, {"Synthetic": {"auc": 0.83}})
    assert len(table) == 2 * 9
    auc = table[(table.metric == "auc") & (table.model == "k3")].iloc[0]
    assert auc["mean"] == pytest.approx(a.mean_auc)
    assert auc["published"] == 0.83
    assert np.isnan(table[table.metric == "sensitivity"]["published"]).all()
    cmp = compare_models([a, b])
    assert len(cmp) == 1
    assert cmp.iloc[0]["test"].startswith("corrected resampled t-test")
    assert compare_models([a]) is None


def test_bad_results_argument(tmp_path):
    with pytest.raises(TypeError, match="results must be an EvaluationResult"):
        write_report(42, tmp_path)
    with pytest.raises(TypeError, match="Section 'x' must hold one or more"):
        write_report({"x": []}, tmp_path)


def test_extraction_and_preprocessing_settings_are_recorded(results, tmp_path):
    from radsarc.features import ExtractionSettings

    a, _, _ = results
    settings = ExtractionSettings.from_dict(
        {
            "setting": {"binWidth": 0.1},
            "preprocessing": {
                "normalize": {"method": "zscore", "region": "roi"},
                "ring": {"thickness_mm": 7.5},
            },
        }
    )
    text = write_report(a, tmp_path, extraction=settings.to_full_dict()).read_text(
        encoding="utf-8"
    )
    assert "Feature extraction and MRI preprocessing settings" in text
    assert "&quot;thickness_mm&quot;: 7.5" in text
    assert "&quot;method&quot;: &quot;zscore&quot;" in text
    plain = write_report(a, tmp_path / "plain").read_text(encoding="utf-8")
    assert "MRI preprocessing settings" not in plain
