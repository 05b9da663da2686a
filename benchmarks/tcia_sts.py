"""The image-level path on TCIA's Soft-tissue-Sarcoma collection (Vallieres 2015).

fetch (DICOM -> NIfTI, RTSTRUCT ``GTV_Mass`` -> masks) -> extract T1 and T2FS
features -> evaluate the vallieres2015 and liang2022 presets (repeated 5-fold
cross-validation, hyper-parameters tuned inside each training part) on lung
metastasis -> HTML report, beside the AUC each paper reported on its own cohort
(Vallieres et al. used these 51 patients, with FDG-PET as well as MRI).

Without the data (``<data_home>/tcia_sts/manifest.csv``) the script says how to
get them and exits 0. ``--download`` fetches them first (the MRI series of 51
patients from TCIA; resumable, cached).

Usage::

    python benchmarks/tcia_sts.py                       # uses cached data only
    python benchmarks/tcia_sts.py --download --n-jobs 2
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path

from radsarc.datasets import fetch_tcia_sts, get_data_home
from radsarc.evaluation import RepeatedCV, evaluate
from radsarc.features import extract_features
from radsarc.images import Cohort
from radsarc.presets import get_preset

PRESETS = ("vallieres2015", "liang2022")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", type=Path, default=None)
    parser.add_argument(
        "--download", action="store_true", help="fetch the collection if missing"
    )
    parser.add_argument("--nbia-url", default=None, help="NBIA API base address")
    parser.add_argument("--clinical-url", default=None, help="clinical spreadsheet")
    parser.add_argument(
        "--target", default="lung_metastasis", help="clinical column to predict"
    )
    parser.add_argument(
        "--params", default=None, help="pyradiomics parameter file (YAML)"
    )
    parser.add_argument("--repeats", type=int, default=10, help="repeats of 5-fold CV")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "tcia_sts",
    )
    return parser.parse_args(argv)


HOW_TO = """\
The TCIA Soft-tissue-Sarcoma data are not in {root}.

Get them (the MRI series of 51 patients from TCIA; resumable) with either of:

    python benchmarks/tcia_sts.py --download
    radsarc fetch tcia-sts --data-home {home}

or from Python: radsarc.datasets.fetch_tcia_sts(data_home={home_repr}).
Hosts can be changed with RADSARC_TCIA_NBIA_URL and RADSARC_TCIA_STS_CLINICAL_URL.
Then run this script again.
"""


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    home = get_data_home(args.data_home)
    manifest = home / "tcia_sts" / "manifest.csv"
    start = time.perf_counter()
    if args.download:
        cohort = fetch_tcia_sts(
            home,
            target=args.target,
            nbia_url=args.nbia_url,
            clinical_url=args.clinical_url,
            progress=True,
        )
    elif manifest.is_file():
        cohort = Cohort.from_csv(manifest)
    else:
        print(
            HOW_TO.format(root=home / "tcia_sts", home=home, home_repr=repr(str(home)))
        )
        return 0
    print(f"{len(cohort)} patients, sequences {cohort.sequences}", file=sys.stderr)

    extraction = extract_features(
        cohort,
        args.params,
        n_jobs=args.n_jobs,
        cache_dir=home / "tcia_sts" / "feature_cache",
        progress=True,
        return_result=True,
    )
    X = extraction.features
    if len(extraction.errors):
        print(f"Extraction failed for:\n{extraction.errors}", file=sys.stderr)
    y = cohort.labels.loc[X.index]
    keep = y.notna()
    X, y = X.loc[keep], y.loc[keep].astype(int)
    print(
        f"{X.shape[1]} features of {len(X)} patients; {int(y.sum())} with "
        f"{args.target} = 1",
        file=sys.stderr,
    )

    results = []
    for name in PRESETS:
        t0 = time.perf_counter()
        results.append(
            evaluate(
                name,
                X,
                y,
                cv=RepeatedCV(n_repeats=args.repeats),
                param_grid=get_preset(name).param_grid or None,
                random_state=args.seed,
                n_jobs=args.n_jobs,
            )
        )
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    from radsarc.report import write_report

    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    path = write_report(
        {"TCIA-STS": results},
        args.out,
        title=f"radsarc on TCIA Soft-tissue-Sarcoma ({args.target})",
        command=command,
    )
    print(f"\nMean test AUC, {args.repeats} x 5-fold CV ({args.target}):")
    print("| preset | AUC (95% CI) | paper (own cohort) |")
    print("|---|---|---|")
    for result in results:
        auc = result.summary.loc["auc"]
        reported = get_preset(result.preset).reported_metrics.get("auc")
        reported = f"{reported:.3f}" if reported is not None else "n/a"
        print(
            f"| {result.name} | {auc['mean']:.3f} ({auc['ci_low']:.2f}-"
            f"{auc['ci_high']:.2f}) | {reported} |"
        )
    print(f"Report: {path} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
