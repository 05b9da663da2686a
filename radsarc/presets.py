"""Published soft-tissue-sarcoma MRI radiomics pipelines, ready to fit.

>>> from radsarc.presets import list_presets, make_preset
>>> "liang2022" in list_presets()
True

The implementation lives in :mod:`radsarc.model._presets`.
"""

from radsarc.model._presets import Preset, get_preset, list_presets, make_preset

__all__ = ["Preset", "get_preset", "list_presets", "make_preset"]
