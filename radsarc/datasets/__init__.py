"""Data sets: the bundled public WORC sarcoma tables and synthetic cohorts."""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "TISSUE_CLASSES": ("radsarc.datasets._synthetic_tissue", "TISSUE_CLASSES"),
    "WORC_DATASETS": ("radsarc.datasets._worc", "WORC_DATASETS"),
    "WORC_PUBLISHED_RESULTS": ("radsarc.datasets._worc", "WORC_PUBLISHED_RESULTS"),
    "download_file": ("radsarc.datasets._download", "download_file"),
    "fetch_tcia_sts": ("radsarc.datasets._tcia", "fetch_tcia_sts"),
    "fetch_worc_images": ("radsarc.datasets._worc_fetch", "fetch_worc_images"),
    "fetch_worc_table": ("radsarc.datasets._worc_fetch", "fetch_worc_table"),
    "get_data_home": ("radsarc.datasets._download", "get_data_home"),
    "load_worc_splits": ("radsarc.datasets._worc", "load_worc_splits"),
    "load_worc_table": ("radsarc.datasets._worc", "load_worc_table"),
    "make_synthetic_cohort": ("radsarc.datasets._synthetic", "make_synthetic_cohort"),
    "make_synthetic_response_cohort": (
        "radsarc.datasets._synthetic_response",
        "make_synthetic_response_cohort",
    ),
    "make_synthetic_survival": (
        "radsarc.datasets._synthetic_outcomes",
        "make_synthetic_survival",
    ),
    "make_synthetic_tissue_phantom": (
        "radsarc.datasets._synthetic_tissue",
        "make_synthetic_tissue_phantom",
    ),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

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
