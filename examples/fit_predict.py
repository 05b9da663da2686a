"""Fit a preset on a synthetic cohort's images, save it, and score new patients.

Runs in well under a minute: a 24-case training cohort and 6 new cases from two
centres, ComBat harmonisation on the centre, the cut-off chosen on out-of-fold
probabilities of the training cases, and the saved model reloaded to predict.
One new case has a missing image: it is reported, the others are scored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from radsarc.datasets import make_synthetic_cohort
from radsarc.deploy import RadiomicsModel, load_model

SETTINGS = {
    "featureClass": {"firstorder": None, "shape": None, "glcm": None},
    "setting": {"binWidth": 25},
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train = make_synthetic_cohort(
            24, root / "train", random_state=1, shape=(10, 48, 48)
        )
        new = make_synthetic_cohort(6, root / "new", random_state=2, shape=(10, 48, 48))
        (root / "new" / new.case_ids[0] / "T2FS.nii.gz").unlink()  # a lost file

        model = RadiomicsModel(
            preset="peeken2019", settings=SETTINGS, harmonise=True, cv=4
        ).fit(train)
        path = model.save(root / "model.radsarc")
        summary = model.training_summary_
        auc = summary["oof_auc"]
        # Nested: the grid was tuned again inside every training fold.
        auc_text = "n/a" if auc is None else f"{auc:.3f}"
        print(
            f"fitted peeken2019 on {summary['n_cases']} cases: out-of-fold AUC "
            f"{auc_text} ({summary['oof_auc_method'].split(':')[0]}), "
            f"Youden cut-off {model.threshold_:.3f}"
        )

        result = load_model(path).predict_cohort(new)
        table = result.predictions.merge(
            new.labels.rename("true_label").reset_index(), on="case_id"
        )
        with pd.option_context("display.precision", 3):
            print(table.to_string(index=False))
        for row in result.errors.itertuples():
            print(f"not scored: {row.case_id} ({row.stage}): {row.message}")
        print(result.summary)


if __name__ == "__main__":
    main()
