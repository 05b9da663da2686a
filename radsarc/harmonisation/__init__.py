"""Harmonisation of features across centres and scanners (ComBat).

Fitted on the training part of each split only, like every learned step.
"""

from radsarc.harmonisation._combat import ComBat

__all__ = ["ComBat"]
