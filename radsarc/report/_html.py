"""The self-contained HTML report (figures embedded as base64, PNGs beside it)."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from radsarc._files import atomic_write
from radsarc.evaluation import METRICS, EvaluationResult, calibration, environment
from radsarc.report._figures import (
    auc_distribution_figure,
    baseline_figure,
    calibration_figure,
    decision_curve_figure,
    figure_png,
    roc_figure,
)
from radsarc.report._tables import compare_models, preset_info, section_baselines

__all__ = ["write_report"]

logger = logging.getLogger(__name__)

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #bbb;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:.9em}.fig{display:inline-block;margin:.4em;vertical-align:top}
img{max-width:520px;border:1px solid #ddd}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
details{margin:.5em 0}
"""

_LABELS = {
    "auc": "AUC",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
    "brier": "Brier score",
}


def _e(value) -> str:
    return html.escape(str(value))


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | np.floating):
        return "-" if np.isnan(value) else f"{value:.{digits}f}"
    return _e(value)


def _table(frame: pd.DataFrame, index: bool = False) -> str:
    head = ([frame.index.name or ""] if index else []) + list(frame.columns)
    out = ["<table><tr>", *[f"<th>{_e(h)}</th>" for h in head], "</tr>"]
    for idx, row in frame.iterrows():
        cells = ([idx] if index else []) + list(row)
        out.append("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "section"


def _figure_html(fig, path: Path, caption: str) -> str:
    png = figure_png(fig)
    with atomic_write(path) as tmp:
        tmp.write_bytes(png)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<div class="fig"><img alt="{_e(caption)}" src="data:image/png;base64,'
        f'{data}"><div class="note">{_e(caption)} ({_e(path.name)})</div></div>'
    )


def _ci(row) -> str:
    if np.isnan(row["ci_low"]):
        return "-"
    return f"{row['ci_low']:.3f} to {row['ci_high']:.3f}"


def _metrics_html(result: EvaluationResult) -> str:
    rows = []
    for m in METRICS:
        if m not in result.summary.index:
            continue
        r = result.summary.loc[m]
        rows.append(
            {
                "metric": _LABELS[m],
                "mean": r["mean"],
                "SD over splits": r["std"],
                "95% CI": _ci(r),
                "CI method": r["ci_method"],
                "pooled": r["pooled"],
                "splits": int(r["n_splits"]),
            }
        )
    return _table(pd.DataFrame(rows))


def _cutoff_html(result: EvaluationResult) -> str:
    s = result.settings
    if s["cutoff"] is None:
        return "<p>No cut-off: only cut-off-free metrics (AUC, Brier) are reported.</p>"
    thr = result.split_metrics["threshold"]
    rule = {
        "youden": "Youden's J (maximal sensitivity + specificity - 1)",
        "specificity": "highest specificity with sensitivity >= "
        f"{s['min_sensitivity']}",
    }.get(s["cutoff"], f"fixed at {s['cutoff']}")
    return (
        f"<p>Cut-off rule: {_e(rule)}, chosen on {_e(s['cutoff_data'])}. "
        f"Cut-off over splits: mean {thr.mean():.3f}, median {thr.median():.3f}, "
        f"range {thr.min():.3f} to {thr.max():.3f}. A case is called positive "
        "when its score is at or above the cut-off.</p>"
    )


def _inner_folds_html(result: EvaluationResult) -> str:
    """Inner folds and SMOTE neighbours, when a small training part shrank them."""
    sm = result.split_metrics
    parts = []
    for column, what in (
        ("tuning_folds", "tuning folds"),
        ("cutoff_folds", "cut-off folds"),
        ("smote_k_neighbors", "SMOTE k_neighbors"),
    ):
        if column in sm.columns and sm[column].notna().any():
            values = sm[column].dropna().astype(int)
            low, high = int(values.min()), int(values.max())
            parts.append(f"{what} {low}" if low == high else f"{what} {low}-{high}")
    if not parts:
        return ""
    return (
        "<p class='note'>Per split (fewer when a training part's smallest class "
        f"has fewer cases): {_e(', '.join(parts))}.</p>"
    )


def _calibration_text(result: EvaluationResult) -> str:
    p = result.predictions
    s = p["y_score"].to_numpy()
    if not np.all((s >= 0) & (s <= 1)):
        return "<p>Scores are not probabilities: no calibration.</p>"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cal = calibration(p["y_true"], s)
    return (
        f"<p>Calibration of the pooled test predictions: slope {cal.slope:.2f} "
        f"(ideal 1), intercept {cal.intercept:.2f} (ideal 0).</p>"
    )


