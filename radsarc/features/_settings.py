"""Validated, frozen extraction settings (pyradiomics parameter-file format).

Settings come from a pyradiomics parameter file (YAML) or the same structure as a
dict. They are checked up front against the full list of settings pyradiomics
knows (its own ``paramSchema.yaml``): an unknown or misspelled key is an error that
names it and suggests the closest known key, never silently ignored.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from radsarc.exceptions import SettingsError
from radsarc.images import PreprocessingConfig, nyul_landmarks_for
from radsarc.images._filters import FILTER_NAMES, ImageFilter

__all__ = ["ExtractionSettings"]

_INTERPOLATORS = (
    "sitkNearestNeighbor",
    "sitkLinear",
    "sitkBSpline",
    "sitkGaussian",
    "sitkLabelGaussian",
    "sitkHammingWindowedSinc",
    "sitkCosineWindowedSinc",
    "sitkWelchWindowedSinc",
    "sitkLanczosWindowedSinc",
    "sitkBlackmanWindowedSinc",
)
_WEIGHTING = ("euclidean", "manhattan", "infinity", "no_weighting")

# (type, constraint) for every pyradiomics setting. Types: "int", "float", "bool",
# "str", "floats" (list of float), "ints" (list of int), "any". Constraints:
# ("min", v) inclusive, ("gt", v) exclusive, ("range", lo, hi), ("enum", values).
# Transcribed from pyradiomics 3.1 radiomics/schemas/paramSchema.yaml.
_SETTINGS: dict[str, tuple] = {
    "minimumROIDimensions": ("int", ("range", 1, 3)),
    "minimumROISize": ("int", ("gt", 0)),
    "geometryTolerance": ("float", ("gt", 0)),
    "correctMask": ("bool", None),
    "additionalInfo": ("bool", None),
    "label": ("int", ("gt", 0)),
    "label_channel": ("int", ("min", 0)),
    "binWidth": ("float", ("gt", 0)),
    "binCount": ("int", ("gt", 0)),
    "normalize": ("bool", None),
    "normalizeScale": ("float", ("gt", 0)),
    "removeOutliers": ("float", ("gt", 0)),
    "resampledPixelSpacing": ("floats", ("min", 0)),
    "interpolator": ("interpolator", None),
    "padDistance": ("int", ("min", 0)),
    "distances": ("ints", ("gt", 0)),
    "force2D": ("bool", None),
    "force2Ddimension": ("int", ("range", 0, 2)),
    "resegmentRange": ("floats", None),
    "resegmentMode": ("str", ("enum", ("absolute", "relative", "sigma"))),
    "resegmentShape": ("bool", None),
    "preCrop": ("bool", None),
    "sigma": ("floats", ("gt", 0)),
    "start_level": ("int", ("min", 0)),
    "level": ("int", ("gt", 0)),
    "wavelet": ("str", None),
    "gradientUseSpacing": ("bool", None),
    "lbp2DRadius": ("float", ("gt", 0)),
    "lbp2DSamples": ("int", ("min", 1)),
    "lbp2DMethod": ("str", ("enum", ("default", "ror", "uniform", "var"))),
    "lbp3DLevels": ("int", ("min", 1)),
    "lbp3DIcosphereRadius": ("float", ("gt", 0)),
    "lbp3DIcosphereSubdivision": ("int", ("min", 0)),
    "voxelArrayShift": ("int", None),
    "symmetricalGLCM": ("bool", None),
    "weightingNorm": ("weighting", None),
    "gldm_a": ("int", ("min", 0)),
    # radsarc's own: the feature engine, and the IBSI engine's settings.
    "engine": ("str", ("enum", ("pyradiomics", "ibsi"))),
    "ibsi": ("ibsi", None),
    "maskThreshold": ("float", ("gt", 0)),
}
#: Settings of the ``setting`` section that are radsarc's, not pyradiomics'.
RADSARC_SETTINGS = ("engine", "maskThreshold")
#: Settings the IBSI engine reads besides its own ``ibsi`` mapping; every other
#: pyradiomics setting would be ignored by it and is refused.
_IBSI_ENGINE_SETTINGS = {
    "engine",
    "ibsi",
    "label",
    "geometryTolerance",
    "correctMask",
    "additionalInfo",
    "maskThreshold",
}
_VOXEL_SETTINGS: dict[str, tuple] = {
    "kernelRadius": ("int", ("gt", 0)),
    "maskedKernel": ("bool", None),
    "initValue": ("float", None),
    "voxelBatch": ("int", ("gt", 0)),
}
_SECTIONS = (
    "imageType",
    "featureClass",
    "setting",
    "voxelSetting",
    "preprocessing",
    "filter",
)
#: Settings that may be None (meaning "off"), as in pyradiomics' defaults.
_NULLABLE = {
    "minimumROISize",
    "removeOutliers",
    "resampledPixelSpacing",
    "resegmentRange",
    "interpolator",
    "weightingNorm",
    "geometryTolerance",
}


def _freeze(value):
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value):
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# How many values a list setting takes (pyradiomics only fails on them when a
# case is extracted, so every case failed with an AssertionError).
_LENGTHS = {
    "resampledPixelSpacing": ((3,), "3 spacings in mm (x, y, z), 0 to keep an axis"),
    "resegmentRange": ((1, 2), "1 or 2 numbers (lower, and optionally upper bound)"),
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping.

    PyYAML keeps the last value silently: ``binWidth: 25`` then ``binWidth: 5``
    would extract with 5.
    """

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # unhashable key: left to PyYAML's own error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found the key {key!r} twice in one section (lines "
                    f"{seen[key] + 1} and {key_node.start_mark.line + 1}); each "
                    "setting may be given once",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_value(where: str, key: str, value, spec: tuple):
    """Return the value converted to its type, or raise SettingsError."""
    kind, constraint = spec
    if value is None and key in _NULLABLE:
        return None

    def fail(expected: str):
        raise SettingsError(
            f"Setting {where}{key!r} must be {expected}; got {value!r} instead."
        )

    if kind == "bool":
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                fail("an integer" + _describe(constraint))
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail("a number" + _describe(constraint))
        value = float(value)
    elif kind == "str":
        if not isinstance(value, str):
            fail("a string" + _describe(constraint))
    elif kind in ("floats", "ints"):
        if not isinstance(value, list | tuple) or not value:
            fail("a non-empty list of numbers" + _describe(constraint))
        items = []
        for v in value:
            ok_int = isinstance(v, int) and not isinstance(v, bool)
            if kind == "ints" and not ok_int:
                fail("a list of integers" + _describe(constraint))
            if kind == "floats" and (
                isinstance(v, bool) or not isinstance(v, int | float)
            ):
                fail("a list of numbers" + _describe(constraint))
            _check_constraint(where, key, v, constraint, value)
            items.append(float(v) if kind == "floats" else int(v))
        if key in _LENGTHS and len(items) not in _LENGTHS[key][0]:
            fail(_LENGTHS[key][1])
        return items
    elif kind == "interpolator":
        if isinstance(value, str):
            if value not in _INTERPOLATORS:
                raise SettingsError(
                    f"Setting {where}'interpolator' must be one of "
                    f"{list(_INTERPOLATORS)};"
                    f" got {value!r} instead.{_suggest(value, _INTERPOLATORS)}"
                )
        elif (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= 10
        ):
            fail(f"one of {list(_INTERPOLATORS)} (or an integer 1-10)")
        return value
    elif kind == "ibsi":
        from radsarc.features.ibsi import IBSIConfig

        if not isinstance(value, Mapping):
            fail("a mapping of IBSI engine settings (see radsarc.features.ibsi)")
        return IBSIConfig.from_dict(value).to_dict()
    elif kind == "weighting":
        if value not in _WEIGHTING:
            fail(f"one of {list(_WEIGHTING)} or null")
        return value
    _check_constraint(where, key, value, constraint, value)
    return value


