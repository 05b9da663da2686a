"""Cohorts: which image and mask files belong to which case, and their labels.

A cohort is read from a manifest CSV (:meth:`Cohort.from_csv`) or from a folder
that follows radsarc's folder convention (:meth:`Cohort.from_directory`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from radsarc._files import read_csv_table
from radsarc.exceptions import CohortValidationError
from radsarc.images._io import IMAGE_SUFFIXES, file_problem, read_image
from radsarc.images._masks import (
    DEFAULT_GEOMETRY_TOLERANCE,
    LoadedMasks,
    MaskError,
    load_masks,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Case", "Cohort", "Problem", "ValidationReport"]

#: Name of the only sequence of a single-sequence cohort (manifest column ``image``).
SINGLE = ""

#: Manifest columns with a meaning; every other column is a clinical covariate.
RESERVED_COLUMNS = ("case_id", "label", "group", "image", "mask", "roi", "reference")
#: Column-name prefixes reserved for per-sequence columns (``image_T1``,
#: ``mask_T1``, ``roi_T1``, ``reference_T1``); a covariate must not start with them.
RESERVED_PREFIXES = ("image_", "mask_", "roi_", "reference_")
_SEQ_RE = re.compile(r"^(image|mask|roi|reference)_(.+)$")
_RESERVED_HINT = (
    "column names starting with 'image_', 'mask_', 'roi_' or 'reference_' are "
    "reserved for the image, mask, roi and reference series of a sequence "
    "(image_<SEQ>, mask_<SEQ>, ...); rename a covariate such as 'image_quality' "
    "(e.g. to 'quality_of_image')"
)


@dataclass(frozen=True)
class Case:
    """One case (patient or lesion) of a cohort.

    Attributes
    ----------
    case_id : str
        Unique identifier.
    images : dict of str to Path
        Image file or DICOM folder per sequence (key ``""`` for a single sequence).
    masks : dict of str to Path
        Mask file per sequence (the same path for every sequence when the manifest
        has one ``mask`` column): a label image, an RTSTRUCT or a DICOM SEG file.
    label : object or None
        The outcome to predict, if known.
    group : object or None
        Centre or scanner, used for harmonisation and external validation.
    covariates : dict
        Any other manifest columns (clinical covariates).
    rois : dict of str to tuple of str
        Per sequence, the structures (RTSTRUCT) or segments (SEG) to use; several
        names give several regions. Empty: the file's only structure.
    references : dict of str to Path
        Per sequence, the DICOM series an RTSTRUCT was drawn on when it is not
        the image itself.
    """

    case_id: str
    images: Mapping[str, Path]
    masks: Mapping[str, Path]
    label: object = None
    group: object = None
    covariates: Mapping[str, object] = field(default_factory=dict)
    rois: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    references: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a cohort.

    Attributes
    ----------
    case_id, sequence, file : str
        Where the problem is (``file`` may be ``""`` for a manifest-level problem).
    check : str
        Which check failed: ``"exists"``, ``"readable"``, ``"dimension"``,
        ``"geometry"``, ``"mask_values"``, ``"roi"``, ``"reference"``,
        ``"label"``, ``"finite"``, ``"binning"``,
        ``"unique_id"``.
    message : str
        What was found and what was expected.
    """

    case_id: str
    sequence: str
    file: str
    check: str
    message: str

    def __str__(self) -> str:
        seq = f" sequence {self.sequence!r}," if self.sequence else ""
        where = f" file {self.file}:" if self.file else ""
        return f"case {self.case_id!r},{seq}{where} {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """The result of :meth:`Cohort.validate`.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, in manifest order.
    n_cases : int
        Number of cases checked.
    resampled : list of tuple
        ``(case_id, sequence)`` whose mask was resampled onto the image grid.
    adjusted : list of tuple
        ``(case_id, sequence, action, offset_mm)`` of label masks that took the
        image grid without being identical to it (header rounding
        ``"aligned"``, ``"embedded"``, ``"reoriented, ..."``, ``"resampled"``);
        extraction records the same in its diagnostics.
    """

    problems: list[Problem]
    n_cases: int
    resampled: list[tuple[str, str]] = field(default_factory=list)
    adjusted: list[tuple[str, str, str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def failed_case_ids(self) -> list[str]:
        """Case ids with at least one problem, in order of first appearance."""
        return list(dict.fromkeys(p.case_id for p in self.problems))

    def to_frame(self) -> pd.DataFrame:
        """The problems as a table (case_id, sequence, file, check, message)."""
        import pandas as pd

        return pd.DataFrame(
            [vars(p) for p in self.problems],
            columns=["case_id", "sequence", "file", "check", "message"],
        )

    def raise_if_problems(self) -> None:
        """Raise :class:`CohortValidationError` listing every problem, if any."""
        if self.problems:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            raise CohortValidationError(
                f"{len(self.problems)} problem(s) in {len(self.failed_case_ids)} of "
                f"{self.n_cases} case(s):\n{lines}",
                self.problems,
            )

    def __str__(self) -> str:
        if self.ok:
            text = f"{self.n_cases} case(s) checked, no problems."
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = (
                f"{self.n_cases} case(s) checked, {len(self.problems)} problem(s) in "
                f"{len(self.failed_case_ids)} case(s):\n{lines}"
            )
        if self.adjusted:
            largest = max(offset for *_, offset in self.adjusted)
            shown = ", ".join(
                f"{cid}{f' [{seq}]' if seq else ''} ({action})"
                for cid, seq, action, _ in self.adjusted[:5]
            )
            more = (
                f" and {len(self.adjusted) - 5} more" if len(self.adjusted) > 5 else ""
            )
            text += (
                f"\n{len(self.adjusted)} mask(s) took the image grid (origin offsets "
                f"up to {largest:.2g} mm): {shown}{more}."
            )
        return text


class Cohort:
    """A set of cases with their image and mask files, labels and covariates.

    Parameters
    ----------
    cases : sequence of Case
        The cases; case ids must be unique.
    source : str, default=""
        Where the cohort was read from (used in messages).

    Attributes
    ----------
    sequences : tuple of str
        The sequences every case has (``("",)`` for a single-sequence cohort).

    See Also
    --------
    Cohort.from_csv, Cohort.from_directory

    Examples
    --------
    >>> from radsarc.images import Cohort
    >>> cohort = Cohort.from_csv("manifest.csv")  # doctest: +SKIP
    >>> report = cohort.validate(label=1)  # doctest: +SKIP
    """

    def __init__(self, cases: list[Case], *, source: str = "") -> None:
        self.cases = list(cases)
        self.source = source
        ids = [c.case_id for c in self.cases]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            problems = [
                Problem(i, "", source, "unique_id", "case id appears more than once")
                for i in duplicated
            ]
            raise CohortValidationError(
                f"Case ids must be unique{' in ' + source if source else ''}; "
                f"duplicated: {', '.join(map(repr, duplicated))}.",
                problems,
            )
        seqs = [tuple(c.images) for c in self.cases]
        self.sequences: tuple[str, ...] = seqs[0] if seqs else ()
        for case, s in zip(self.cases, seqs, strict=True):
            if set(s) != set(self.sequences):
                raise CohortValidationError(
                    f"Case {case.case_id!r} has sequences {list(s)}; expected the "
                    f"cohort's sequences {list(self.sequences)}."
                )
        self._by_id = {c.case_id: c for c in self.cases}

    # -- container protocol -------------------------------------------------
    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __getitem__(self, case_id: str) -> Case:
        try:
            return self._by_id[case_id]
        except KeyError:
            raise KeyError(f"No case {case_id!r} in cohort {self.source}") from None

    def __repr__(self) -> str:
        seqs = ", ".join(s or "<single>" for s in self.sequences)
        return f"Cohort({len(self)} cases, sequences: {seqs})"

    @property
    def case_ids(self) -> list[str]:
        """Case ids in manifest order."""
        return [c.case_id for c in self.cases]

    @property
    def multi_sequence(self) -> bool:
        """True when sequences are named (manifest columns ``image_<SEQ>``)."""
        return self.sequences != (SINGLE,)

    def _per_case(self, attribute: str) -> pd.Series:
        """``case.<attribute>`` of each case, named so, indexed by case id."""
        import pandas as pd

        return pd.Series(
            [getattr(c, attribute) for c in self.cases],
            index=pd.Index(self.case_ids, name="case_id"),
            name=attribute,
        )

    @property
    def labels(self) -> pd.Series:
        """The ``label`` of each case (NaN where unknown), indexed by case id."""
        return self._per_case("label")

    @property
    def groups(self) -> pd.Series:
        """The ``group`` (centre, scanner) of each case, indexed by case id."""
        return self._per_case("group")

    def clinical(self) -> pd.DataFrame:
        """Label, group and covariates of every case, indexed by case id."""
        import pandas as pd

        rows = [
            {"label": c.label, "group": c.group, **dict(c.covariates)}
            for c in self.cases
        ]
        return pd.DataFrame(rows, index=pd.Index(self.case_ids, name="case_id"))

    def subset(self, case_ids) -> Cohort:
        """A cohort of the given case ids, in the given order."""
        return Cohort([self[i] for i in case_ids], source=self.source)

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_csv(
        cls, path: str | os.PathLike, *, roi: str | list[str] | None = None
    ) -> Cohort:
        """Read a cohort from a manifest CSV.

        The manifest has one row per case and the columns:

        - ``case_id`` (required, unique);
        - either ``image`` and ``mask`` (one sequence), or ``image_<SEQ>`` per
          sequence with ``mask_<SEQ>`` per sequence or a single ``mask`` column
          that serves every sequence;
        - optional ``label`` (the outcome) and ``group`` (centre or scanner);
        - optional ``roi`` (or ``roi_<SEQ>``): the structure(s) of an RTSTRUCT or
          segment(s) of a DICOM SEG mask, ``;`` between several regions;
        - optional ``reference`` (or ``reference_<SEQ>``): the DICOM series
          folder an RTSTRUCT was drawn on, when it is not the image;
        - any other column is kept as a clinical covariate.

        Paths are relative to the manifest's folder (absolute paths are kept).
        See ``docs/cohorts.md``.

        Parameters
        ----------
        path : str or path-like
            The manifest CSV.
        roi : str or list of str, default=None
            Structure(s) or segment(s) for cases whose ``roi`` cell is empty
            (``--roi`` on the command line).

        Returns
        -------
        Cohort

        Raises
        ------
        FileNotFoundError
            If the manifest does not exist.
        CohortValidationError
            If required columns are missing, a path cell is empty, or case ids
            are not unique.
        """
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(
                f"Manifest {path} is a folder; expected a manifest CSV file. For a "
                "folder of case folders use Cohort.from_directory (the CLI's "
                "`radsarc validate` takes either)."
            )
        if not path.is_file():
            raise FileNotFoundError(f"Manifest {path} does not exist.")
        # Everything as text (csv module: no pandas import on the one-case path;
        # the same cells as pandas' read_csv with dtype=str): a case id such as
        # "NA" or "nan" must stay a case id; other columns get their types in
        # _from_rows.
        columns, rows = read_csv_table(path, what="Manifest")
        return cls._from_rows(
            columns,
            rows,
            root=path.absolute().parent,
            source=str(path),
            roi=roi,
            typed=(),
        )

    @classmethod
    def from_frame(
        cls,
        table: pd.DataFrame,
        *,
        root: str | os.PathLike = ".",
        source: str = "",
        roi: str | list[str] | None = None,
    ) -> Cohort:
        """Build a cohort from a manifest table (see :meth:`from_csv`)."""
        import pandas as pd

        # Columns of numbers (or other non-text dtypes) keep their values; text
        # columns are typed as a manifest's are.
        typed = {
            str(c).strip()
            for c, dtype in table.dtypes.items()
            if not pd.api.types.is_object_dtype(dtype)
            and not pd.api.types.is_string_dtype(dtype)
        }
        return cls._from_rows(
            [str(c) for c in table.columns],
            [list(row) for row in table.itertuples(index=False, name=None)],
            root=root,
            source=source,
            roi=roi,
            typed=typed,
        )

    @classmethod
    def _from_rows(
        cls,
        columns: list[str],
        rows: list[list],
        *,
        root: str | os.PathLike,
        source: str,
        roi: str | list[str] | None,
        typed,
    ) -> Cohort:
        """:meth:`from_frame` on a header and rows of cells (no pandas needed).

        ``typed`` names the columns whose cells already have their types (a
        DataFrame's number columns); the others are text, typed by
        :func:`_typed`.
        """
        source = source or "the manifest"
        default_roi = roi_names(roi)
        root = Path(root)
        columns = [str(c).strip() for c in columns]
        if "case_id" not in columns:
            raise CohortValidationError(
                f"Manifest {source} has no 'case_id' column; expected columns "
                "'case_id', 'image' (or 'image_<SEQ>') and 'mask' (or 'mask_<SEQ>'). "
                f"Found: {columns}."
            )
        seq_images = sorted(
            m.group(2)
            for c in columns
            if (m := _SEQ_RE.match(c)) and m.group(1) == "image"
        )
        seq_masks = sorted(
            m.group(2)
            for c in columns
            if (m := _SEQ_RE.match(c)) and m.group(1) == "mask"
        )
        # Rows of empty cells only (",,,," below a spreadsheet's table) are no cases.
        blank = [all(_missing_text(v) for v in row) for row in rows]
        rows = [row for row, b in zip(rows, blank, strict=True) if not b]
        if not rows:
            raise CohortValidationError(
                f"Manifest {source} has no rows; expected one row per case below "
                f"the header {columns}."
            )
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise CohortValidationError(
                f"Manifest {source} has repeated column names {repeated}; every "
                "column name must be unique."
            )
        if "image" in columns and seq_images:
            raise CohortValidationError(
                f"Manifest {source} has both an 'image' column and per-sequence "
                "columns "
                f"{['image_' + s for s in seq_images]}; use one or the other "
                f"({_RESERVED_HINT})."
            )
        if "image" in columns:
            sequences = [SINGLE]
            image_col = {SINGLE: "image"}
        elif seq_images:
            sequences = seq_images
            image_col = {s: f"image_{s}" for s in seq_images}
        else:
            raise CohortValidationError(
                f"Manifest {source} has no image column; expected 'image' or one "
                "'image_<SEQ>' column per sequence (e.g. 'image_T1'). "
                f"Found: {columns}."
            )
        mask_col = {}
        for s in sequences:
            if s and s in seq_masks:
                mask_col[s] = f"mask_{s}"
            elif "mask" in columns:
                mask_col[s] = "mask"
            else:
                expected = "'mask'" if not s else f"'mask_{s}' or a shared 'mask'"
                raise CohortValidationError(
                    f"Manifest {source} has no mask column for "
                    f"{'the image' if not s else 'sequence ' + repr(s)}; expected "
                    f"{expected}. Found: {columns}."
                )
        stray = [s for s in seq_masks if s not in sequences]
        if stray:
            raise CohortValidationError(
                f"Manifest {source} has mask columns {['mask_' + s for s in stray]} "
                f"without matching image columns; sequences are {sequences} "
                f"({_RESERVED_HINT})."
            )
        if sequences != [SINGLE]:
            _refuse_covariates_as_sequences(columns, rows, image_col, root, source)
        extra_col: dict[str, dict[str, list[str]]] = {}
        for kind in ("roi", "reference"):
            named = sorted(
                m.group(2)
                for c in columns
                if (m := _SEQ_RE.match(c)) and m.group(1) == kind
            )
            stray = [s for s in named if s not in sequences]
            if stray:
                raise CohortValidationError(
                    f"Manifest {source} has column(s) "
                    f"{[kind + '_' + s for s in stray]} but no such sequence "
                    f"(sequences: {[s for s in sequences if s] or 'one, unnamed'}); "
                    f"{_RESERVED_HINT}."
                )
            extra_col[kind] = {
                s: [c for c in (f"{kind}_{s}" if s else "", kind) if c in columns]
                for s in sequences
            }
        used = {
            "case_id",
            "label",
            "group",
            *image_col.values(),
            *mask_col.values(),
            *(c for cols in extra_col.values() for v in cols.values() for c in v),
        }
        covariate_cols = [c for c in columns if c not in used]
        cells = [list(column) for column in zip(*rows, strict=True)]
        for col in ("label", "group", *covariate_cols):
            if col in columns and col not in typed:
                k = columns.index(col)
                cells[k] = _typed(cells[k])
        rows = [list(row) for row in zip(*cells, strict=True)]

        problems = []
        cases = []
        lines = [int(i) + 2 for i in range(len(blank)) if not blank[i]]
        for row_no, row in zip(lines, rows, strict=True):
            values = dict(zip(columns, row, strict=True))
            case_id = values["case_id"]
            if _missing_text(case_id):
                problems.append(
                    Problem(
                        f"<row {row_no}>",
                        "",
                        source,
                        "case_id",
                        f"row {row_no} has an empty case_id",
                    )
                )
                continue
            case_id = str(case_id).strip()
            images, masks = {}, {}
            for s in sequences:
                for kind, col, out in (
                    ("image", image_col[s], images),
                    ("mask", mask_col[s], masks),
                ):
                    cell = values[col]
                    if kind == "mask" and _missing_text(cell) and "mask" in values:
                        cell = values["mask"]  # a case without its own mask_<SEQ>
                    if _missing_text(cell):
                        problems.append(
                            Problem(
                                case_id,
                                s,
                                source,
                                "exists",
                                f"column {col!r} is empty; expected a path to the "
                                f"{kind} file",
                            )
                        )
                    else:
                        out[s] = _manifest_path(cell, root)
            if len(images) != len(sequences) or len(masks) != len(sequences):
                continue
            rois, references = {}, {}
            for s in sequences:
                cell = _first_given(values, extra_col["roi"][s])
                if cell is not None:
                    names = roi_names(str(cell))
                else:
                    names = _default_for(default_roi, masks[s])
                if names:
                    rois[s] = names
                cell = _first_given(values, extra_col["reference"][s])
                if cell is not None:
                    references[s] = _manifest_path(cell, root)
            cases.append(
                Case(
                    case_id=case_id,
                    images=images,
                    masks=masks,
                    label=_clean(values.get("label")),
                    group=_clean(values.get("group")),
                    covariates={c: _clean(values[c]) for c in covariate_cols},
                    rois=rois,
                    references=references,
                )
            )
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise CohortValidationError(
                f"Manifest {source} has {len(problems)} problem(s):\n{lines}", problems
            )
        return cls(cases, source=source)

    @classmethod
    def from_directory(
        cls,
        root: str | os.PathLike,
        *,
        labels: str | os.PathLike | None = None,
        roi: str | list[str] | None = None,
    ) -> Cohort:
        """Read a cohort from a folder that follows radsarc's folder convention.

        ::

            root/
              labels.csv              optional: case_id, label, group, covariates
              <case_id>/
                image.nii.gz          one sequence ...
                mask.nii.gz
              <case_id>/
                T1.nii.gz             ... or several: the file name is the sequence
                T2FS/                 a DICOM series folder is a sequence too
                mask.nii.gz           one mask for all sequences,
                mask_T2FS.nii.gz      or one per sequence (overrides 'mask')

        Every sub-folder of ``root`` is a case; its name is the case id. Image
        files are those ending in .nii.gz, .nii, .nrrd, .mha, .mhd (and folders of
        DICOM files); file names starting with ``mask`` are masks (a label image,
        or an RTSTRUCT / DICOM SEG file such as ``mask.dcm``).

        Parameters
        ----------
        root : str or path-like
            The cohort folder.
        labels : str or path-like, default=None
            A CSV with ``case_id`` and ``label`` (and optionally ``group`` and
            covariates); default ``root/labels.csv`` when it exists. It may
            hold a ``roi`` column too.
        roi : str or list of str, default=None
            Structure(s) of RTSTRUCT / segment(s) of SEG masks, for cases without
            a ``roi`` in ``labels``.

        Returns
        -------
        Cohort
        """
        import pandas as pd

        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"Cohort folder {root} does not exist.")
        rows = []
        for case_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            row: dict[str, str] = {"case_id": case_dir.name}
            for entry in sorted(case_dir.iterdir()):
                name = _stem(entry)
                if name is None:
                    continue
                if name == "mask" or name.startswith("mask_"):
                    row[name] = str(entry)
                elif name == "image":
                    row["image"] = str(entry)
                else:
                    row[f"image_{name}"] = str(entry)
            rows.append(row)
        if not rows:
            raise CohortValidationError(
                f"Cohort folder {root} has no case folders; expected one folder per "
                "case holding image and mask files."
            )
        table = pd.DataFrame(rows)
        labels_path = Path(labels) if labels is not None else root / "labels.csv"
        if labels is not None and not labels_path.is_file():
            raise FileNotFoundError(f"Labels file {labels_path} does not exist.")
        if labels_path.is_file():
            clinical = pd.read_csv(labels_path, dtype={"case_id": str})
            if "case_id" not in clinical.columns:
                raise CohortValidationError(
                    f"Labels file {labels_path} has no 'case_id' column."
                )
            table = table.merge(clinical, on="case_id", how="left")
        return cls.from_frame(table, root=root, source=str(root), roi=roi)

    # -- validation ---------------------------------------------------------
    def validate(
        self,
        *,
        label: int = 1,
        geometry_tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
        resample_mask: bool = False,
        mask_threshold: float | None = None,
        extra_checks=None,
    ) -> ValidationReport:
        """Check every case's files; report every problem at once.

        Checks, per case and sequence: the image and mask exist and read; the
        image is 3-D; an RTSTRUCT or SEG mask has the requested structures and
        belongs to the image (or to its ``reference`` series); a label mask and
        the image share size, spacing, origin and direction within
        ``geometry_tolerance``; every region holds voxels with ``label``; the
        image has no NaN or infinite voxel inside a region. ``radsarc extract``
        runs the same checks with the same tolerance.

        Parameters
        ----------
        label : int, default=1
            The mask value of the region of interest.
        geometry_tolerance : float, default=1e-3
            Tolerance for spacing and origin (a fraction of the image's voxel
            spacing) and for direction cosines (absolute). Within it, the mask
            takes the image's grid (header rounding); the extraction's
            diagnostics record the offset.
        resample_mask : bool, default=False
            Resample a mask whose geometry differs beyond the tolerance onto the
            image grid (nearest neighbour) instead of reporting a problem; the
            report lists them (the extraction setting ``correctMask: true``).
        mask_threshold : float, optional
            Binarise floating-point (partial-volume) label masks at this value
            (the extraction setting ``maskThreshold``); without it they are
            reported.
        extra_checks : callable, optional
            ``extra_checks(image, loaded)`` -> list of ``(check, message)``,
            called for every case and sequence that passed the checks above
            with its image and :class:`LoadedMasks`; each pair is a problem on
            the image file. ``radsarc validate --settings`` uses it for the
            checks that depend on the extraction settings (NaN voxels a filter
            would read, bin widths that explode the grey levels).

        Returns
        -------
        ValidationReport
        """
        problems: list[Problem] = []
        resampled: list[tuple[str, str]] = []
        adjusted: list[tuple[str, str, str, float]] = []
        for case in self.cases:
            for seq in self.sequences:
                image = None
                if extra_checks is not None:
                    try:
                        image = read_image(case.images[seq])
                    except (ValueError, OSError):
                        image = None  # prepare_case names the file and why
                found, prepared = prepare_case(
                    case,
                    seq,
                    label=label,
                    geometry_tolerance=geometry_tolerance,
                    resample_mask=resample_mask,
                    mask_threshold=mask_threshold,
                    image=image,
                )
                problems.extend(found)
                if prepared is None:
                    continue
                if image is not None and not found:
                    problems.extend(
                        Problem(case.case_id, seq, str(case.images[seq]), check, text)
                        for check, text in extra_checks(image, prepared)
                    )
                grid = prepared.grid
                if grid.action == "resampled":
                    resampled.append((case.case_id, seq))
                if prepared.kind == "image" and grid.action != "identical":
                    adjusted.append((case.case_id, seq, grid.action, grid.offset_mm))
        return ValidationReport(problems, len(self.cases), resampled, adjusted)


def roi_names(value) -> tuple[str, ...]:
    """Region names from a ``roi`` cell or argument: ``;``-separated or a list."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.split(";")
    else:
        parts = []
        for item in value:
            if not isinstance(item, str):
                raise TypeError(
                    f"roi must be a name or a list of names; got {item!r} in {value!r}."
                )
            parts.extend(item.split(";"))
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _default_for(names: tuple[str, ...], mask_path) -> tuple[str, ...]:
    """The default structure names for one mask: ``names`` for an RTSTRUCT or a
    DICOM SEG, nothing for a label image.

    A default (``--roi`` / ``roi=``) names structures of RTSTRUCT or SEG files;
    in a cohort that mixes them with label images (NIfTI, NRRD, a DICOM label
    series), the label images keep their ``label`` region instead of being
    refused. An explicit ``roi`` cell on a label image is still an error.
    """
    if not names:
        return ()
    from radsarc.images._masks import mask_kind

    try:
        kind = mask_kind(mask_path)[0]
    except OSError:  # unreadable: the file checks name it later
        return names
    return names if kind != "image" else ()


def with_default_roi(cohort: Cohort, roi) -> Cohort:
    """``cohort`` with ``roi`` for every case and sequence that has none and
    whose mask is an RTSTRUCT or a DICOM SEG (label images keep their
    ``label`` region)."""
    names = roi_names(roi)
    if not names:
        return cohort
    from dataclasses import replace

    cases = [
        replace(
            case,
            rois={
                s: roi
                for s in cohort.sequences
                if (roi := case.rois.get(s) or _default_for(names, case.masks[s]))
            },
        )
        for case in cohort.cases
    ]
    return Cohort(cases, source=cohort.source)


def prepare_case(
    case: Case,
    seq: str,
    *,
    label: int = 1,
    geometry_tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
    resample_mask: bool = False,
    image: sitk.Image | None = None,
    mask_threshold: float | None = None,
) -> tuple[list[Problem], LoadedMasks | None]:
    """Read and check one case and sequence: (problems, masks on the image grid).

    The masks are None when a problem stops the case; the image is read unless
    given.
    """
    cid = case.case_id
    img_path, mask_path = case.images[seq], case.masks[seq]
    reference = case.references.get(seq)
    problems = []
    paths = [("image", img_path, image), ("mask", mask_path, None)]
    if reference is not None:
        paths.append(("reference series", reference, None))
    for kind, p, given in paths:
        found = None if given is not None else file_problem(p, kind)
        if found is not None:
            missing = found.startswith(f"{kind} file does not")
            check = "exists" if missing else "readable"
            problems.append(Problem(cid, seq, str(p), check, found))
    if problems:
        return problems, None
    try:
        image = image if image is not None else read_image(img_path)
    except ValueError as exc:
        return [Problem(cid, seq, str(img_path), "readable", str(exc))], None
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        return [
            Problem(
                cid,
                seq,
                str(img_path),
                "dimension",
                f"image is {image.GetDimension()}-D with "
                f"{image.GetNumberOfComponentsPerPixel()} component(s) per voxel, size "
                f"{image.GetSize()}; expected a 3-D scalar volume",
            )
        ], None
    try:
        loaded = load_masks(
            image,
            mask_path,
            image_path=img_path,
            rois=tuple(case.rois.get(seq, ())),
            reference=reference,
            label=label,
            tolerance=geometry_tolerance,
            resample=resample_mask,
            threshold=mask_threshold,
        )
    except MaskError as exc:
        return [Problem(cid, seq, exc.file, exc.check, str(exc))], None
    image_values = sitk.GetArrayViewFromImage(image)
    for region, mask in loaded.regions.items():
        where = f"region {region!r}: " if region else ""
        mask_arr = sitk.GetArrayViewFromImage(mask)
        roi = mask_arr == label
        n_roi = int(np.count_nonzero(roi))
        if n_roi == 0:
            present = np.unique(mask_arr)
            shown = ", ".join(str(v) for v in present[:10])
            problems.append(
                Problem(
                    cid,
                    seq,
                    str(mask_path),
                    "label",
                    f"{where}mask has no voxels with label {label} (values present: "
                    f"{shown}); expected a non-empty region with label {label}",
                )
            )
            continue
        values = image_values[roi]
        if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
            n_bad = int(np.count_nonzero(~np.isfinite(values)))
            problems.append(
                Problem(
                    cid,
                    seq,
                    str(img_path),
                    "finite",
                    f"{where}{n_bad} of {n_roi} voxels inside the mask are NaN or "
                    "infinite; expected finite intensities",
                )
            )
    return problems, (None if problems else loaded)


def case_mask(
    case: Case,
    seq: str,
    *,
    label: int = 1,
    image: sitk.Image | None = None,
    geometry_tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
    resample_mask: bool = False,
    mask_threshold: float | None = None,
) -> sitk.Image:
    """The mask of one case and sequence on its image grid, whatever its kind.

    A label image, an RTSTRUCT or a DICOM SEG (with the case's ``roi`` and
    ``reference``), checked as :meth:`Cohort.validate` checks it. Several
    regions are joined into one (value ``label`` where any region is).

    Raises
    ------
    ValueError
        The first problem found, naming the case and the file.
    """
    problems, loaded = prepare_case(
        case,
        seq,
        label=label,
        geometry_tolerance=geometry_tolerance,
        resample_mask=resample_mask,
        image=image,
        mask_threshold=mask_threshold,
    )
    if problems:
        raise ValueError(str(problems[0]))
    masks = list(loaded.regions.values())
    if len(masks) == 1:
        return masks[0]
    inside = np.zeros(sitk.GetArrayViewFromImage(masks[0]).shape, dtype=bool)
    for mask in masks:
        inside |= sitk.GetArrayViewFromImage(mask) == label
    union = sitk.GetImageFromArray((inside * label).astype(np.uint8))
    union.CopyInformation(masks[0])
    return union


def check_case(
    case: Case,
    seq: str,
    *,
    label: int = 1,
    geometry_tolerance: float = DEFAULT_GEOMETRY_TOLERANCE,
    resample_mask: bool = False,
    image: sitk.Image | None = None,
    mask_threshold: float | None = None,
) -> tuple[list[Problem], bool]:
    """Validate one case and sequence; returns (problems, mask_was_resampled)."""
    problems, loaded = prepare_case(
        case,
        seq,
        label=label,
        geometry_tolerance=geometry_tolerance,
        resample_mask=resample_mask,
        image=image,
        mask_threshold=mask_threshold,
    )
    return problems, loaded is not None and loaded.grid.action == "resampled"


def _refuse_covariates_as_sequences(columns, rows, image_col, root, source) -> None:
    """Refuse an ``image_<SEQ>`` column that holds no path at all.

    A covariate named like ``image_quality`` would become a sequence
    ``quality`` whose "files" (``good``, ``3``) fail for every case. A column
    is refused when its values are all numbers, or when none of them looks like
    a path (an existing file or folder, a ``/`` or an image file ending) while
    another image column's do.
    """
    exists = {}
    for col in image_col.values():
        k = columns.index(col)
        cells = [str(row[k]).strip() for row in rows if not _missing_text(row[k])]
        numeric = bool(cells) and all(_is_number(v) for v in cells)
        if numeric:
            raise CohortValidationError(
                f"Manifest {source}, column {col!r}: every value is a number "
                f"(e.g. {cells[0]!r}), not an image path; {_RESERVED_HINT}."
            )
        exists[col] = (
            cells,
            any(
                _manifest_path(v, root).exists()
                or "/" in v
                or "\\" in v
                or v.lower().endswith(IMAGE_SUFFIXES)
                for v in cells
            ),
        )
    if any(found for _, found in exists.values()):
        for col, (cells, found) in exists.items():
            if cells and not found:
                raise CohortValidationError(
                    f"Manifest {source}, column {col!r}: none of its values is a "
                    f"path (e.g. {cells[0]!r}: no such file or folder, no image "
                    f"file ending), while the other image columns hold paths. If "
                    f"{col!r} is not an image sequence, {_RESERVED_HINT}."
                )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _stem(entry: Path) -> str | None:
    """The sequence/mask name of a folder entry, or None if it is not an image."""
    if entry.name.startswith("."):
        return None
    if entry.is_dir():
        return entry.name
    lower = entry.name.lower()
    for suffix in IMAGE_SUFFIXES:
        if lower.endswith(suffix):
            return entry.name[: -len(suffix)]
    return None


_NA_TEXT = {"", "NA", "N/A", "NaN", "nan", "null", "None", "<NA>"}


_NUMBER_RE = re.compile(
    r"[+-]?(?:(?P<int>\d+)|\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+"
    r"|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)",
    re.IGNORECASE,
)


def _number(text: str):
    """``text`` as an int or a float when it is a number (as pandas' to_numeric
    reads it: no underscores, no hexadecimal), else None."""
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        return None
    return int(text) if match.group("int") is not None else float(text)


def _typed(values: list) -> list:
    """Text cells -> numbers where every present value is a number; NA -> None.

    Numbers are ints when every one is a whole number, else floats; cells
    that are not text (a DataFrame's own values) are kept.
    """
    text = [v.strip() if isinstance(v, str) else v for v in values]
    missing = [
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and v in _NA_TEXT)
        for v in text
    ]
    present = [v for v, m in zip(text, missing, strict=True) if not m]
    numbers = [
        _number(v)
        if isinstance(v, str)
        else v
        if isinstance(v, int | float) and not isinstance(v, bool)
        else None
        for v in present
    ]
    if present and all(n is not None for n in numbers):
        as_int = all(float(n).is_integer() for n in numbers)
        found = iter(int(n) if as_int else float(n) for n in numbers)
        return [None if m else next(found) for m in missing]
    return [None if m else v for v, m in zip(text, missing, strict=True)]


def _manifest_path(cell, root: Path) -> Path:
    """A manifest cell as a path: ``~`` expanded, relative to ``root`` (the
    manifest's folder) unless absolute."""
    path = Path(str(cell).strip()).expanduser()
    return path if path.is_absolute() else root / path


def _first_given(values: dict, columns) -> object | None:
    """The first of ``columns`` whose cell in ``values`` is not empty, else None."""
    return next((values[c] for c in columns if not _missing_text(values[c])), None)


def _missing_text(value) -> bool:
    return _missing(value) or not str(value).strip()


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _clean(value):
    """NaN -> None; numpy scalars -> Python scalars."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
