"""Voxel-wise tissue classification (Blackledge et al. 2019) on a synthetic phantom.

Four co-registered maps (T1 post-contrast, T2FS, ADC, fat fraction) of sarcomas
made of four known tissue classes. Voxel features (intensity and local mean,
s.d., entropy), several classifiers compared leave one patient out, per-patient
tissue fractions, and the predicted label maps written as NIfTI.

Run: python examples/voxel_classification.py [--out FOLDER]   (about 30 s on 2 cores)
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from radsarc.datasets import TISSUE_CLASSES, make_synthetic_tissue_phantom
from radsarc.evaluation import compare_voxel_classifiers, write_label_maps
from radsarc.features import voxel_features
from radsarc.model import make_voxel_classifier
from radsarc.presets import make_preset

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, default=None, help="folder for the outputs")
args = parser.parse_args()
start = time.perf_counter()

with tempfile.TemporaryDirectory() as tmp:
    out = args.out or Path(tmp) / "out"
    out.mkdir(parents=True, exist_ok=True)
    cohort = make_synthetic_tissue_phantom(10, Path(tmp) / "phantom", random_state=0)
    voxels = voxel_features(
        cohort, labels="tissue", window=(1, 5, 5), zscore=("T1", "T2FS")
    )
    print(cohort, "-", len(voxels), "tumour voxels,", voxels.shape[1] - 1, "features")

    classifiers = {
        "blackledge2019 (naive Bayes)": make_preset("blackledge2019"),
        "LDA": make_voxel_classifier("lda"),
        "logistic": make_voxel_classifier("lr"),
        "kNN": make_voxel_classifier("knn"),
        "SVM (RBF)": make_voxel_classifier("svm"),
        "random forest": make_voxel_classifier("rf", n_estimators=25),
    }
    summary, results = compare_voxel_classifiers(
        classifiers,
        voxels,
        class_names=TISSUE_CLASSES,
        max_train_voxels=300,
        n_jobs=2,
    )
    print(f"\nLeave-one-patient-out (chance = {1 / len(TISSUE_CLASSES):.2f}):")
    print(summary.round(3).to_string())

    best = results["blackledge2019 (naive Bayes)"]
    print("\nPer-class scores of blackledge2019:")
    print(best.per_class.round(3).to_string())
    fractions = best.fractions.pivot(
        index="case_id", columns="name", values=["true", "predicted"]
    )
    print("\nTissue fractions, true vs predicted (first 4 patients):")
    print(fractions.round(2).head(4).to_string())

    paths = write_label_maps(best.predictions["y_pred"], cohort, out / "label_maps")
    print(f"\n{len(paths)} label maps written to", out / "label_maps")

    # One slice of the first patient: truth and prediction.
    case = cohort.case_ids[0]
    truth = sitk.GetArrayFromImage(
        sitk.ReadImage(str(Path(tmp) / "phantom" / case / "tissue.nii.gz"))
    )
    pred = sitk.GetArrayFromImage(sitk.ReadImage(str(paths[case])))
    z = int(np.argmax((truth > 0).sum(axis=(1, 2))))
    fig = Figure(figsize=(8, 4), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, arr, title in zip(
        fig.subplots(1, 2),
        (truth, pred),
        ("true tissue", "predicted (NB)"),
        strict=True,
    ):
        ax.imshow(arr[z], cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        ax.set_title(f"{case} {title}")
        ax.axis("off")
    fig.savefig(out / "voxel_labels.png")
    print("figure:", out / "voxel_labels.png")
print(f"done in {time.perf_counter() - start:.1f} s")