def _describe(constraint) -> str:
    if constraint is None:
        return ""
    tag = constraint[0]
    if tag == "min":
        return f" >= {constraint[1]}"
    if tag == "gt":
        return f" > {constraint[1]}"
    if tag == "range":
        return f" in [{constraint[1]}, {constraint[2]}]"
    return f" among {list(constraint[1])}"


def _check_constraint(where, key, v, constraint, shown) -> None:
    if constraint is None:
        return
    tag = constraint[0]
    bad = (
        (tag == "min" and v < constraint[1])
        or (tag == "gt" and v <= constraint[1])
        or (tag == "range" and not constraint[1] <= v <= constraint[2])
        or (tag == "enum" and v not in constraint[1])
    )
    if bad:
        raise SettingsError(
            f"Setting {where}{key!r} must be{_describe(constraint)}; "
            f"got {shown!r} instead."
        )


def _check_settings(where: str, values, schema: dict) -> dict:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise SettingsError(
            f"{where or 'setting'} must be a mapping of setting names to values; "
            f"got {type(values).__name__}."
        )
    out = {}
    for key, value in values.items():
        if key not in schema:
            raise SettingsError(
                f"Unknown setting {where}{key!r}.{_suggest(str(key), schema)} "
                f"Known settings: {', '.join(sorted(schema))}."
            )
        out[key] = _check_value(where, key, value, schema[key])
    return out