def _preset_html(result: EvaluationResult) -> str:
    preset = preset_info(result.preset)
    if preset is None:
        return ""

    def figures(metrics) -> str:
        return (
            ", ".join(f"{_LABELS.get(k, k)} {v:.3g}" for k, v in metrics.items())
            or "none"
        )

    deps = "".join(f"<li>{_e(d)}</li>" for d in preset.departures)
    review = (
        f" The review's Table 1 lists {_e(preset.review_model)}: "
        f"{_e(figures(preset.review_metrics))}."
        if preset.review_metrics
        else ""
    )
    return (
        f"<p><b>{_e(preset.title)}</b>. {_e(preset.citation)} "
        f"(doi:{_e(preset.doi)}). Task in the paper: {_e(preset.task)}; cohort: "
        f"{_e(preset.cohort)}. Reported on the paper's own cohort: "
        f"{_e(figures(preset.reported_metrics))} (source: "
        f"{_e(preset.reported_source or 'not stated')}).{review}</p>"
        + (f"<p>Departures from the paper:</p><ul>{deps}</ul>" if deps else "")
    )


def _selection_html(result: EvaluationResult, top: int = 15) -> str:
    parts = []
    if result.selection_frequency is not None:
        freq = result.selection_frequency.head(top).rename("fraction of splits")
        parts.append(
            f"<p>Features most often selected ({len(result.selection_frequency)}"
            f" selected at least once; top {min(top, len(freq))}):</p>"
            + _table(freq.to_frame(), index=True)
        )
    if result.permutation_importance is not None:
        imp = result.permutation_importance.head(top)
        parts.append(
            "<p>Permutation importance (mean drop in test AUC):</p>"
            + _table(imp, index=True)
        )
    if not parts:
        return "<p>The pipeline has no feature-selection step.</p>"
    return "".join(parts)


def _ensemble_html(result: EvaluationResult) -> str:
    """The members of an ensemble (auto) and their weights, overall and per split."""
    per_split = result.split_metrics["ensemble"]
    fitted = per_split.dropna()
    if fitted.empty:
        return ""
    weights = pd.DataFrame(list(fitted), index=fitted.index).fillna(0.0)
    overall = pd.DataFrame(
        {
            "mean weight": weights.mean(),
            "splits as member": [
                f"{int(n)} of {len(fitted)}" for n in (weights > 0).sum()
            ],
        }
    ).sort_values("mean weight", ascending=False, kind="mergesort")
    rows = pd.DataFrame(
        {
            "test AUC": result.split_metrics.loc[fitted.index, "auc"],
            "members (weight)": [
                ", ".join(f"{m} {w:.2f}" for m, w in members.items())
                for members in fitted
            ],
        },
        index=fitted.index,
    )
    return (
        "<h4>Ensemble members</h4>"
        f"<p>Candidates chosen inside the training part of each of the "
        f"{len(fitted)} splits, with their mean weight over the splits (0 where "
        "not chosen) and the number of splits in which they were members:</p>"
        + _table(overall, index=True)
        + "<details><summary>Members and weights per split</summary>"
        + _table(rows, index=True)
        + "</details>"
    )


def _comparison_html(results, reference: Mapping | None) -> str:
    ref = reference or {}
    rows = []
    for r in results:
        auc = r.summary.loc["auc"]
        preset = preset_info(r.preset)
        row = {
            "model": r.name,
            "mean AUC": auc["mean"],
            "95% CI": _ci(auc),
        }
        if "auc" in ref:
            row["published AUC (same splits)"] = ref["auc"]
            row["difference"] = auc["mean"] - ref["auc"]
        if "sensitivity" in r.summary.index:
            row["sensitivity"] = r.summary.loc["sensitivity", "mean"]
            row["specificity"] = r.summary.loc["specificity", "mean"]
        row["paper's AUC (own cohort)"] = (
            preset.reported_metrics.get("auc", np.nan) if preset is not None else np.nan
        )
        rows.append(row)
    out = _table(pd.DataFrame(rows))
    if "auc" in ref:
        out += (
            f"<p class='note'>Published reference: {_e(ref.get('source', ''))}. "
            "It was obtained on the same patients and, when the WORC splits are "
            "used, the same splits. A paper's own AUC was measured on a different "
            "cohort and task and is shown for orientation only.</p>"
        )
    cmp = compare_models(results)
    if cmp is not None and len(cmp):
        out += (
            "<p>AUC of each model against the best one (paired by split):</p>"
            + _table(cmp)
        )
    return out


