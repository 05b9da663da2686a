"""auto's library, scored once per split, and ensemble rules compared offline.

For each WORC split (``--table worc``) or each small-cohort draw and outer fold
(``--table small``, the draws of ``small_cohorts.py``), every candidate of
``auto``'s library is scored as :class:`radsarc.model.AutoEnsemble` scores it
inside ``fit``: out-of-fold probabilities of a repeated stratified 5-fold split
of the training part (``--repeats``), and, fitted on the whole training part,
its probabilities on the test part. ``--batch 1`` adds the first batch of
screened candidates (forests on all features, L2/quantile logistic
regressions, k-best SVM and LR, PCA + LR), ``--batch 2`` (alone, on the same
folds) forests and logistic regressions on a few selected features, sparse
logistic regressions, ``--batch 3`` bigger forests after gitto2023's filters,
bagged and class-balanced L1 logistic regressions, ``--batch 4`` shrinkage
LDA and Gaussian naive Bayes on k-best features after a quantile or
Yeo-Johnson transform, feature agglomeration + logistic regression / forest,
random-subspace logistic regressions, k-nearest neighbours, regularised
histogram gradient boosting on 50 k-best features, and the best forests
(``gitto2023``'s filters, ``mrmr_rf``) with 500 trees. Everything is stored in
one ``.npz`` per split so that any ensemble rule is evaluated offline in
seconds (``rules``): a rule sees the inner predictions only; the test
predictions score it. Besides ensemble selection, ``rules`` knows regularised
stacking (``stack_l2:C``: L2 logistic regression on the candidates'
standardised inner logits) and weightings by shrunken or bootstrapped inner
AUCs (``shrink_soft``, ``shrink_paired``, ``boot_best``, ``boot_top``);
``--singles`` prints every candidate's mean inner and test AUC, ``--add``
adds screened candidates or families to the library (``-name`` drops one).

Usage::

    python benchmarks/auto_library.py collect --dataset Lipo --splits 0-29 --batch 1
    python benchmarks/auto_library.py collect --dataset Lipo --splits 0-29 --batch 2
    python benchmarks/auto_library.py rules --dataset Lipo --splits 0-29 --batches 2
    python benchmarks/auto_library.py rules --dataset Lipo --splits 0-19 --batches 4 \
        --singles --add "x4_hgb;-mrmr_rf|mrmr_rf500" --rules "default;stack_l2:0.01"

Costly: about 20 (Lipo) to 27 (Desmoid) CPU-s per split for the library and
batch 1, 7-11 for batch 2 or 3, 28-31 for batch 4 (its quantile transforms are
fitted per candidate). Run it under ``nice``. The stored inner ``seconds`` are
wall time (so inflated on a loaded machine), the refit ``seconds`` CPU time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.model import AutoEnsemble
from radsarc.model._auto import (
    _auc_rows,
    _Candidate,
    _fit_candidate,
    _predict_candidate,
    _prefix,
    _score_fold,
    seeded_candidates,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _selected(name, family, selector, classifier) -> _Candidate:
    """A candidate that selects features, then classifies (pipeline steps
    ``selector`` and ``classifier``)."""
    from sklearn.pipeline import Pipeline

    return _Candidate(
        name, family, Pipeline([("selector", selector), ("classifier", classifier)])
    )


def extra_candidates(names) -> list[_Candidate]:
    from sklearn.decomposition import PCA
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        RandomForestClassifier,
    )
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import QuantileTransformer
    from sklearn.svm import SVC

    from radsarc.feature_selection import CorrelationFilter

    out = []
    for mf in ("sqrt", 0.1):
        for leaf in (1, 3):
            out.append(
                _Candidate(
                    f"et[mf={mf},leaf={leaf}]",
                    "x_et",
                    ExtraTreesClassifier(
                        n_estimators=500,
                        max_features=mf,
                        min_samples_leaf=leaf,
                        n_jobs=1,
                    ),
                )
            )
    for mf in ("sqrt",):
        for leaf in (1, 3):
            out.append(
                _Candidate(
                    f"rf[mf={mf},leaf={leaf}]",
                    "x_rf",
                    RandomForestClassifier(
                        n_estimators=500,
                        max_features=mf,
                        min_samples_leaf=leaf,
                        n_jobs=1,
                    ),
                )
            )
    for C in (0.003, 0.03):
        out.append(
            _Candidate(
                f"qlr[C={C}]",
                "x_qlr",
                Pipeline(
                    [
                        ("corr", CorrelationFilter(threshold=0.95)),
                        (
                            "quantile",
                            QuantileTransformer(
                                n_quantiles=50, output_distribution="normal"
                            ),
                        ),
                        ("classifier", LogisticRegression(C=C, max_iter=2000)),
                    ]
                ),
            )
        )
    for C in (0.001, 0.01):
        out.append(
            _Candidate(
                f"l2lr[C={C}]",
                "x_l2lr",
                LogisticRegression(C=C, max_iter=2000),
            )
        )
    for k in (10, 20, 50):
        out.append(
            _selected(
                f"kbest_svm[k={k}]",
                "x_kbest_svm",
                SelectKBest(f_classif, k=k),
                SVC(C=1.0, probability=True),
            )
        )
        out.append(
            _selected(
                f"kbest_lr2[k={k}]",
                "x_kbest_lr2",
                SelectKBest(f_classif, k=k),
                LogisticRegression(C=0.1, max_iter=2000),
            )
        )
    for n in (5, 10, 20):
        out.append(
            _Candidate(
                f"pca_lr[n={n}]",
                "x_pca_lr",
                Pipeline(
                    [
                        ("pca", PCA(n_components=n)),
                        ("classifier", LogisticRegression(C=0.1, max_iter=2000)),
                    ]
                ),
            )
        )
    return out


def extra2_candidates(names) -> list[_Candidate]:
    """Forests on a few selected features, sparse logistic regressions."""
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from radsarc.feature_selection import CorrelationFilter, MRMRSelector

    def forest(kind, leaf, n=300):
        cls = ExtraTreesClassifier if kind == "et" else RandomForestClassifier
        return cls(n_estimators=n, min_samples_leaf=leaf, n_jobs=1)

    out = []
    for k in (10, 20):
        for kind in ("rf", "et"):
            out.append(
                _selected(
                    f"kbest_{kind}[k={k}]",
                    f"x2_kbest_{kind}",
                    SelectKBest(f_classif, k=k),
                    forest(kind, 3),
                )
            )
    for k in (10, 20):
        out.append(
            _selected(
                f"mrmr_et[k={k}]",
                "x2_mrmr_et",
                MRMRSelector(n_features_to_select=k),
                forest("et", 3),
            )
        )
    out.append(
        _selected(
            "mrmr_rf[k=20]",
            "x2_mrmr_rf",
            MRMRSelector(n_features_to_select=20),
            forest("rf", 3),
        )
    )
    for k in (5, 10):
        out.append(
            _selected(
                f"mrmr_lr[k={k}]",
                "x2_mrmr_lr",
                MRMRSelector(n_features_to_select=k),
                LogisticRegression(C=1.0, max_iter=2000),
            )
        )
    out.append(
        _Candidate(
            "corr_kbest_et",
            "x2_corr_et",
            Pipeline(
                [
                    ("corr", CorrelationFilter(threshold=0.9)),
                    ("selector", SelectKBest(f_classif, k=10)),
                    ("classifier", forest("et", 1)),
                ]
            ),
        )
    )
    for C in (0.2, 0.3):
        out.append(
            _Candidate(
                f"l1_lr[C={C}]",
                "x2_l1",
                LogisticRegression(
                    l1_ratio=1.0, solver="liblinear", C=C, max_iter=1000
                ),
            )
        )
    for C, k in ((0.05, 100), (0.3, 100), (0.1, 300)):
        out.append(
            _selected(
                f"enet_lr[C={C},k={k}]",
                "x2_enet",
                SelectKBest(f_classif, k=k),
                LogisticRegression(l1_ratio=0.5, solver="saga", C=C, max_iter=1000),
            )
        )
    return out


def extra3_candidates(names) -> list[_Candidate]:
    """gitto2023's filters with bigger forests; bagged / balanced L1 regressions."""
    from sklearn.ensemble import (
        BaggingClassifier,
        ExtraTreesClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from radsarc.feature_selection import CorrelationFilter, UnivariateSelector

    def gitto(cls, leaf):
        return Pipeline(
            [
                ("correlation", CorrelationFilter(threshold=0.9)),
                (
                    "univariate",
                    UnivariateSelector(alpha=0.05, min_features=2, max_features=8),
                ),
                ("classifier", cls(n_estimators=500, min_samples_leaf=leaf, n_jobs=1)),
            ]
        )

    out = [
        _Candidate("gitto_rf500[leaf=1]", "x3_gitto", gitto(RandomForestClassifier, 1)),
        _Candidate("gitto_et500[leaf=1]", "x3_gitto", gitto(ExtraTreesClassifier, 1)),
        _Candidate("gitto_et500[leaf=3]", "x3_gitto", gitto(ExtraTreesClassifier, 3)),
    ]
    for C in (0.3, 0.5):
        out.append(
            _Candidate(
                f"bag_l1[C={C}]",
                "x3_bag_l1",
                BaggingClassifier(
                    LogisticRegression(
                        l1_ratio=1.0, solver="liblinear", C=C, max_iter=1000
                    ),
                    n_estimators=25,
                    max_samples=0.8,
                    n_jobs=1,
                ),
            )
        )
    for C in (0.3, 0.5):
        out.append(
            _Candidate(
                f"l1_bal[C={C}]",
                "x3_l1_bal",
                LogisticRegression(
                    l1_ratio=1.0,
                    solver="liblinear",
                    C=C,
                    max_iter=1000,
                    class_weight="balanced",
                ),
            )
        )
    return out


def extra4_candidates(names) -> list[_Candidate]:
    """Shrinkage LDA / naive Bayes on k-best features after a quantile or
    Yeo-Johnson transform, feature agglomeration, random-subspace logistic
    regressions, k-nearest neighbours, regularised gradient boosting, and the
    best forests with more trees."""
    from sklearn.cluster import FeatureAgglomeration
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import (
        BaggingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        PowerTransformer,
        QuantileTransformer,
        StandardScaler,
    )

    from radsarc.feature_selection import (
        CorrelationFilter,
        MRMRSelector,
        UnivariateSelector,
    )

    def quantile():
        return QuantileTransformer(n_quantiles=50, output_distribution="normal")

    def lda():
        return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")

    def kbest(k):
        return SelectKBest(f_classif, k=min(k, len(names)))

    out = []
    for k in (10, 20, 50):
        out.append(
            _Candidate(
                f"q_lda[k={k}]",
                "x4_q_lda",
                Pipeline([("q", quantile()), ("kbest", kbest(k)), ("lda", lda())]),
            )
        )
    out.append(
        _Candidate(
            "q_lda[all]", "x4_q_lda", Pipeline([("q", quantile()), ("lda", lda())])
        )
    )
    out.append(
        _Candidate(
            "yj_lda[k=20]",
            "x4_yj_lda",
            Pipeline(
                [
                    ("kbest", kbest(20)),
                    ("yj", PowerTransformer(method="yeo-johnson")),
                    ("lda", lda()),
                ]
            ),
        )
    )
    for k in (10, 20, 50):
        out.append(
            _Candidate(
                f"q_gnb[k={k}]",
                "x4_q_gnb",
                Pipeline(
                    [("q", quantile()), ("kbest", kbest(k)), ("nb", GaussianNB())]
                ),
            )
        )
    for n in (10, 20, 30):
        out.append(
            _Candidate(
                f"fa_lr[n={n}]",
                "x4_fa_lr",
                Pipeline(
                    [
                        ("fa", FeatureAgglomeration(n_clusters=n)),
                        ("scaler", StandardScaler()),
                        ("lr", LogisticRegression(C=0.1, max_iter=2000)),
                    ]
                ),
            )
        )
    out.append(
        _Candidate(
            "q_fa_lr[n=20]",
            "x4_fa_lr",
            Pipeline(
                [
                    ("q", quantile()),
                    ("fa", FeatureAgglomeration(n_clusters=20)),
                    ("scaler", StandardScaler()),
                    ("lr", LogisticRegression(C=0.1, max_iter=2000)),
                ]
            ),
        )
    )
    out.append(
        _Candidate(
            "fa_rf[n=20]",
            "x4_fa_rf",
            Pipeline(
                [
                    ("fa", FeatureAgglomeration(n_clusters=20)),
                    (
                        "rf",
                        RandomForestClassifier(
                            n_estimators=200, min_samples_leaf=3, n_jobs=1
                        ),
                    ),
                ]
            ),
        )
    )
    for penalty, C in (("l2", 0.1), ("l1", 0.5)):
        lr = (
            LogisticRegression(C=C, max_iter=2000)
            if penalty == "l2"
            else LogisticRegression(
                l1_ratio=1.0, solver="liblinear", C=C, max_iter=1000
            )
        )
        out.append(
            _Candidate(
                f"subspace_{penalty}[C={C}]",
                "x4_subspace",
                BaggingClassifier(
                    lr,
                    n_estimators=50,
                    max_features=0.05,
                    max_samples=1.0,
                    bootstrap=False,
                    n_jobs=1,
                ),
            )
        )
    for k, nn in ((10, 15), (20, 15), (10, 25)):
        out.append(
            _Candidate(
                f"kbest_knn[k={k},nn={nn}]",
                "x4_knn",
                Pipeline(
                    [("kbest", kbest(k)), ("knn", KNeighborsClassifier(n_neighbors=nn))]
                ),
            )
        )
    for it, depth, lr, l2 in ((100, 2, 0.05, 1.0), (50, 3, 0.1, 0.0)):
        out.append(
            _Candidate(
                f"kbest_hgb[it={it},d={depth},lr={lr},l2={l2}]",
                "x4_hgb",
                Pipeline(
                    [
                        ("kbest", kbest(50)),
                        (
                            "hgb",
                            HistGradientBoostingClassifier(
                                max_iter=it,
                                max_depth=depth,
                                learning_rate=lr,
                                l2_regularization=l2,
                                min_samples_leaf=10,
                                early_stopping=False,
                            ),
                        ),
                    ]
                ),
            )
        )
    out.append(
        _selected(
            "mrmr_rf500",
            "x4_forest",
            MRMRSelector(n_features_to_select=10),
            RandomForestClassifier(n_estimators=500, min_samples_leaf=3, n_jobs=1),
        )
    )
    for leaf in (1, 3):
        out.append(
            _Candidate(
                f"gitto_rf500[leaf={leaf}]",
                "x4_forest",
                Pipeline(
                    [
                        ("correlation", CorrelationFilter(threshold=0.9)),
                        (
                            "univariate",
                            UnivariateSelector(
                                alpha=0.05, min_features=2, max_features=8
                            ),
                        ),
                        (
                            "classifier",
                            RandomForestClassifier(
                                n_estimators=500, min_samples_leaf=leaf, n_jobs=1
                            ),
                        ),
                    ]
                ),
            )
        )
    return out


def seeded(candidates, rng):
    return seeded_candidates(candidates, rng)


def score_split(X, y, names, train, test, repeats, seed, batch=1):
    """Inner OOF (repeats, n_cand, n_train) and test (n_cand, n_test) predictions.

    ``batch`` 0: the library; 1: the library and the first batch; 2, 3 or 4:
    only that batch, on the same folds as 1.
    """
    rng = check_random_state(seed)
    library = AutoEnsemble(random_state=seed)._library(names, rng)
    if batch:
        library = library + seeded(extra_candidates(names), rng)
    Xtr, ytr = X[train], y[train]
    folds = list(
        RepeatedStratifiedKFold(
            n_splits=5,
            n_repeats=repeats,
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
        ).split(Xtr, ytr)
    )
    if batch == 2:
        library = seeded(extra2_candidates(names), rng)
    elif batch == 3:
        library = seeded(extra3_candidates(names), rng)
    elif batch == 4:
        library = seeded(extra4_candidates(names), rng)
    oof = np.full((repeats, len(library), train.size), np.nan)
    secs = np.zeros((len(library), 2))
    for j, (a, b) in enumerate(folds):
        scores, s, errors = _score_fold(library, Xtr, ytr, a, b)
        if errors:
            print("errors", errors, file=sys.stderr)
        oof[j // 5][:, b] = scores
        if j < 5:
            secs[:, 0] += s
    prefix = _prefix().fit(Xtr, ytr)
    Z, Zt = prefix.transform(Xtr), prefix.transform(X[test])
    te = np.full((len(library), test.size), np.nan)
    for i, c in enumerate(library):
        t0 = time.process_time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted, chain = _fit_candidate(c, Z, Xtr, ytr, None)
                te[i] = _predict_candidate(c, fitted, chain, Zt, X[test])
        except Exception as exc:  # noqa: BLE001
            print("refit error", c.name, exc, file=sys.stderr)
        secs[i, 1] = time.process_time() - t0
    return {
        "names": np.array([c.name for c in library]),
        "families": np.array([c.family for c in library]),
        "oof": oof,
        "test": te,
        "y_train": ytr,
        "y_test": y[test],
        "seconds": secs,
    }


def parse_range(text):
    a, _, b = text.partition("-")
    return range(int(a), int(b or a) + 1)


def worc_jobs(dataset):
    X, y = load_worc_table(dataset)
    splits = load_worc_splits(dataset)
    idx = X.index
    for s, (tr, te) in enumerate(splits):
        yield s, np.sort(idx.get_indexer(tr)), np.sort(idx.get_indexer(te))


def small_jobs(dataset, draws):
    from sklearn.model_selection import StratifiedKFold
    from small_cohorts import draw_cohort

    X, y = load_worc_table(dataset)
    rng = np.random.default_rng(0)
    for d in range(draws):
        Xs, ys = draw_cohort(X, y, 50, 0.4, rng)
        rows = X.index.get_indexer(Xs.index)
        # RepeatedCV(n_splits=5, n_repeats=1, random_state=draw) of the benchmark
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=d)
        for f, (tr, te) in enumerate(cv.split(np.zeros(len(rows)), ys)):
            yield d * 5 + f, rows[tr], rows[te]


def collect(args):
    X, y = load_worc_table(args.dataset)
    names = [str(c) for c in X.columns]
    Xv, yv = X.to_numpy(dtype=float), y.to_numpy().astype(int)
    suffix = f"_x{args.batch}" if args.batch > 1 else ""
    out = Path(args.out) / f"{args.table}_{args.dataset}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    jobs = (
        worc_jobs(args.dataset)
        if args.table == "worc"
        else small_jobs(args.dataset, 20)
    )
    wanted = set(parse_range(args.splits))
    for s, tr, te in jobs:
        if s not in wanted or (out / f"{s:03d}.npz").exists():
            continue
        t0 = time.process_time()
        with threadpool_limits(limits=1):
            res = score_split(Xv, yv, names, tr, te, args.repeats, 0, args.batch)
        np.savez_compressed(out / f"{s:03d}.npz", **res)
        print(
            f"{args.table} {args.dataset} {s}: {time.process_time() - t0:.1f} CPU-s "
            f"load {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )


def load(folder, wanted, extra2=(2,)):
    """Stored splits of ``folder`` that also have the batches ``folder_x<k>``,
    merged."""
    out = []
    for s in wanted:
        f = Path(folder) / f"{s:03d}.npz"
        more = [Path(f"{folder}_x{k}") / f"{s:03d}.npz" for k in extra2 or ()]
        if not f.exists() or not all(m.exists() for m in more):
            continue
        d = dict(np.load(f, allow_pickle=False))
        for f2 in more:
            d2 = dict(np.load(f2, allow_pickle=False))
            assert (d2["y_train"] == d["y_train"]).all()
            for key in ("names", "families", "test", "seconds"):
                d[key] = np.concatenate([d[key], d2[key]])
            d["oof"] = np.concatenate([d["oof"], d2["oof"]], axis=1)
        out.append((s, d))
    return out


#: Family prefixes of the screened batches (not of the library).
BATCHES = ("x_", "x2_", "x3_", "x4_")

RULES = (
    "best",
    "default",
    "se_top:5,1",
    "top:3",
    "top:5",
    "top:7",
    "top:10",
    "se_top:7,1",
    "se_top:10,1",
    "caruana",
    "nnls",
    "softmax:0.01",
)


def singles(data):
    """Per candidate: mean inner out-of-fold AUC and mean test AUC over splits."""
    names = data[0][1]["names"]
    inner = np.array([_auc_rows(d["oof"][0], d["y_train"]) for _, d in data])
    test = np.array([_auc_rows(d["test"], d["y_test"]) for _, d in data])
    cpu = np.array([d["seconds"] for _, d in data]).mean(axis=0)
    return names, np.nanmean(inner, axis=0), np.nanmean(test, axis=0), cpu


def rules(args):
    """Mean test AUC of every rule, per library (the default and each addition)."""
    folder = Path(args.out) / f"{args.table}_{args.dataset}"
    batches = tuple(int(b) for b in args.batches.split(",") if b)
    data = load(folder, parse_range(args.splits), extra2=batches)
    if not data:
        raise SystemExit(f"No stored split in {folder} for {args.splits}.")
    added = [a for a in args.add.split(";") if a]
    rule_list = args.rules.split(";") if args.rules else RULES
    if args.singles:
        names, inner, test, cpu = singles(data)
        print(
            f"{args.table} {args.dataset}: {len(data)} splits; candidate: mean "
            "inner AUC, mean test AUC, CPU-s (5 inner fits, refit)"
        )
        for i in np.argsort(-test):
            print(
                f"  {names[i]:45s} {inner[i]:.3f} {test[i]:.3f} "
                f"{cpu[i, 0]:5.2f} {cpu[i, 1]:5.2f}"
            )
    print(f"{args.table} {args.dataset}: {len(data)} splits; rule: mean test AUC")
    for extra in ["", *added]:
        # "+name" adds a screened candidate (or family), "-name" drops one of
        # the library (a bare name adds)
        names = {n.lstrip("+") for n in extra.split("|") if n and n[0] != "-"}
        dropped = {n[1:] for n in extra.split("|") if n.startswith("-")}

        def subset(n, f, names=names, dropped=dropped):
            return np.array(
                [
                    (not x.startswith(BATCHES) or nm in names or x in names)
                    and nm not in dropped
                    and x not in dropped
                    for nm, x in zip(n, f, strict=True)
                ]
            )

        for repeats in range(1, data[0][1]["oof"].shape[0] + 1):
            means, _ = evaluate_rules(data, rule_list, subset, repeats=repeats)
            label = "library" + (f" + {extra}" if extra else "")
            label += f" (inner CV x {repeats})" if repeats > 1 else ""
            print(f"  {label}: " + ", ".join(f"{r} {v:.3f}" for r, v in means.items()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["collect", "rules"])
    p.add_argument("--table", default="worc", choices=["worc", "small"])
    p.add_argument("--dataset", default="Lipo")
    p.add_argument("--splits", default="0-29", help="e.g. 0-29")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--batch", type=int, default=1, choices=[0, 1, 2, 3, 4])
    p.add_argument(
        "--batches",
        default="",
        help="rules: stored batches 2, 3, 4 to merge, e.g. 2,3",
    )
    p.add_argument(
        "--add",
        default="",
        help="rules: candidates (or families, e.g. x4_q_lda) added to the library, "
        "separated by |; '-name' drops a library candidate or family instead; "
        "libraries separated by ';'",
    )
    p.add_argument(
        "--rules", default="", help="rules: the rules to compare, separated by ';'"
    )
    p.add_argument(
        "--singles",
        action="store_true",
        help="rules: also every candidate's mean inner and test AUC",
    )
    p.add_argument("--out", default="/tmp/auto_library")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.command == "collect":
        collect(args)
    else:
        rules(args)


# -- rules, evaluated offline on the stored predictions -----------------------
def _ecdf(reference, values):
    """Each value's mid-rank quantile among ``reference`` (a training part's OOF)."""
    ref = np.sort(reference)
    lo = np.searchsorted(ref, values, side="left")
    hi = np.searchsorted(ref, values, side="right")
    return (lo + hi) / (2.0 * ref.size)


def rule_weights(rule, P, y, names, families):
    """Weights over candidates from their OOF predictions P (n_cand, n)."""
    from scipy.optimize import nnls

    from radsarc.model._auto import ensemble_selection

    auc = _auc_rows(P, y)
    order = np.argsort(-auc, kind="stable")
    w = np.zeros(P.shape[0])
    kind, _, arg = rule.partition(":")
    if kind == "best":
        w[order[0]] = 1
    elif kind == "top":
        w[order[: int(arg)]] = 1
    elif kind == "default":
        # AutoEnsemble's own defaults (ensemble_size, n_init, n_se).
        params = AutoEnsemble().get_params()
        w = ensemble_selection(
            P,
            y,
            ensemble_size=params["ensemble_size"],
            n_init=params["n_init"],
            n_se=params["n_se"],
        )
    elif kind == "se_top":
        k, nse = arg.split(",")
        w = ensemble_selection(
            P, y, ensemble_size=int(k), n_init=int(k), n_se=float(nse)
        )
    elif kind == "caruana":
        w = ensemble_selection(P, y, ensemble_size=25, n_init=5, n_se=None)
    elif kind == "famtop":
        # the best candidate of each family, then the k best of those
        seen, picks = set(), []
        for i in order:
            if families[i] not in seen:
                seen.add(families[i])
                picks.append(i)
        w[picks[: int(arg)]] = 1
    elif kind == "nnls":
        coef, _ = nnls(np.column_stack([P.T, np.ones(P.shape[1])]), y.astype(float))
        w = coef[:-1]
        if w.sum() == 0:
            w[order[0]] = 1
    elif kind == "wtop":
        k = int(arg)
        w[order[:k]] = np.arange(k, 0, -1)
    elif kind == "softmax":
        w = np.exp((auc - auc.max()) / float(arg))
    elif kind == "all":
        w[:] = 1
    elif kind == "shrink_soft":
        # Empirical-Bayes shrinkage of the inner AUCs towards their mean (the
        # between-candidate variance against Hanley-McNeil's sampling
        # variance), then softmax weights with temperature t standard errors.
        shrunk, se = _shrunken_auc(auc, y)
        w = np.exp((shrunk - shrunk.max()) / (float(arg) * se.min()))
    elif kind == "shrink_pow":
        shrunk, _ = _shrunken_auc(auc, y)
        w = np.clip(shrunk - 0.5, 0, None) ** float(arg)
        if w.sum() == 0:
            w[order[0]] = 1
    elif kind in ("boot_best", "boot_top", "shrink_paired"):
        boot = _bootstrap_aucs(P, y)
        if kind == "boot_best":
            # probability of being the best, over bootstrap resamples of the
            # inner out-of-fold cases (paired: the candidates' correlation kept)
            w = np.bincount(np.argmax(boot, axis=1), minlength=P.shape[0]) + 0.0
        elif kind == "boot_top":
            k = int(arg)
            top = np.argsort(-boot, axis=1)[:, :k]
            w = np.bincount(top.ravel(), minlength=P.shape[0]) + 0.0
        else:
            # shrink each AUC's distance to the mean by the between-candidate
            # variance against its paired bootstrap variance; softmax weights
            # with temperature t paired standard errors.
            dev = boot - boot.mean(axis=1, keepdims=True)
            noise = dev.var(axis=0)
            centred = auc - auc.mean()
            tau2 = max(float(np.mean(centred**2) - noise.mean()), 1e-12)
            shrunk = tau2 / (tau2 + noise) * centred
            w = np.exp((shrunk - shrunk.max()) / (float(arg) * np.sqrt(noise.mean())))
    else:
        raise ValueError(rule)
    return w / w.sum()


def _bootstrap_aucs(P, y, n_boot=200, seed=0):
    """AUC of every candidate on the same bootstrap resamples of the cases."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, P.shape[0]))
    for b in range(n_boot):
        while True:
            idx = rng.integers(0, y.size, y.size)
            if 0 < y[idx].sum() < y.size:
                break
        out[b] = _auc_rows(P[:, idx], y[idx])
    return out


def _shrunken_auc(auc, y):
    from radsarc.model._auto import _auc_standard_error

    n_pos = int((y == 1).sum())
    se = np.array([_auc_standard_error(a, n_pos, y.size - n_pos) for a in auc])
    tau2 = max(float(np.var(auc)) - float(np.mean(se**2)), 0.0)
    factor = tau2 / (tau2 + se**2)
    return auc.mean() + factor * (auc - auc.mean()), se


def _logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def stacked_scores(rule, P, y, T):
    """Regularised stacking: L2 logistic regression (C from the rule) on the
    candidates' standardised inner out-of-fold logits; its decision function
    on the test logits. ``stack_l2:C``; ``stack_l2pos:C`` keeps the positive
    coefficients only; ``stack_l2cv:`` chooses C by an inner 5-fold CV."""
    from sklearn.linear_model import LogisticRegression

    kind, _, arg = rule.partition(":")
    L, Lt = _logit(P).T, _logit(T).T
    mu, sd = L.mean(axis=0), L.std(axis=0)
    sd[sd == 0] = 1
    if kind == "stack_l2cv":
        # C chosen by a 5-fold CV of the stacker on the inner predictions
        from sklearn.linear_model import LogisticRegressionCV

        model = LogisticRegressionCV(
            Cs=np.logspace(-4, 0, 9), cv=5, scoring="roc_auc", max_iter=5000
        )
    else:
        model = LogisticRegression(C=float(arg), max_iter=5000)
    model.fit((L - mu) / sd, y)
    coef = model.coef_[0]
    if kind == "stack_l2pos":
        coef = np.clip(coef, 0, None)
        if not coef.any():
            coef[np.argmax(_auc_rows(P, y))] = 1
    return ((Lt - mu) / sd) @ coef


def evaluate_rules(data, rules, subset=None, quantile=False, repeats=1):
    """Mean test AUC of every rule over the stored splits.

    ``repeats`` > 1: the rule sees the out-of-fold predictions of that many
    repeats side by side, as ``AutoEnsemble(n_repeats=...)`` does.
    """
    out = {r: [] for r in rules}
    for _, d in data:
        names, fam = d["names"], d["families"]
        keep = np.ones(names.size, bool) if subset is None else subset(names, fam)
        oof = np.concatenate([d["oof"][r][keep] for r in range(repeats)], axis=1)
        test = d["test"][keep]
        ok = ~(np.isnan(oof).any(axis=1) | np.isnan(test).any(axis=1))
        oof, test = oof[ok], test[ok]
        y, yt = np.tile(d["y_train"], repeats), d["y_test"]
        if quantile:
            test = np.array([_ecdf(o, t) for o, t in zip(oof, test, strict=True)])
            oof = np.array([_ecdf(o, o) for o in oof])
        for r in rules:
            if r.startswith("stack_"):
                scores = stacked_scores(r, oof, y, test)
            else:
                w = rule_weights(r, oof, y, names[keep][ok], fam[keep][ok])
                scores = w @ test
            out[r].append(_auc_rows(scores[None], yt)[0])
    return {r: float(np.mean(v)) for r, v in out.items()}, {
        r: np.array(v) for r, v in out.items()
    }


if __name__ == "__main__":
    main()
