"""Data sets: the bundled public WORC sarcoma tables and synthetic cohorts."""

from radsarc.datasets._download import download_file, get_data_home
from radsarc.datasets._synthetic import make_synthetic_cohort
from radsarc.datasets._synthetic_outcomes import make_synthetic_survival
from radsarc.datasets._synthetic_response import make_synthetic_response_cohort
from radsarc.datasets._synthetic_tissue import (
    TISSUE_CLASSES,
    make_synthetic_tissue_phantom,
)
from radsarc.datasets._tcia import fetch_tcia_sts
from radsarc.datasets._worc import (
    WORC_DATASETS,
    WORC_PUBLISHED_RESULTS,
    load_worc_splits,
    load_worc_table,
)
from radsarc.datasets._worc_fetch import fetch_worc_images, fetch_worc_table

__all__ = [
    "TISSUE_CLASSES",
    "WORC_DATASETS",
    "WORC_PUBLISHED_RESULTS",
    "download_file",
    "fetch_tcia_sts",
    "fetch_worc_images",
    "fetch_worc_table",
    "get_data_home",
    "load_worc_splits",
    "load_worc_table",
    "make_synthetic_cohort",
    "make_synthetic_response_cohort",
    "make_synthetic_survival",
    "make_synthetic_tissue_phantom",
]
