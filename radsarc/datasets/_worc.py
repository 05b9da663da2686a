"""The public WORC sarcoma radiomics tables (Lipo, Desmoid) and their 100 splits.

The files are bundled in ``radsarc/data/worc`` (see ``PROVENANCE.md`` there):
the feature tables come from radMLBench (MIT), the train/test splits from the
WORC database repository (Apache-2.0).
"""

from __future__ import annotations

import difflib
import logging
from importlib import resources

import pandas as pd

__all__ = [
    "WORC_DATASETS",
    "WORC_PUBLISHED_RESULTS",
    "load_worc_splits",
    "load_worc_table",
]

logger = logging.getLogger(__name__)

#: The bundled WORC data sets, by canonical name.
WORC_DATASETS: tuple[str, ...] = ("Desmoid", "Lipo")

#: Results published by the WORC authors on the same patients and the same 100
#: splits (mean over the splits). ``auc`` is the mean test AUC.
WORC_PUBLISHED_RESULTS: dict[str, dict[str, object]] = {
    "Lipo": {
        "auc": 0.83,
        "source": "Starmans et al., Reproducible radiomics through automated machine "
        "learning validated on twelve clinical applications, arXiv:2108.08618",
        "task": "lipoma (0) vs well-differentiated liposarcoma (1), T1-weighted MRI",
    },
    "Desmoid": {
        "auc": 0.82,
        "source": "Starmans et al., Reproducible radiomics through automated machine "
        "learning validated on twelve clinical applications, arXiv:2108.08618",
        "task": "extremity soft-tissue sarcoma (0) vs desmoid-type fibromatosis (1), "
        "T1-weighted MRI",
    },
}


def _canonical_name(name: str) -> str:
    """Map a case-insensitive data set name to its canonical spelling."""
    if not isinstance(name, str):
        raise TypeError(
            f"The 'name' parameter must be a str among {list(WORC_DATASETS)}; "
            f"got {name!r} of type {type(name).__name__}."
        )
    lookup = {known.lower(): known for known in WORC_DATASETS}
    key = name.strip().lower()
    if key.startswith("worc-"):
        key = key[len("worc-") :]
    if key not in lookup:
        close = difflib.get_close_matches(key, list(lookup), n=1)
        hint = f" Did you mean {lookup[close[0]]!r}?" if close else ""
        raise ValueError(
            f"Unknown WORC data set {name!r}; expected one of {list(WORC_DATASETS)} "
            f"(case-insensitive).{hint}"
        )
    return lookup[key]


def _data_file(filename: str):
    return resources.files("radsarc").joinpath("data", "worc", filename)


def load_worc_table(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load a WORC radiomics table as features and target.

    Parameters
    ----------
    name : {"Lipo", "Desmoid"}
        The data set, case-insensitive (``"WORC-Lipo"`` is accepted as well).

    Returns
    -------
    X : pandas.DataFrame of shape (n_patients, 1015)
        PyRadiomics features (original, LoG and wavelet images of the T1-weighted
        scan), standardised by radMLBench, indexed by patient ID (index name ``"ID"``).
    y : pandas.Series of shape (n_patients,)
        The binary target (name ``"Target"``, values 0/1), same index as ``X``.
        Lipo: 1 = well-differentiated liposarcoma, 0 = lipoma.
        Desmoid: 1 = desmoid-type fibromatosis, 0 = soft-tissue sarcoma.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled data set.

    See Also
    --------
    load_worc_splits : The 100 train/test splits of the WORC paper.

    References
    ----------
    .. [1] Starmans et al., "The WORC database: MRI and CT scans, segmentations, and
       clinical labels for 930 patients from six radiomics studies", medRxiv 2021.
    .. [2] Demircioglu, radMLBench, https://github.com/aydindemircioglu/radMLBench

    Examples
    --------
    >>> from radsarc.datasets import load_worc_table
    >>> X, y = load_worc_table("Lipo")
    >>> X.shape, int(y.sum())
    ((114, 1015), 57)
    """
    canonical = _canonical_name(name)
    with _data_file(f"WORC-{canonical}.csv.gz").open("rb") as handle:
        table = pd.read_csv(handle, compression="gzip")
    table = table.set_index("ID")
    y = table["Target"].astype(int)
    # One float block, not one per column: row selection per split stays cheap.
    X = table.drop(columns="Target").astype(float).copy()
    logger.debug("Loaded WORC-%s: %d patients, %d features", canonical, *X.shape)
    return X, y


def load_worc_splits(name: str) -> list[tuple[pd.Index, pd.Index]]:
    """Load the 100 train/test splits the WORC paper used.

    Parameters
    ----------
    name : {"Lipo", "Desmoid"}
        The data set, case-insensitive.

    Returns
    -------
    splits : list of (train_ids, test_ids)
        100 pairs of :class:`pandas.Index` of patient IDs (stratified 80/20 random
        splits). IDs without a row in :func:`load_worc_table` (the second lesion
        of ``Lipo-073``) and the empty padding cells are dropped. Select rows with
        ``X.loc[train_ids]``.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled data set.

    Examples
    --------
    >>> from radsarc.datasets import load_worc_splits, load_worc_table
    >>> X, y = load_worc_table("Desmoid")
    >>> splits = load_worc_splits("Desmoid")
    >>> len(splits), len(splits[0][0]) + len(splits[0][1]) == len(X)
    (100, True)
    """
    canonical = _canonical_name(name)
    with _data_file(f"WORC_crossvalidationsplits_{canonical}.csv").open("rb") as handle:
        raw = pd.read_csv(handle, index_col=0, dtype=str)
    with _data_file(f"WORC-{canonical}.csv.gz").open("rb") as handle:
        known = pd.Index(pd.read_csv(handle, usecols=["ID"], compression="gzip")["ID"])
    n_splits = len(raw.columns) // 2
    splits = []
    for i in range(n_splits):
        pair = []
        for part in ("train", "test"):
            ids = pd.Index(raw[f"{i}_{part}"].dropna().str.strip(), name="ID")
            unknown = ids.difference(known)
            if len(unknown):
                logger.debug(
                    "WORC-%s split %d %s: dropping IDs without a table row: %s",
                    canonical,
                    i,
                    part,
                    list(unknown),
                )
            pair.append(ids[ids.isin(known)])
        splits.append((pair[0], pair[1]))
    return splits
