"""radsarc: classical radiomics and machine learning for soft-tissue-sarcoma MRI.

The package is organised by stage of the data flow; a later stage may import an
earlier one, never the reverse::

    images -> features -> feature_selection -> model -> evaluation -> report

Importing :mod:`radsarc` does nothing but define names: pyradiomics (which sets
up logging handlers when imported) is only imported when features are extracted.
"""

import logging

from radsarc._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