def _check_filters(where: str, filters) -> tuple[ImageFilter, ...]:
    """The ``filter`` section -> validated :class:`ImageFilter` objects."""
    if filters is None:
        return ()
    if (
        isinstance(filters, Mapping)
        or isinstance(filters, str)
        or not isinstance(filters, list | tuple)
    ):
        raise SettingsError(
            f"{where}Section 'filter' must be a list of filters, each a mapping "
            f"with 'name' and its parameters; got {type(filters).__name__}."
        )
    out = []
    seen: dict[str, int] = {}
    for i, item in enumerate(filters):
        if isinstance(item, ImageFilter):
            out.append(item)
        else:
            if not isinstance(item, Mapping) or "name" not in item:
                raise SettingsError(
                    f"{where}filter[{i}] must be a mapping with 'name' (one of "
                    f"{', '.join(FILTER_NAMES)}) and the filter's parameters; "
                    f"got {item!r}."
                )
            params = {k: _thaw(v) for k, v in item.items() if k != "name"}
            try:
                out.append(ImageFilter(str(item["name"]), params))
            except ValueError as exc:
                raise SettingsError(f"{where}filter[{i}]: {exc}") from None
        name = out[-1].type_name
        if name in seen:
            raise SettingsError(
                f"{where}filter[{i}] gives the same image type {name!r} as "
                f"filter[{seen[name]}] (only the boundary condition differs?); "
                "each filter must give distinct feature columns."
            )
        seen[name] = i
    return tuple(out)


