"""Exceptions that callers of radsarc may want to catch.

Everything else raises the built-in exception that fits (``ValueError`` for a bad
value, ``TypeError`` for a bad type, ``FileNotFoundError`` for a missing file).
"""

from __future__ import annotations

__all__ = ["CacheWarning", "CaseError", "CohortValidationError", "SettingsError"]


class SettingsError(ValueError):
    """Extraction or preprocessing settings that are unknown, misspelled or invalid."""


class CaseError(RuntimeError):
    """A failure that belongs to one case (and sequence) of a cohort.

    Parameters
    ----------
    case_id : str
        The case the failure belongs to.
    sequence : str
        The MRI sequence (``""`` for a single-sequence cohort).
    stage : str
        The stage of the work that failed: ``"read"``, ``"validate"``, ``"extract"``.
    message : str
        What happened and what was expected.
    path : str, default=None
        The file involved, if any.
    """

    def __init__(
        self,
        case_id: str,
        sequence: str,
        stage: str,
        message: str,
        path: str | None = None,
    ) -> None:
        self.case_id = case_id
        self.sequence = sequence
        self.stage = stage
        self.message = message
        self.path = path
        seq = f", sequence {sequence!r}" if sequence else ""
        super().__init__(f"Case {case_id!r}{seq} ({stage}): {message}")


class CohortValidationError(ValueError):
    """A cohort manifest that cannot be used as it is.

    ``problems`` holds one :class:`radsarc.images.Problem` per problem found, so
    that every problem is reported at once rather than one per run.
    """

    def __init__(self, message: str, problems: list | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)


class CacheWarning(UserWarning):
    """The extraction cache could not be written (full disk, blocked entry).

    The run goes on: every result is still computed and returned; only the
    cache misses them, so the next run computes them again.
    """
