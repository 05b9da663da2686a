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
bagged and class-balanced L1 logistic regressions. Everything is stored in
one ``.npz`` per split so that any ensemble rule is evaluated offline in
seconds (``rules``): a rule sees the inner predictions only; the test
predictions score it.

Usage::

    python benchmarks/auto_library.py collect --dataset Lipo --splits 0-29 --batch 1
    python benchmarks/auto_library.py collect --dataset Lipo --splits 0-29 --batch 2
    python benchmarks/auto_library.py rules --dataset Lipo --splits 0-29 --batches 2

Costly: about 20 (Lipo) to 27 (Desmoid) CPU-s per split for the library and
batch 1, 7-11 for batch 2 or 3. Run it under ``nice``.
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
            _Candidate(
                f"kbest_svm[k={k}]",
                "x_kbest_svm",
                Pipeline(
                    [
                        ("selector", SelectKBest(f_classif, k=k)),
                        ("classifier", SVC(C=1.0, probability=True)),
                    ]
                ),
            )
        )
        out.append(
            _Candidate(
                f"kbest_lr2[k={k}]",
                "x_kbest_lr2",
                Pipeline(
                    [
                        ("selector", SelectKBest(f_classif, k=k)),
                        ("classifier", LogisticRegression(C=0.1, max_iter=2000)),
                    ]
                ),
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
                _Candidate(
                    f"kbest_{kind}[k={k}]",
                    f"x2_kbest_{kind}",
                    Pipeline(
                        [
                            ("selector", SelectKBest(f_classif, k=k)),
                            ("classifier", forest(kind, 3)),
                        ]
                    ),
                )
            )
    for k in (10, 20):
        out.append(
            _Candidate(
                f"mrmr_et[k={k}]",
                "x2_mrmr_et",
                Pipeline(
                    [
                        ("selector", MRMRSelector(n_features_to_select=k)),
                        ("classifier", forest("et", 3)),
                    ]
                ),
            )
        )
    out.append(
        _Candidate(
            "mrmr_rf[k=20]",
            "x2_mrmr_rf",
            Pipeline(
                [
                    ("selector", MRMRSelector(n_features_to_select=20)),
                    ("classifier", forest("rf", 3)),
                ]
            ),
        )
    )
    for k in (5, 10):
        out.append(
            _Candidate(
                f"mrmr_lr[k={k}]",
                "x2_mrmr_lr",
                Pipeline(
                    [
                        ("selector", MRMRSelector(n_features_to_select=k)),
                        ("classifier", LogisticRegression(C=1.0, max_iter=2000)),
                    ]
                ),
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
            _Candidate(
                f"enet_lr[C={C},k={k}]",
                "x2_enet",
                Pipeline(
                    [
                        ("selector", SelectKBest(f_classif, k=k)),
                        (
                            "classifier",
                            LogisticRegression(
                                l1_ratio=0.5, solver="saga", C=C, max_iter=1000
                            ),
                        ),
                    ]
                ),
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


def seeded(candidates, rng):
    return seeded_candidates(candidates, rng)


def score_split(X, y, names, train, test, repeats, seed, batch=1):
    """Inner OOF (repeats, n_cand, n_train) and test (n_cand, n_test) predictions.

    ``batch`` 0: the library; 1: the library and the first batch; 2 or 3: only
    that batch, on the same folds as 1.
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
BATCHES = ("x_", "x2_", "x3_")

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


def rules(args):
    """Mean test AUC of every rule, per library (the default and each addition)."""
    folder = Path(args.out) / f"{args.table}_{args.dataset}"
    batches = tuple(int(b) for b in args.batches.split(",") if b)
    data = load(folder, parse_range(args.splits), extra2=batches)
    if not data:
        raise SystemExit(f"No stored split in {folder} for {args.splits}.")
    added = [a for a in args.add.split(";") if a]
    print(f"{args.table} {args.dataset}: {len(data)} splits; rule: mean test AUC")
    for extra in ["", *added]:
        names = {n for n in extra.split("|") if n}

        def subset(n, f, names=names):
            return np.array(
                [
                    not x.startswith(BATCHES) or nm in names
                    for nm, x in zip(n, f, strict=True)
                ]
            )

        for repeats in range(1, data[0][1]["oof"].shape[0] + 1):
            means, _ = evaluate_rules(data, RULES, subset, repeats=repeats)
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
    p.add_argument("--batch", type=int, default=1, choices=[0, 1, 2, 3])
    p.add_argument(
        "--batches", default="", help="rules: stored batches 2, 3 to merge, e.g. 2,3"
    )
    p.add_argument(
        "--add",
        default="",
        help="rules: candidates added to the library, separated by |; libraries "
        "separated by ';'",
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
    else:
        raise ValueError(rule)
    return w / w.sum()


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
            w = rule_weights(r, oof, y, names[keep][ok], fam[keep][ok])
            out[r].append(_auc_rows((w @ test)[None], yt)[0])
    return {r: float(np.mean(v)) for r, v in out.items()}, {
        r: np.array(v) for r, v in out.items()
    }


if __name__ == "__main__":
    main()
