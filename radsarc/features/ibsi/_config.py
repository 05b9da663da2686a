"""The settings of the IBSI engine: one frozen, validated dataclass."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from radsarc.exceptions import SettingsError

__all__ = ["FAMILIES", "IBSIConfig", "PHANTOM_CONFIGS"]

#: Feature families, in the order of the IBSI reference tables.
FAMILIES = (
    "morph",
    "loc",
    "stat",
    "ih",
    "ivh",
    "cm",
    "rlm",
    "szm",
    "dzm",
    "ngt",
    "ngl",
)
_AGGREGATIONS = ("2D", "2.5D", "3D")
_INTERPOLATIONS = ("nearest", "linear", "cubic")
_DISCRETISATIONS = ("fbn", "fbs", "none")


@dataclass(frozen=True)
class IBSIConfig:
    """Image processing and feature settings of the IBSI engine.

    Parameters
    ----------
    spacing : tuple of (float or None), default=None
        New voxel spacing (x, y, z) in mm; None: no interpolation. An axis given
        as None keeps its spacing (``(2, 2, None)``: in-plane interpolation only,
        as IBSI-1 configuration B).
    interpolation : {"linear", "cubic", "nearest"}, default="linear"
        Image interpolation: trilinear, tricubic spline, nearest neighbour.
    mask_threshold : float, default=0.5
        Partial-volume threshold of the linearly interpolated mask: a voxel is in
        the region when its interpolated mask value is >= this.
    round_intensities : bool, default=False
        Round the interpolated intensities to the nearest integer (CT).
    resegment_range : tuple of (float or None), default=None
        ``(low, high)`` re-segmentation range; None for an open end.
    resegment_outliers : float or None, default=None
        Remove voxels further than this many standard deviations from the mean
        (IBSI outlier filtering uses 3).
    discretisation : {"fbn", "fbs", "none"}, default="fbn"
        Fixed bin number, fixed bin size (bins start at the lower bound of the
        re-segmentation range, else at the ROI minimum) or none (the intensities
        are already grey levels 1, 2, ...).
    n_bins : int, default=32
        Number of bins (``fbn``).
    bin_width : float, default=25.0
        Bin size (``fbs``).
    ivh_discretisation : {"fbn", "fbs", "none"} or None, default=None
        Discretisation of the intensity-volume histogram; None: as the texture
        features.
    ivh_n_bins : int, default=1000
    ivh_bin_width : float, default=2.5
    aggregation : tuple of str, default=("3D",)
        Texture aggregation methods to compute, among "2D", "2.5D", "3D".
    families : tuple of str, default=all
        Feature families to compute (see ``FAMILIES``).
    ngldm_alpha : int, default=0
        Coarseness parameter of the NGLDM.
    """

    spacing: tuple | None = None
    interpolation: str = "linear"
    mask_threshold: float = 0.5
    round_intensities: bool = False
    resegment_range: tuple | None = None
    resegment_outliers: float | None = None
    discretisation: str = "fbn"
    n_bins: int = 32
    bin_width: float = 25.0
    ivh_discretisation: str | None = None
    ivh_n_bins: int = 1000
    ivh_bin_width: float = 2.5
    aggregation: tuple = ("3D",)
    families: tuple = FAMILIES
    ngldm_alpha: int = 0

    def __post_init__(self) -> None:
        def fail(name, expected, value):
            raise SettingsError(
                f"IBSI setting {name!r} must be {expected}; got {value!r} instead."
            )

        if self.spacing is not None:
            sp = self.spacing
            if not isinstance(sp, list | tuple) or len(sp) != 3:
                fail("spacing", "null or a list of 3 numbers (x, y, z; null keeps)", sp)
            for v in sp:
                if v is not None and (
                    isinstance(v, bool) or not isinstance(v, int | float) or not v > 0
                ):
                    fail("spacing", "a list of 3 positive numbers or nulls", sp)
            object.__setattr__(
                self, "spacing", tuple(None if v is None else float(v) for v in sp)
            )
        if self.interpolation not in _INTERPOLATIONS:
            fail("interpolation", f"one of {list(_INTERPOLATIONS)}", self.interpolation)
        if not 0 < float(self.mask_threshold) <= 1:
            fail("mask_threshold", "in (0, 1]", self.mask_threshold)
        if not isinstance(self.round_intensities, bool):
            fail("round_intensities", "true or false", self.round_intensities)
        if self.resegment_range is not None:
            rr = self.resegment_range
            if not isinstance(rr, list | tuple) or len(rr) != 2:
                fail("resegment_range", "null or [low, high]", rr)
            lo = -math.inf if rr[0] is None else float(rr[0])
            hi = math.inf if rr[1] is None else float(rr[1])
            if not lo < hi:
                fail("resegment_range", "[low, high] with low < high", rr)
            object.__setattr__(self, "resegment_range", (lo, hi))
        if (
            self.resegment_outliers is not None
            and not float(self.resegment_outliers) > 0
        ):
            fail(
                "resegment_outliers",
                "null or a positive number",
                self.resegment_outliers,
            )
        for name in ("discretisation", "ivh_discretisation"):
            value = getattr(self, name)
            if value is None and name == "ivh_discretisation":
                continue
            if value not in _DISCRETISATIONS:
                fail(name, f"one of {list(_DISCRETISATIONS)}", value)
        for name in ("n_bins", "ivh_n_bins"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(name, "a positive integer", value)
        for name in ("bin_width", "ivh_bin_width"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (value > 0)
            ):
                fail(name, "a positive number", value)
        agg = self.aggregation
        if isinstance(agg, str):
            agg = (agg,)
        agg = tuple(str(a) for a in agg)
        if not agg or any(a not in _AGGREGATIONS for a in agg):
            fail("aggregation", f"a list among {list(_AGGREGATIONS)}", self.aggregation)
        object.__setattr__(self, "aggregation", agg)
        fam = self.families
        if isinstance(fam, str):
            fam = (fam,)
        fam = tuple(fam)
        if any(f not in FAMILIES for f in fam):
            fail("families", f"a list among {list(FAMILIES)}", self.families)
        object.__setattr__(self, "families", fam)
        if (
            isinstance(self.ngldm_alpha, bool)
            or not isinstance(self.ngldm_alpha, int)
            or self.ngldm_alpha < 0
        ):
            fail("ngldm_alpha", "a non-negative integer", self.ngldm_alpha)

    @classmethod
    def from_dict(cls, values: Mapping | None) -> IBSIConfig:
        """Build from a mapping; an unknown key is an error naming it."""
        if values is None:
            return cls()
        if isinstance(values, IBSIConfig):
            return values
        if not isinstance(values, Mapping):
            raise SettingsError(
                "IBSI settings must be a mapping of setting names to values; "
                f"got {type(values).__name__}."
            )
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise SettingsError(
                    f"Unknown IBSI setting {key!r}.{hint} Known IBSI settings: "
                    f"{', '.join(sorted(known))}."
                )
        return cls(**dict(values))

    def to_dict(self) -> dict:
        """Plain dict (lists for tuples), for YAML and hashing."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = [
                    None if isinstance(v, float) and math.isinf(v) else v for v in value
                ]
        return out

    @property
    def ivh_method(self) -> str:
        """The IVH discretisation actually used."""
        return self.ivh_discretisation or self.discretisation


