"""Images to features: a synthetic sarcoma cohort, extracted with a cache.

Run: python examples/extract_synthetic.py  (about 20 s on 2 cores)
"""

import tempfile
from pathlib import Path

from radsarc.datasets import make_synthetic_cohort
from radsarc.features import extract_features

SETTINGS = {
    "featureClass": {"firstorder": None, "shape": None, "glcm": None},
    "setting": {"binWidth": 25, "label": 1},
}

with tempfile.TemporaryDirectory() as tmp:
    cohort = make_synthetic_cohort(12, Path(tmp) / "cohort", random_state=0)
    print(cohort, "labels:", cohort.labels.value_counts().to_dict())
    print(cohort.validate())
    cache = Path(tmp) / "cache"
    first = extract_features(
        cohort, SETTINGS, n_jobs=2, cache_dir=cache, return_result=True
    )
    print(first.summary, f"({first.elapsed:.1f} s)")
    again = extract_features(
        cohort, SETTINGS, n_jobs=2, cache_dir=cache, return_result=True
    )
    print(again.summary, f"({again.elapsed:.1f} s)")
    X, y = first.features, cohort.labels.loc[first.features.index]
    print(X.shape, "features, e.g.:")
    print(
        X.groupby(y.to_numpy())[
            [
                "T1_original_shape_MeshVolume",
                "T1_original_firstorder_Variance",
                "T2FS_original_firstorder_Maximum",
            ]
        ]
        .mean()
        .rename(index={0: "low grade", 1: "high grade"})
        .round(1)
        .T.to_string()
    )
