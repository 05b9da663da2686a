"""DICOM RTSTRUCT rasterisation (moved to :mod:`radsarc.images._rtstruct`)."""

from radsarc.images._rtstruct import RTStruct, read_rtstruct, rtstruct_to_mask

__all__ = ["RTStruct", "read_rtstruct", "rtstruct_to_mask"]