@dataclass(frozen=True)
class ExtractionSettings:
    """Frozen, validated feature-extraction settings.

    The structure is pyradiomics' parameter file: ``imageType`` (filters and
    their own settings), ``featureClass`` (classes and optionally their
    features), ``setting`` and ``voxelSetting``. Missing sections take
    pyradiomics' defaults: the original image only, and every feature class.

    Parameters
    ----------
    image_types : mapping, default={"Original": {}}
        Enabled image types and their per-type settings.
    feature_classes : mapping, default={}
        Enabled feature classes; a value of ``None`` or an empty list enables every
        (non-deprecated) feature of the class. Empty mapping: every class.
    setting : mapping, default={}
        pyradiomics settings (``binWidth``, ``label``, ``resampledPixelSpacing``, ...).
    voxel_setting : mapping, default={}
        Settings of voxel-based extraction.
    preprocessing : PreprocessingConfig or mapping, default={}
        radsarc's MRI preprocessing steps (N4, resampling, normalisation,
        resegmentation, peritumoral ring), applied before pyradiomics; see
        :class:`radsarc.images.PreprocessingConfig`.
    filters : sequence of mapping, default=()
        IBSI-2 convolutional filters (the ``filter`` section of the parameter
        file): each a mapping with ``name`` (mean, log, laws, gabor, wavelet,
        simoncelli) and that filter's parameters. Each adds an image type whose
        features are computed like pyradiomics' filtered images, with columns
        prefixed by its name (``ibsi2-laws-L5E5E5-energy-7-invariant-max-3D_...``);
        see docs/extraction.md.
    source : str, default=""
        Where the settings were read from (for messages only; not hashed).

    Notes
    -----
    Build instances with :meth:`from_yaml`, :meth:`from_dict` or :meth:`coerce`;
    they validate every key. The :attr:`digest` identifies the settings in the
    extraction cache, together with the engine version.
    """

    image_types: Mapping = field(default_factory=lambda: {"Original": {}})
    feature_classes: Mapping = field(default_factory=dict)
    setting: Mapping = field(default_factory=dict)
    voxel_setting: Mapping = field(default_factory=dict)
    preprocessing: PreprocessingConfig | Mapping = field(
        default_factory=PreprocessingConfig
    )
    filters: tuple = ()
    source: str = ""

    def __post_init__(self) -> None:
        try:
            self._validate()
        except SettingsError as exc:
            if self.source and self.source not in str(exc):
                raise SettingsError(f"In settings file {self.source}: {exc}") from None
            raise

    def _validate(self) -> None:
        from radsarc.features import _pyradiomics as engine

        where = f"in {self.source}: " if self.source else ""
        setting = _check_settings("", self.setting, _SETTINGS)
        voxel = _check_settings("voxelSetting.", self.voxel_setting, _VOXEL_SETTINGS)
        if "binWidth" in setting and "binCount" in setting:
            raise SettingsError(
                f"{where}Settings 'binWidth' and 'binCount' are both given; "
                "expected one "
                "discretisation: a fixed bin width or a fixed bin count."
            )
        if setting.get("engine") == "ibsi":
            self._validate_ibsi(setting)
        elif "ibsi" in setting:
            raise SettingsError(
                "Setting 'ibsi' configures the IBSI engine; expected "
                "'engine: ibsi' with it (the default engine is pyradiomics)."
            )
        image_types = {}
        known_types = engine.image_types()
        for name, opts in dict(self.image_types or {"Original": {}}).items():
            if name not in known_types:
                raise SettingsError(
                    f"{where}Unknown image type {name!r}.{_suggest(name, known_types)} "
                    f"Known image types: {', '.join(known_types)}."
                )
            image_types[name] = _check_settings(f"imageType.{name}.", opts, _SETTINGS)
        if not image_types:
            image_types = {"Original": {}}
        classes = engine.feature_classes()
        feature_classes = {}
        for name, feats in dict(self.feature_classes or {}).items():
            if name not in classes:
                raise SettingsError(
                    f"{where}Unknown feature class {name!r}.{_suggest(name, classes)} "
                    f"Known feature classes: {', '.join(sorted(classes))}."
                )
            if feats is None or (isinstance(feats, list | tuple) and not feats):
                feature_classes[name] = None
                continue
            if isinstance(feats, str) or not isinstance(feats, list | tuple):
                raise SettingsError(
                    f"{where}featureClass {name!r} must be null or a list of feature "
                    f"names; got {feats!r}."
                )
            for feat in feats:
                if feat not in classes[name]:
                    raise SettingsError(
                        f"{where}Unknown feature {feat!r} in class {name!r}."
                        f"{_suggest(str(feat), classes[name])} Known features: "
                        f"{', '.join(classes[name])}."
                    )
            feature_classes[name] = list(feats)
        object.__setattr__(self, "filters", _check_filters("", self.filters))
        object.__setattr__(self, "image_types", _freeze(image_types))
        object.__setattr__(self, "feature_classes", _freeze(feature_classes))
        object.__setattr__(self, "setting", _freeze(setting))
        object.__setattr__(self, "voxel_setting", _freeze(voxel))
        if not isinstance(self.preprocessing, PreprocessingConfig):
            object.__setattr__(
                self, "preprocessing", PreprocessingConfig.from_dict(self.preprocessing)
            )

    def _validate_ibsi(self, setting: dict) -> None:
        for key in setting:
            if key not in _IBSI_ENGINE_SETTINGS:
                raise SettingsError(
                    f"Setting {key!r} is a pyradiomics setting and is not "
                    "used by the IBSI engine; give the processing under "
                    "'setting: {ibsi: {...}}' (radsarc.features.ibsi.IBSIConfig: "
                    "spacing, interpolation, resegment_range, discretisation, "
                    "n_bins, bin_width, ...)."
                )
        types = dict(self.image_types or {"Original": {}})
        if set(types) != {"Original"} or types["Original"]:
            raise SettingsError(
                f"The IBSI engine does not use pyradiomics' image types; "
                f"got imageType {sorted(types)}. IBSI-2 filters go in the "
                "'filter' section."
            )
        steps = getattr(self.preprocessing, "steps", None) or (
            self.preprocessing if isinstance(self.preprocessing, Mapping) else {}
        )
        ibsi = setting.get("ibsi") or {}
        for step, key in (("resample", "spacing"), ("resegment", "resegment_range")):
            if step in steps and ibsi.get(key) is not None:
                raise SettingsError(
                    f"Both preprocessing.{step} and setting.ibsi.{key} are "
                    f"given; expected one of them (the IBSI engine would {step} "
                    "again what preprocessing produced)."
                )
        if self.feature_classes:
            raise SettingsError(
                "featureClass selects pyradiomics classes; with "
                "'engine: ibsi' choose IBSI families with "
                "'setting: {ibsi: {families: [morph, stat, cm, ...]}}'."
            )

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_dict(cls, params: Mapping, *, source: str = "") -> ExtractionSettings:
        """Settings from a dict shaped like a pyradiomics parameter file."""
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise SettingsError(
                f"Extraction settings{' in ' + source if source else ''} must be a "
                f"mapping with sections {list(_SECTIONS)}; got {type(params).__name__}."
            )
        for key in params:
            if key not in _SECTIONS:
                raise SettingsError(
                    f"Unknown section {key!r} in extraction settings"
                    f"{' ' + source if source else ''}.{_suggest(str(key), _SECTIONS)} "
                    f"Expected sections: {', '.join(_SECTIONS)}."
                )
        return cls(
            image_types=params.get("imageType") or {"Original": {}},
            feature_classes=params.get("featureClass") or {},
            setting=params.get("setting") or {},
            voxel_setting=params.get("voxelSetting") or {},
            preprocessing=params.get("preprocessing") or {},
            filters=params.get("filter") or (),
            source=source,
        )

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> ExtractionSettings:
        """Settings from a pyradiomics parameter file (YAML or JSON).

        A bare name that is not a file in the working folder, such as ``"mri"``,
        names a parameter file bundled with radsarc (see :meth:`bundled`).
        """
        path = Path(path)
        if not path.is_file():
            bundled = cls.bundled()
            if (
                path.parent == Path(".")
                and path.stem in bundled
                and (path.suffix in ("", ".yaml"))
            ):
                path = bundled[path.stem]
            else:
                raise FileNotFoundError(
                    f"Settings file {path} does not exist (settings bundled with "
                    f"radsarc, usable by name: {sorted(bundled)})."
                )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SettingsError(
                f"Settings file {path} is not UTF-8 text ({exc.reason} at byte "
                f"{exc.start}); expected a YAML parameter file."
            ) from None
        try:
            params = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - safe
        except yaml.YAMLError as exc:
            raise SettingsError(
                f"Settings file {path} is not valid YAML: {exc}"
            ) from None
        if params is None:
            raise SettingsError(
                f"Settings file {path} is empty (or holds only comments); expected "
                "a parameter file with sections such as 'setting', 'imageType' and "
                "'featureClass'. For pyradiomics' defaults, give no settings file."
            )
        return cls.from_dict(params, source=str(path))

    @staticmethod
    def bundled() -> dict[str, Path]:
        """Parameter files shipped with radsarc, by name (``{"mri": Path(...)}``).

        Each is a commented YAML file (``radsarc/data/params/<name>.yaml``) that
        :meth:`from_yaml`, :meth:`coerce`, ``extract_features(cohort, "mri")``
        and ``radsarc extract --settings mri`` accept by its name.
        """
        folder = Path(__file__).resolve().parents[1] / "data" / "params"
        return {p.stem: p for p in sorted(folder.glob("*.yaml"))}

    @classmethod
    def coerce(cls, settings) -> ExtractionSettings:
        """Accept settings, a dict, a path to a parameter file, or None (defaults)."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        if isinstance(settings, Mapping):
            return cls.from_dict(settings)
        if isinstance(settings, str | os.PathLike):
            return cls.from_yaml(settings)
        raise TypeError(
            "settings must be ExtractionSettings, a dict, a path to a pyradiomics "
            f"parameter file, or None; got {type(settings).__name__}."
        )

    def with_nyul_landmarks(
        self, cohort, *, region: str = "body"
    ) -> ExtractionSettings:
        """These settings with Nyul normalisation learned on ``cohort``.

        Pass the **training** cases only: the landmarks are then part of the
        settings (and of the cache key and a saved model), and test or new
        cases are mapped onto the training scale.

        Parameters
        ----------
        cohort : Cohort
            Training cohort.
        region : {"body", "roi"}, default="body"
            Region whose intensity percentiles define the landmarks.

        Returns
        -------
        ExtractionSettings
        """
        steps = self.preprocessing.to_dict()
        landmarks = nyul_landmarks_for(
            cohort, self.preprocessing, label=self.label, region=region
        )
        steps["normalize"] = {
            "method": "nyul",
            "region": region,
            "landmarks": landmarks,
        }
        return ExtractionSettings(
            image_types=self.image_types,
            feature_classes=self.feature_classes,
            setting=self.setting,
            voxel_setting=self.voxel_setting,
            preprocessing=steps,
            filters=self.filters,
            source=self.source,
        )

    # -- derived ------------------------------------------------------------
    @property
    def engine(self) -> str:
        """The feature engine: ``"pyradiomics"`` (default) or ``"ibsi"``."""
        return str(self.setting.get("engine", "pyradiomics"))

    @property
    def ibsi_config(self):
        """The :class:`radsarc.features.ibsi.IBSIConfig` of the IBSI engine."""
        from radsarc.features.ibsi import IBSIConfig

        return IBSIConfig.from_dict(_thaw(self.setting.get("ibsi")) or {})

    @property
    def label(self) -> int:
        """The mask label of the region of interest (pyradiomics ``label``)."""
        return int(self.setting.get("label", 1))

    def to_dict(self) -> dict:
        """The pyradiomics parameter dict (plain, mutable).

        The ``preprocessing`` section is radsarc's own and not part of it: see
        :meth:`to_full_dict`.
        """
        out = {
            "imageType": _thaw(self.image_types),
            "featureClass": _thaw(self.feature_classes),
            "setting": _thaw(self.setting),
        }
        if self.voxel_setting:
            out["voxelSetting"] = _thaw(self.voxel_setting)
        if not out["featureClass"]:
            del out["featureClass"]
        return out

    def pyradiomics_params(self) -> dict:
        """:meth:`to_dict` without radsarc's own settings (``engine``,
        ``maskThreshold``), which pyradiomics' parameter schema refuses."""
        out = self.to_dict()
        for key in RADSARC_SETTINGS:
            out["setting"].pop(key, None)
        return out

    def to_full_dict(self) -> dict:
        """Everything: the pyradiomics parameters and the ``preprocessing`` section."""
        out = self.to_dict()
        if self.preprocessing:
            out["preprocessing"] = self.preprocessing.to_dict()
        if self.filters:
            out["filter"] = [f.to_dict() for f in self.filters]
        return out

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical settings and the engine version."""
        from radsarc.features import _pyradiomics as engine

        version = engine.ENGINE
        if self.engine == "ibsi":
            from radsarc.features.ibsi import ENGINE as IBSI_ENGINE

            version = f"{IBSI_ENGINE}; {engine.ENGINE}"  # its mesh tables
        blob = json.dumps(
            {"settings": self.to_full_dict(), "engine": version},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_yaml(self) -> str:
        """The settings as a pyradiomics parameter file."""
        return yaml.safe_dump(self.to_full_dict(), sort_keys=False)