def _baselines_html(results, failures: Mapping[str, str] | None = None) -> str:
    """The verdicts against the baselines, and the failed models."""
    parts = []
    baselines = section_baselines(results)
    if baselines:
        rows, sentences = [], []
        for b in baselines:
            auc = b.summary.loc["auc"]
            column = b.settings.get("baseline_column") or ", ".join(
                b.settings.get("covariates") or []
            )
            rows.append(
                {
                    "baseline": b.name,
                    "input": column,
                    "mean AUC": auc["mean"],
                    "95% CI": _ci(auc),
                }
            )
        for r in results:
            for _, c in r.comparisons.iterrows():
                sentences.append(f"<li><b>{_e(c['sentence'])}</b></li>")
        parts.append(
            "<p>Baselines fitted and scored on the very same splits (logistic "
            "regression on the log tumour volume; on the clinical covariates "
            "alone, when given):</p>"
            + _table(pd.DataFrame(rows))
            + f"<ul>{''.join(sentences)}</ul>"
            + "<p class='note'>\u0394AUC is the model's AUC minus the baseline's, "
            "paired by split, with a 95% CI (Nadeau-Bengio corrected resampled t "
            "over the splits; DeLong on the pooled test predictions for a single "
            "test set). 'beats': the whole interval is above 0. 'does not beat': "
            "the interval contains 0, so the data do not show that the radiomics "
            "model adds anything over the baseline. 'is worse than': the whole "
            "interval is below 0.</p>"
        )
    else:
        note = results[0].settings.get("baseline") if results else None
        parts.append(f"<p>No baseline model: {_e(note or 'turned off')}.</p>")
    if failures:
        items = "".join(
            f"<li><b>{_e(k)}</b> failed: {_e(v)}</li>" for k, v in failures.items()
        )
        parts.append(f"<p>Models that failed (no results):</p><ul>{items}</ul>")
    return "".join(parts)


def _section_html(
    name: str,
    results,
    reference,
    out_dir: Path,
    prefix: str,
    failures: Mapping[str, str] | None = None,
) -> str:
    if not results:
        return f"<h2>{_e(name)}</h2>" + _baselines_html([], failures)
    first = results[0]
    d = first.data
    parts = [
        f"<h2>{_e(name)}</h2>",
        f"<p>{d['n_cases']} cases ({d['n_positive']} positive, "
        f"{d['n_cases'] - d['n_positive']} negative), {d['n_features']} features. "
        f"Validation: {_e(first.scheme['description'])}; mean "
        f"{first.n_train:.0f} training and {first.n_test:.0f} test cases per "
        "split.</p>",
        "<h3>Summary</h3>",
        _comparison_html(results, reference),
        "<h3>Against the baselines</h3>",
        _baselines_html(results, failures),
    ]
    ref_lines = {}
    if reference and "auc" in reference:
        ref_lines["published"] = float(reference["auc"])
    figs = [
        (
            auc_distribution_figure(results, ref_lines, title=f"{name}: AUC per split"),
            "auc",
            "Test AUC of every split",
        ),
        (
            baseline_figure(results, title=f"{name}: models and baselines"),
            "baselines",
            "Mean test AUC of models and baselines, and each model's AUC "
            "difference to the tumour-volume baseline (95% CI)",
        ),
        (
            roc_figure(results, title=f"{name}: ROC"),
            "roc",
            "Mean test ROC with 95% pointwise band",
        ),
        (
            calibration_figure(results, title=f"{name}: calibration"),
            "calibration",
            "Reliability of the pooled test predictions",
        ),
        (
            decision_curve_figure(results, title=f"{name}: decision curve"),
            "decision",
            "Net benefit of the pooled test predictions",
        ),
    ]
    parts.append("<h3>Figures</h3>")
    for fig, kind, caption in figs:
        parts.append(_figure_html(fig, out_dir / f"{prefix}{kind}.png", caption))
    for r in results:
        parts += [
            f"<h3>{_e(name)}: {_e(r.name)}</h3>",
            _preset_html(r),
            _metrics_html(r),
            _cutoff_html(r),
            _inner_folds_html(r),
            _calibration_text(r),
            "<details><summary>Selected features</summary>",
            _selection_html(r),
            "</details>",
        ]
        if "ensemble" in r.split_metrics.columns:
            parts.append(_ensemble_html(r))
        if "best_params" in r.split_metrics.columns:
            counts = (
                r.split_metrics["best_params"]
                .map(lambda p: json.dumps(p, sort_keys=True, default=str))
                .value_counts()
            )
            parts.append(
                "<details><summary>Tuned hyper-parameters</summary>"
                + _table(counts.rename("splits").to_frame(), index=True)
                + "</details>"
            )
    return "".join(parts)


