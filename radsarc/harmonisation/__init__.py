"""Harmonisation of features across centres and scanners (ComBat).

Fitted on the training part of each split only, like every learned step.
"""

from radsarc._lazy import lazy_attributes

# Public names by module, each imported on first use (PEP 562), so that
# importing this stage stays cheap (the command line answers at once).
__getattr__, __dir__, __all__ = lazy_attributes(
    __name__,
    {
        "radsarc.harmonisation._combat": ["ComBat"],
    },
)
