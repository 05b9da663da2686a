"""Clinical + radiomics nomogram (Liang et al. 2022, "Model C+R") on synthetic data.

A radiomics score (the linear predictor of a LASSO logistic model, fitted inside
each training fold) is combined with clinical covariates (age, depth) in a
logistic model. Clinical-only, radiomics-only and combined models are compared
by cross-validated AUC, DeLong's test and decision curves; the combined model is
drawn as a nomogram.

Run: python examples/nomogram.py [--out FOLDER]   (about 45 s on 2 cores)
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from radsarc.datasets import make_synthetic_cohort
from radsarc.evaluation import RepeatedCV, delong_test, evaluate
from radsarc.features import extract_features
from radsarc.model import make_nomogram_models
from radsarc.report import decision_curve_figure, figure_png, nomogram_figure

SETTINGS = {
    "featureClass": {"firstorder": None, "shape": None, "glcm": None},
    "setting": {"binWidth": 25, "label": 1},
}

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, default=None, help="folder for the figures")
args = parser.parse_args()
start = time.perf_counter()

with tempfile.TemporaryDirectory() as tmp:
    out = args.out or Path(tmp) / "out"
    out.mkdir(parents=True, exist_ok=True)
    # A weak imaging signature (effect_size 0.3), so that the models differ.
    cohort = make_synthetic_cohort(
        60, Path(tmp) / "cohort", random_state=1, effect_size=0.3, shape=(10, 48, 48)
    )
    radiomics = extract_features(cohort, SETTINGS, n_jobs=2)
    clinical = cohort.clinical().loc[radiomics.index]
    y = clinical["label"].astype(int)
    # A clinical covariate with a known link to grade, drawn here: deep-seated
    # tumours are 75 % of high-grade and 35 % of low-grade cases.
    rng = np.random.default_rng(0)
    deep = rng.random(len(y)) < np.where(y == 1, 0.75, 0.35)
    X = radiomics.assign(age=clinical["age"].astype(float), deep=deep.astype(float))
    print(f"{len(y)} cases ({int(y.sum())} high grade), {radiomics.shape[1]} features")
    print(f"(extraction done at {time.perf_counter() - start:.0f} s)")

    models = make_nomogram_models(
        list(radiomics.columns), ["age", "deep"], C=0.1, random_state=0
    )
    cv = RepeatedCV(n_splits=5, n_repeats=2, random_state=0)
    results = {
        name: evaluate(model, X, y, cv=cv, cutoff=None, name=name, n_jobs=2)
        for name, model in models.items()
    }
    for name, res in results.items():
        auc = res.summary.loc["auc"]
        print(
            f"{name:>10}: AUC {auc['mean']:.3f} "
            f"(95% CI {auc['ci_low']:.3f}-{auc['ci_high']:.3f})"
        )

    # DeLong on the out-of-fold predictions of the first repetition.
    def first_repeat(res):
        pred = res.predictions
        pred = pred[pred["split"] < 5].set_index("case_id").loc[y.index]
        return pred["y_score"].to_numpy()

    scores = {name: first_repeat(res) for name, res in results.items()}
    for a, b in [("combined", "clinical"), ("combined", "radiomics")]:
        test = delong_test(y.to_numpy(), scores[a], scores[b])
        print(
            f"DeLong {a} vs {b}: AUC {test.auc_a:.3f} vs {test.auc_b:.3f}, "
            f"p = {test.p_value:.3g}"
        )

    fig = decision_curve_figure(list(results.values()), title="Decision curves")
    (out / "decision_curves.png").write_bytes(figure_png(fig))
    combined = models["combined"].fit(X, y)
    fig = nomogram_figure(
        combined,
        X,
        labels={"age": "Age (years)", "deep": "Deep-seated"},
        outcome="P(high grade)",
    )
    (out / "nomogram.png").write_bytes(figure_png(fig))
    coef = combined.named_steps["classifier"].coef_.ravel()
    names = combined[:-1].get_feature_names_out()
    print(
        "combined model coefficients:",
        ", ".join(f"{n} {c:+.3f}" for n, c in zip(names, coef, strict=True)),
    )
    n_sel = int((combined.named_steps["score"].coef_ != 0).sum())
    print(f"radiomics score uses {n_sel} of {radiomics.shape[1]} features")
    print("figures:", out / "decision_curves.png", out / "nomogram.png")
print(f"done in {time.perf_counter() - start:.1f} s")
