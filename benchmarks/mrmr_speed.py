"""Time radsarc's MRMRSelector against mrmr_selection on WORC-Desmoid.

Both select K features by the F-test correlation quotient (FCQ); the script
prints both times, the speed-up and whether the selections (in order) agree.

    python benchmarks/mrmr_speed.py
"""

from __future__ import annotations

import time

from mrmr import mrmr_classif

from radsarc.datasets import load_worc_table
from radsarc.feature_selection import MRMRSelector


def _best_time(func, repeat):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    X, y = load_worc_table("Desmoid")
    print(f"WORC-Desmoid: {X.shape[0]} patients x {X.shape[1]} features")
    print(
        f"{'K':>4} {'mrmr_selection (s)':>19} {'MRMRSelector (s)':>17} "
        f"{'ratio':>8} {'identical':>10}"
    )
    for k in (10, 50):
        ref_time, reference = _best_time(
            lambda k=k: mrmr_classif(X=X, y=y, K=k, show_progress=False), 1
        )
        our_time, selector = _best_time(
            lambda k=k: MRMRSelector(n_features_to_select=k).fit(X, y), 5
        )
        ours = list(X.columns[selector.selection_order_])
        print(
            f"{k:>4} {ref_time:>19.3f} {our_time:>17.4f} "
            f"{ref_time / our_time:>8.0f} {str(ours == reference):>10}"
        )


if __name__ == "__main__":
    main()
