"""Harmonisation of features across centres and scanners (ComBat).

Fitted on the training part of each split only, like every learned step.
"""

from radsarc._lazy import lazy_attributes

# Public names, imported from their module on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
_LAZY = {
    "ComBat": ("radsarc.harmonisation._combat", "ComBat"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = ["ComBat"]
