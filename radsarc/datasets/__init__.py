"""Data sets: the bundled public WORC sarcoma tables and synthetic cohorts."""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.datasets._download": ["download_file", "get_data_home"],
        "radsarc.datasets._synthetic": ["make_synthetic_cohort"],
        "radsarc.datasets._synthetic_outcomes": ["make_synthetic_survival"],
        "radsarc.datasets._synthetic_response": ["make_synthetic_response_cohort"],
        "radsarc.datasets._synthetic_tissue": [
            "TISSUE_CLASSES",
            "make_synthetic_tissue_phantom",
        ],
        "radsarc.datasets._tcia": ["fetch_tcia_sts"],
        "radsarc.datasets._worc": [
            "WORC_DATASETS",
            "WORC_PUBLISHED_RESULTS",
            "load_worc_splits",
            "load_worc_table",
        ],
        "radsarc.datasets._worc_fetch": ["fetch_worc_images", "fetch_worc_table"],
    },
)