def _reproducibility_html(sections, command: str | None, extraction=None) -> str:
    env = environment()
    rows = []
    for name, results in sections.items():
        for r in results:
            rows.append(
                {
                    "data set": name,
                    "model": r.name,
                    "data SHA-256": r.data["sha256"],
                    "scheme": r.scheme["description"],
                    "seed": r.settings["random_state"],
                }
            )
    first = next((r for items in sections.values() for r in items), None)
    head = (
        "<h2>Reproducibility record</h2>"
        + (f"<p>Command:</p><pre>{_e(command)}</pre>" if command else "")
        + "<p>Software versions at report time:</p>"
        + _table(pd.DataFrame(env.items(), columns=["package", "version"]))
    )
    if first is None:
        return head
    settings = {k: v for k, v in first.settings.items() if k not in ("versions",)}
    scheme = first.scheme
    return (
        head
        + "<p>Versions at evaluation time:</p>"
        + f"<pre>{_e(json.dumps(first.settings['versions'], indent=1))}</pre>"
        + "<p>Data, splits and seeds:</p>"
        + _table(pd.DataFrame(rows))
        + "<p>Split definition and settings (first model; all models in a data "
        "set share them unless stated):</p>"
        + f"<pre>{_e(json.dumps(scheme, indent=1, default=str))}\n"
        + f"{_e(json.dumps(settings, indent=1, default=str))}</pre>"
        + (
            "<p>Feature extraction and MRI preprocessing settings of the "
            "feature table:</p>"
            f"<pre>{_e(json.dumps(extraction, indent=1, default=str))}</pre>"
            if extraction
            else ""
        )
    )


def _as_sections(results) -> dict[str, list[EvaluationResult]]:
    if isinstance(results, EvaluationResult):
        return {results.name: [results]}
    if isinstance(results, Mapping):
        out = {str(k): list(v) for k, v in results.items()}
    elif isinstance(results, Sequence):
        out = {"Results": list(results)}
    else:
        raise TypeError(
            "results must be an EvaluationResult, a list of them or a mapping of "
            f"section name to a list of them; got {type(results).__name__}."
        )
    for name, items in out.items():
        if not items or not all(isinstance(r, EvaluationResult) for r in items):
            raise TypeError(f"Section {name!r} must hold one or more EvaluationResult.")
    return out


def write_report(
    results,
    out_dir: str | Path,
    *,
    title: str = "radsarc evaluation report",
    reference: Mapping[str, Mapping] | None = None,
    command: str | None = None,
    extraction: Mapping | None = None,
    failures: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write ``report.html`` (self-contained) and one PNG per figure to ``out_dir``.

    Parameters
    ----------
    results : EvaluationResult, list of them, or mapping of str to list of them
        A mapping gives one section per key (e.g. per data set).
    out_dir : str or Path
        Created if needed.
    title : str
    reference : mapping, default=None
        Per section name, published numbers on the same data, e.g.
        ``{"Lipo": {"auc": 0.83, "source": "Starmans et al. 2021"}}``.
    command : str, default=None
        The command line that produced the results (reproducibility record).
    extraction : mapping, default=None
        The extraction and preprocessing settings behind the feature table
        (e.g. ``ExtractionSettings.to_full_dict()``), for the reproducibility
        record.
    failures : mapping, default=None
        Per section name, ``{model name: error message}`` of the models that
        failed; listed in their section.

    Returns
    -------
    path : Path
        The HTML file.
    """
    sections = _as_sections(results)
    for key in failures or {}:
        sections.setdefault(str(key), [])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    body = []
    toc = "".join(f"<li>{_e(n)}: {len(r)} model(s)</li>" for n, r in sections.items())
    for name, items in sections.items():
        prefix = f"{_slug(name)}_" if len(sections) > 1 else ""
        body.append(
            _section_html(
                name,
                items,
                (reference or {}).get(name),
                out_dir,
                prefix,
                (failures or {}).get(name),
            )
        )
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = (
        "<p>How to read this report. Every number comes from test parts that the "
        "model never saw while it was fitted: scaling, feature selection, "
        "resampling, tuning and the cut-off were all fitted on the training part "
        "of each split. AUC is the probability that a positive case scores higher "
        "than a negative one (0.5 is chance). Sensitivity, specificity and the "
        "other cut-off metrics use a cut-off chosen on the training part only. "
        "Confidence intervals over repeated splits use the Nadeau-Bengio "
        "correction (splits share cases, so the naive interval is too narrow); "
        "for a single test set they come from a stratified bootstrap. "
        "'Pooled' is the metric of all test predictions taken together.</p>"
    )
    doc = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class='note'>Generated {now} by radsarc "
        f"{_e(environment()['radsarc'])}.</p>{intro}<ul>{toc}</ul>"
        + "".join(body)
        + _reproducibility_html(sections, command, extraction)
        + "</body></html>"
    )
    path = out_dir / "report.html"
    with atomic_write(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    logger.info("Report written to %s", path)
    return path