#: The IBSI-1 reference configurations: the digital phantom and the CT
#: radiomics phantom's configurations A-E (IBSI reference manual, table
#: "Parameters for image processing of the CT radiomics phantom").
PHANTOM_CONFIGS: dict[str, IBSIConfig] = {
    "digital_phantom": IBSIConfig(
        discretisation="none",
        ivh_discretisation="none",
        aggregation=("2D", "2.5D", "3D"),
    ),
    "A": IBSIConfig(
        resegment_range=(-500, 400),
        discretisation="fbs",
        bin_width=25,
        ivh_discretisation="none",
        aggregation=("2D", "2.5D"),
    ),
    "B": IBSIConfig(
        spacing=(2, 2, None),
        interpolation="linear",
        round_intensities=True,
        resegment_range=(-500, 400),
        discretisation="fbn",
        n_bins=32,
        ivh_discretisation="none",
        aggregation=("2D", "2.5D"),
    ),
    "C": IBSIConfig(
        spacing=(2, 2, 2),
        interpolation="linear",
        round_intensities=True,
        resegment_range=(-1000, 400),
        discretisation="fbs",
        bin_width=25,
        ivh_discretisation="fbs",
        ivh_bin_width=2.5,
        aggregation=("3D",),
    ),
    "D": IBSIConfig(
        spacing=(2, 2, 2),
        interpolation="linear",
        round_intensities=True,
        resegment_outliers=3.0,
        discretisation="fbn",
        n_bins=32,
        ivh_discretisation="none",
        aggregation=("3D",),
    ),
    "E": IBSIConfig(
        spacing=(2, 2, 2),
        interpolation="cubic",
        round_intensities=True,
        resegment_range=(-1000, 400),
        resegment_outliers=3.0,
        discretisation="fbn",
        n_bins=32,
        ivh_discretisation="fbn",
        ivh_n_bins=1000,
        aggregation=("3D",),
    ),
}
