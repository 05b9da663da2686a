"""Data sets: the bundled public WORC sarcoma tables and synthetic cohorts."""

from radsarc.datasets._synthetic import make_synthetic_cohort
from radsarc.datasets._worc import (
    WORC_DATASETS,
    WORC_PUBLISHED_RESULTS,
    load_worc_splits,
    load_worc_table,
)

__all__ = [
    "WORC_DATASETS",
    "WORC_PUBLISHED_RESULTS",
    "load_worc_splits",
    "load_worc_table",
    "make_synthetic_cohort",
]
