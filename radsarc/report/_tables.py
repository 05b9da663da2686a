"""Tables of a report: results per metric, comparisons between models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from radsarc.evaluation import EvaluationResult, corrected_resampled_ttest, delong_test

__all__ = ["compare_models", "preset_info", "results_table"]


def preset_info(name: str | None):
    """The :class:`radsarc.presets.Preset` of a result, or None for a custom model."""
    if name is None:
        return None
    from radsarc.presets import get_preset

    return get_preset(name)


def section_baselines(results: Sequence[EvaluationResult]) -> list[EvaluationResult]:
    """The baseline results of a section (from its first result that has them;
    every model of a section is evaluated on the same splits)."""
    for result in results:
        if result.baselines:
            return list(result.baselines.values())
    return []


def results_table(
    sections: Mapping[str, Sequence[EvaluationResult]],
    reference: Mapping[str, Mapping] | None = None,
    failures: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per data set x model x metric: mean, CI and the published numbers.

    Columns: ``dataset``, ``model``, ``role`` (``"model"``, ``"baseline"`` or
    ``"failed"``), ``metric``, ``mean``, ``std``, ``ci_low``, ``ci_high``,
    ``ci_method``, ``pooled``, ``n_splits``, ``published`` (the reference value
    for this data set, e.g. WORC's AUC on the same splits), ``paper_reported``
    and ``paper_reported_source`` (the preset's figures on the paper's own
    cohort, and where they come from), then, on each model's ``auc`` row, the
    difference to each baseline: ``delta_auc_vs_volume``,
    ``delta_ci_low_vs_volume``, ``delta_ci_high_vs_volume``,
    ``verdict_vs_volume`` (and ``..._vs_clinical``), and ``message`` (why a
    model failed). The baselines (fitted on the same splits) have one block of
    rows per data set.

    ``failures`` maps a data set to ``{model name: error message}``.
    """
    frames = []
    keys = set(sections) | set(failures or {})
    for dataset in [*sections, *[k for k in (failures or {}) if k not in sections]]:
        if dataset not in keys:
            continue
        results = sections.get(dataset, [])
        ref = (reference or {}).get(dataset, {})
        for role, items in (
            ("model", results),
            ("baseline", section_baselines(results)),
        ):
            for result in items:
                table = result.to_frame()
                table.insert(0, "dataset", dataset)
                table.insert(2, "role", role)
                table["published"] = [
                    ref.get(m, np.nan)
                    if isinstance(ref.get(m), int | float)
                    else np.nan
                    for m in table["metric"]
                ]
                preset = preset_info(result.preset)
                reported = dict(preset.reported_metrics) if preset is not None else {}
                table["paper_reported"] = [
                    reported.get(m, np.nan) for m in table["metric"]
                ]
                source = getattr(preset, "reported_source", "") if preset else ""
                table["paper_reported_source"] = [
                    source if m in reported else None for m in table["metric"]
                ]
                frames.append(table)
        for name, message in (failures or {}).get(dataset, {}).items():
            frames.append(
                pd.DataFrame(
                    [
                        {
                            "dataset": dataset,
                            "model": name,
                            "role": "failed",
                            "metric": "auc",
                            "message": message,
                        }
                    ]
                )
            )
    if not frames:
        raise ValueError("No results and no failures to tabulate.")
    table = pd.concat(frames, ignore_index=True)
    # Verdict and message columns last, in a stable order.
    keys = sorted(
        {c.rsplit("_vs_", 1)[1] for c in table.columns if "_vs_" in c},
        key=lambda k: (k != "volume", k),
    )
    tail = [
        f"{kind}_vs_{key}"
        for key in keys
        for kind in ("delta_auc", "delta_ci_low", "delta_ci_high", "verdict")
        if f"{kind}_vs_{key}" in table.columns
    ]
    tail += ["message"] if "message" in table.columns else []
    return table[[c for c in table.columns if c not in tail] + tail]


def compare_models(results: Sequence[EvaluationResult]) -> pd.DataFrame | None:
    """AUC of every model against the best one on the same splits.

    Several resampled splits: Nadeau-Bengio corrected resampled t-test on the
    per-split AUCs (paired by split). One test set: DeLong's test on the same
    cases. Returns None when fewer than two models or when the models were not
    evaluated on the same splits and cases.
    """
    if len(results) < 2:
        return None
    keys = [
        tuple(map(tuple, r.predictions[["split", "case_id"]].astype(str).to_numpy()))
        for r in results
    ]
    if any(k != keys[0] for k in keys[1:]):
        return None
    best = max(results, key=lambda r: r.mean_auc)
    rows = []
    for r in results:
        if r is best:
            continue
        if len(r.split_metrics) >= 2:
            res = corrected_resampled_ttest(
                best.split_metrics["auc"],
                r.split_metrics["auc"],
                best.n_train,
                best.n_test,
            )
            rows.append(
                {
                    "model": r.name,
                    "versus": best.name,
                    "auc_difference": res.mean_difference,
                    "ci_low": res.ci_low,
                    "ci_high": res.ci_high,
                    "p_value": res.p_value,
                    "test": "corrected resampled t-test (Nadeau-Bengio)",
                }
            )
        else:
            a, b = best.predictions, r.predictions
            res = delong_test(a["y_true"], a["y_score"], b["y_score"])
            half = 1.959963984540054 * res.standard_error
            rows.append(
                {
                    "model": r.name,
                    "versus": best.name,
                    "auc_difference": res.difference,
                    "ci_low": res.difference - half,
                    "ci_high": res.difference + half,
                    "p_value": res.p_value,
                    "test": "DeLong",
                }
            )
    return pd.DataFrame(rows)
