"""The IBSI lookup table: every pyradiomics feature and its IBSI counterpart.

One row per pyradiomics feature (``<class>_<Feature>``, deprecated ones included):
the 4-character IBSI identifier, the tag of the IBSI-1 reference tables for the
aggregation pyradiomics computes by default, and whether the pyradiomics value is
the IBSI value ("matches") or not ("differs", with the reason and, where one
exists, the conversion). "matches" is checked against the IBSI digital phantom by
``tests/features/test_ibsi_phantom.py``.

Aggregation (pyradiomics defaults): 3D; GLCM and GLRLM are computed per direction
(13 directions) and the features averaged, IBSI "3D, averaged" (``_3D_avg``);
GLSZM, GLDM and NGTDM use one 3D matrix (``_3D``). pyradiomics' GLDM is IBSI's
neighbouring grey level dependence matrix (NGLDM) with coarseness
``alpha = gldm_a`` (default 0) and Chebyshev distance 1.

Sources of the codes: IBSI reference manual (Zwanenburg et al., arXiv:1612.07003;
github.com/theibsi/ibsi-doc ``docs/03_Image_features.rst``). Where that text is
wrong or silent the code is taken from DICOM PS3.16 (CID 7476 "Size Zone
Feature"), which MIRP uses as well: small zone emphasis is ``5QRC`` (no code in
the manual's text). The manual's text also gives ``1PR8`` to both the minimum and
the 10th percentile of the intensity histogram and ``GPMT`` to its 90th
percentile (DICOM CID 7478: ``GPMT`` and ``OZ0C``); no pyradiomics feature maps to
those three, so they do not appear here.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

__all__ = ["ibsi_code", "ibsi_table"]

MATCHES = "matches"
DIFFERS = "differs"


class _Row(NamedTuple):
    feature: str
    ibsi_code: str | None
    ibsi_tag: str | None
    status: str
    note: str


_SAMPLE_COV = (
    "pyradiomics takes the eigenvalues of the population covariance (divided by N)"
    " of the voxel-centre positions; the IBSI reference values are those of the"
    " sample covariance (divided by N - 1): IBSI = pyradiomics * sqrt(N / (N - 1)),"
    " N = number of voxels in the ROI (< 0.1 % apart when N > 500)."
)
_DEPRECATED_NO_VALUE = (
    "Deprecated in pyradiomics: no value is computed (only a warning is logged)."
)
_DEPRECATED = (
    "Deprecated in pyradiomics: computed only when listed explicitly in featureClass."
)
_NO_SHIFT = (
    " Equal with voxelArrayShift 0 (pyradiomics' default); a non-zero shift is added"
    " to every intensity first."
)
_DISCRETISED = (
    "Computed on the discretised intensities (binWidth/binCount), so it is the IBSI"
    " intensity-histogram feature (ih_*), not an intensity-statistics one (stat_*)."
)


def _rows(cls: str, suffix: str, entries) -> list[_Row]:
    out = []
    for name, code, tag, status, note in entries:
        out.append(
            _Row(
                f"{cls}_{name}",
                code,
                None if tag is None else tag + suffix,
                status,
                note,
            )
        )
    return out


# The rows are tabular data: kept one feature per entry, aligned by hand.
# fmt: off
_SHAPE = _rows("shape", "", [
    ("MeshVolume", "RNU0", "morph_volume", MATCHES, "Volume (mesh)."),
    ("VoxelVolume", "YEKZ", "morph_vol_approx", MATCHES, "Volume (voxel counting)."),
    ("SurfaceArea", "C0JK", "morph_area_mesh", MATCHES, "Surface area (mesh)."),
    ("SurfaceVolumeRatio", "2PR5", "morph_av", MATCHES, "Surface to volume ratio."),
    ("Sphericity", "QCFX", "morph_sphericity", MATCHES, "Sphericity."),
    ("Compactness1", "SKGS", "morph_comp_1", MATCHES,
     f"Compactness 1. {_DEPRECATED}"),
    ("Compactness2", "BQWJ", "morph_comp_2", MATCHES,
     f"Compactness 2. {_DEPRECATED}"),
    ("SphericalDisproportion", "KRCK", "morph_sph_dispr", MATCHES,
     f"Spherical disproportion. {_DEPRECATED}"),
    ("Maximum3DDiameter", "L0JK", "morph_diam", MATCHES, "Maximum 3D diameter."),
    ("MajorAxisLength", "TDIC", "morph_pca_maj_axis", DIFFERS,
     f"Major axis length. {_SAMPLE_COV}"),
    ("MinorAxisLength", "P9VJ", "morph_pca_min_axis", DIFFERS,
     f"Minor axis length. {_SAMPLE_COV}"),
    ("LeastAxisLength", "7J51", "morph_pca_least_axis", DIFFERS,
     f"Least axis length. {_SAMPLE_COV}"),
    ("Elongation", "Q3CK", "morph_pca_elongation", MATCHES,
     "Elongation (a ratio of axis lengths: the covariance normalisation cancels)."),
    ("Flatness", "N17B", "morph_pca_flatness", MATCHES,
     "Flatness (a ratio of axis lengths: the covariance normalisation cancels)."),
    *[
        (f"Maximum2DDiameter{plane}", None, None, DIFFERS,
         "No IBSI feature (IBSI defines only the maximum 3D diameter).")
        for plane in ("Column", "Row", "Slice")
    ],
])

_SHAPE2D = _rows("shape2D", "", [
    (name, None, None, DIFFERS,
     "2D shape (force2D); IBSI defines morphological features in 3D only."
     + (f" {_DEPRECATED}" if name == "SphericalDisproportion" else ""))
    for name in (
        "Elongation", "MajorAxisLength", "MaximumDiameter", "MeshSurface",
        "MinorAxisLength", "Perimeter", "PerimeterSurfaceRatio", "PixelSurface",
        "SphericalDisproportion", "Sphericity",
    )
])

_FIRSTORDER = _rows("firstorder", "", [
    ("Mean", "Q4LE", "stat_mean", MATCHES, "Mean intensity."),
    ("Variance", "ECT3", "stat_var", MATCHES, "Intensity variance."),
    ("Skewness", "KE2A", "stat_skew", MATCHES, "Intensity skewness."),
    ("Kurtosis", "IPH6", "stat_kurt", DIFFERS,
     "pyradiomics gives the kurtosis, IBSI the excess kurtosis:"
     " IBSI = pyradiomics - 3."),
    ("Median", "Y12H", "stat_median", MATCHES, "Median intensity."),
    ("Minimum", "1GSF", "stat_min", MATCHES, "Minimum intensity."),
    ("10Percentile", "QG58", "stat_p10", MATCHES, "10th intensity percentile."),
    ("90Percentile", "8DWT", "stat_p90", MATCHES, "90th intensity percentile."),
    ("Maximum", "84IY", "stat_max", MATCHES, "Maximum intensity."),
    ("InterquartileRange", "SALO", "stat_iqr", MATCHES,
     "Intensity interquartile range."),
    ("Range", "2OJQ", "stat_range", MATCHES, "Intensity range."),
    ("MeanAbsoluteDeviation", "4FUA", "stat_mad", MATCHES,
     "Intensity-based mean absolute deviation."),
    ("RobustMeanAbsoluteDeviation", "1128", "stat_rmad", MATCHES,
     "Intensity-based robust mean absolute deviation."),
    ("Energy", "N8CA", "stat_energy", MATCHES,
     f"Intensity-based energy.{_NO_SHIFT}"),
    ("RootMeanSquared", "5ZWQ", "stat_rms", MATCHES,
     f"Root mean square intensity.{_NO_SHIFT}"),
    ("Entropy", "TLU2", "ih_entropy", MATCHES,
     f"Discretised intensity entropy. {_DISCRETISED}"),
    ("Uniformity", "BJ5W", "ih_uniformity", MATCHES,
     f"Discretised intensity uniformity. {_DISCRETISED}"),
    ("TotalEnergy", None, None, DIFFERS,
     "No IBSI feature: energy times the voxel volume (mm^3)."),
    ("StandardDeviation", None, None, DIFFERS,
     "No IBSI feature; its square is the IBSI intensity variance (ECT3, stat_var)."
     f" {_DEPRECATED}"),
])

_GLCM = _rows("glcm", "_3D_avg", [
    ("Autocorrelation", "QWB0", "cm_auto_corr", MATCHES, "Autocorrelation."),
    ("ClusterProminence", "AE86", "cm_clust_prom", MATCHES, "Cluster prominence."),
    ("ClusterShade", "7NFM", "cm_clust_shade", MATCHES, "Cluster shade."),
    ("ClusterTendency", "DG8W", "cm_clust_tend", MATCHES,
     "Cluster tendency (equal to IBSI sum variance, OEEB)."),
    ("Contrast", "ACUI", "cm_contrast", MATCHES, "Contrast."),
    ("Correlation", "NI2N", "cm_corr", MATCHES, "Correlation."),
    ("DifferenceAverage", "TF7R", "cm_diff_avg", MATCHES,
     "Difference average (equal to IBSI dissimilarity, 8S9J)."),
    ("DifferenceEntropy", "NTRS", "cm_diff_entr", MATCHES, "Difference entropy."),
    ("DifferenceVariance", "D3YU", "cm_diff_var", MATCHES, "Difference variance."),
    ("Id", "IB1Z", "cm_inv_diff", MATCHES, "Inverse difference."),
    ("Idm", "WF0Z", "cm_inv_diff_mom", MATCHES, "Inverse difference moment."),
    ("Idmn", "1QCO", "cm_inv_diff_mom_norm", MATCHES,
     "Normalised inverse difference moment."),
    ("Idn", "NDRX", "cm_inv_diff_norm", MATCHES, "Normalised inverse difference."),
    ("Imc1", "R8DG", "cm_info_corr1", MATCHES, "Information correlation 1."),
    ("Imc2", "JN9H", "cm_info_corr2", MATCHES, "Information correlation 2."),
    ("InverseVariance", "E8JP", "cm_inv_var", MATCHES, "Inverse variance."),
    ("JointAverage", "60VM", "cm_joint_avg", MATCHES, "Joint average."),
    ("JointEnergy", "8ZQL", "cm_energy", MATCHES, "Angular second moment."),
    ("JointEntropy", "TU9B", "cm_joint_entr", MATCHES, "Joint entropy."),
    ("MaximumProbability", "GYBY", "cm_joint_max", MATCHES, "Joint maximum."),
    ("SumAverage", "ZGXS", "cm_sum_avg", MATCHES, "Sum average."),
    ("SumEntropy", "P6QZ", "cm_sum_entr", MATCHES, "Sum entropy."),
    ("SumSquares", "UR99", "cm_joint_var", MATCHES, "Joint variance."),
    ("MCC", None, None, DIFFERS,
     "Maximal correlation coefficient: no IBSI feature."),
    ("Dissimilarity", "8S9J", "cm_dissimilarity", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI dissimilarity equals glcm_DifferenceAverage."),
    ("Homogeneity1", "IB1Z", "cm_inv_diff", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI inverse difference equals glcm_Id."),
    ("Homogeneity2", "WF0Z", "cm_inv_diff_mom", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI inverse difference moment equals glcm_Idm."),
    ("SumVariance", "OEEB", "cm_sum_var", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI sum variance equals glcm_ClusterTendency."),
])

_GLRLM = _rows("glrlm", "_3D_avg", [
    ("ShortRunEmphasis", "22OV", "rlm_sre", MATCHES, "Short runs emphasis."),
    ("LongRunEmphasis", "W4KF", "rlm_lre", MATCHES, "Long runs emphasis."),
    ("LowGrayLevelRunEmphasis", "V3SW", "rlm_lgre", MATCHES,
     "Low grey level run emphasis."),
    ("HighGrayLevelRunEmphasis", "G3QZ", "rlm_hgre", MATCHES,
     "High grey level run emphasis."),
    ("ShortRunLowGrayLevelEmphasis", "HTZT", "rlm_srlge", MATCHES,
     "Short run low grey level emphasis."),
    ("ShortRunHighGrayLevelEmphasis", "GD3A", "rlm_srhge", MATCHES,
     "Short run high grey level emphasis."),
    ("LongRunLowGrayLevelEmphasis", "IVPO", "rlm_lrlge", MATCHES,
     "Long run low grey level emphasis."),
    ("LongRunHighGrayLevelEmphasis", "3KUM", "rlm_lrhge", MATCHES,
     "Long run high grey level emphasis."),
    ("GrayLevelNonUniformity", "R5YN", "rlm_glnu", MATCHES,
     "Grey level non-uniformity."),
    ("GrayLevelNonUniformityNormalized", "OVBL", "rlm_glnu_norm", MATCHES,
     "Normalised grey level non-uniformity."),
    ("RunLengthNonUniformity", "W92Y", "rlm_rlnu", MATCHES,
     "Run length non-uniformity."),
    ("RunLengthNonUniformityNormalized", "IC23", "rlm_rlnu_norm", MATCHES,
     "Normalised run length non-uniformity."),
    ("RunPercentage", "9ZK5", "rlm_r_perc", MATCHES, "Run percentage."),
    ("GrayLevelVariance", "8CE5", "rlm_gl_var", MATCHES, "Grey level variance."),
    ("RunVariance", "SXLW", "rlm_rl_var", MATCHES, "Run length variance."),
    ("RunEntropy", "HJ9O", "rlm_rl_entr", MATCHES, "Run entropy."),
])

_GLSZM = _rows("glszm", "_3D", [
    ("SmallAreaEmphasis", "5QRC", "szm_sze", MATCHES,
     "Small zone emphasis (code from DICOM CID 7476; the manual's text has none)."),
    ("LargeAreaEmphasis", "48P8", "szm_lze", MATCHES, "Large zone emphasis."),
    ("LowGrayLevelZoneEmphasis", "XMSY", "szm_lgze", MATCHES,
     "Low grey level zone emphasis."),
    ("HighGrayLevelZoneEmphasis", "5GN9", "szm_hgze", MATCHES,
     "High grey level zone emphasis."),
    ("SmallAreaLowGrayLevelEmphasis", "5RAI", "szm_szlge", MATCHES,
     "Small zone low grey level emphasis."),
    ("SmallAreaHighGrayLevelEmphasis", "HW1V", "szm_szhge", MATCHES,
     "Small zone high grey level emphasis."),
    ("LargeAreaLowGrayLevelEmphasis", "YH51", "szm_lzlge", MATCHES,
     "Large zone low grey level emphasis."),
    ("LargeAreaHighGrayLevelEmphasis", "J17V", "szm_lzhge", MATCHES,
     "Large zone high grey level emphasis."),
    ("GrayLevelNonUniformity", "JNSA", "szm_glnu", MATCHES,
     "Grey level non-uniformity."),
    ("GrayLevelNonUniformityNormalized", "Y1RO", "szm_glnu_norm", MATCHES,
     "Normalised grey level non-uniformity."),
    ("SizeZoneNonUniformity", "4JP3", "szm_zsnu", MATCHES,
     "Zone size non-uniformity."),
    ("SizeZoneNonUniformityNormalized", "VB3A", "szm_zsnu_norm", MATCHES,
     "Normalised zone size non-uniformity."),
    ("ZonePercentage", "P30P", "szm_z_perc", MATCHES, "Zone percentage."),
    ("GrayLevelVariance", "BYLV", "szm_gl_var", MATCHES, "Grey level variance."),
    ("ZoneVariance", "3NSA", "szm_zs_var", MATCHES, "Zone size variance."),
    ("ZoneEntropy", "GU8N", "szm_zs_entr", MATCHES, "Zone size entropy."),
])

_GLDM = _rows("gldm", "_3D", [
    ("SmallDependenceEmphasis", "SODN", "ngl_lde", MATCHES,
     "Low dependence emphasis."),
    ("LargeDependenceEmphasis", "IMOQ", "ngl_hde", MATCHES,
     "High dependence emphasis."),
    ("LowGrayLevelEmphasis", "TL9H", "ngl_lgce", MATCHES,
     "Low grey level count emphasis."),
    ("HighGrayLevelEmphasis", "OAE7", "ngl_hgce", MATCHES,
     "High grey level count emphasis."),
    ("SmallDependenceLowGrayLevelEmphasis", "EQ3F", "ngl_ldlge", MATCHES,
     "Low dependence low grey level emphasis."),
    ("SmallDependenceHighGrayLevelEmphasis", "JA6D", "ngl_ldhge", MATCHES,
     "Low dependence high grey level emphasis."),
    ("LargeDependenceLowGrayLevelEmphasis", "NBZI", "ngl_hdlge", MATCHES,
     "High dependence low grey level emphasis."),
    ("LargeDependenceHighGrayLevelEmphasis", "9QMG", "ngl_hdhge", MATCHES,
     "High dependence high grey level emphasis."),
    ("GrayLevelNonUniformity", "FP8K", "ngl_glnu", MATCHES,
     "Grey level non-uniformity."),
    ("DependenceNonUniformity", "Z87G", "ngl_dcnu", MATCHES,
     "Dependence count non-uniformity."),
    ("DependenceNonUniformityNormalized", "OKJI", "ngl_dcnu_norm", MATCHES,
     "Normalised dependence count non-uniformity."),
    ("GrayLevelVariance", "1PFV", "ngl_gl_var", MATCHES, "Grey level variance."),
    ("DependenceVariance", "DNX2", "ngl_dc_var", MATCHES,
     "Dependence count variance."),
    ("DependenceEntropy", "FCBV", "ngl_dc_entr", MATCHES,
     "Dependence count entropy."),
    ("GrayLevelNonUniformityNormalized", "5SPA", "ngl_glnu_norm", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI normalised grey level non-uniformity (NGLDM)"
     " equals firstorder_Uniformity."),
    ("DependencePercentage", "6XV8", "ngl_dc_perc", DIFFERS,
     f"{_DEPRECATED_NO_VALUE} IBSI dependence count percentage is 1 by"
     " construction."),
])

_NGTDM = _rows("ngtdm", "_3D", [
    ("Coarseness", "QCDE", "ngt_coarseness", MATCHES, "Coarseness."),
    ("Contrast", "65HE", "ngt_contrast", MATCHES, "Contrast."),
    ("Busyness", "NQ30", "ngt_busyness", MATCHES, "Busyness."),
    ("Complexity", "HDEZ", "ngt_complexity", MATCHES, "Complexity."),
    ("Strength", "1X9X", "ngt_strength", MATCHES, "Strength."),
])
# fmt: on

_TABLE: tuple[_Row, ...] = (
    *_SHAPE,
    *_SHAPE2D,
    *_FIRSTORDER,
    *_GLCM,
    *_GLRLM,
    *_GLSZM,
    *_GLDM,
    *_NGTDM,
)
_BY_FEATURE: dict[str, _Row] = {row.feature: row for row in _TABLE}


def _base_feature(column_name: str) -> str:
    """``[SEQ_]<image type>_<class>_<Feature>`` -> ``<class>_<Feature>``."""
    parts = column_name.rsplit("_", 2)
    return "_".join(parts[-2:])


def ibsi_code(column_name: str) -> str | None:
    """The IBSI identifier of a feature column, or None.

    Parameters
    ----------
    column_name : str
        A feature column as radsarc names it (pyradiomics' name, optionally
        prefixed by the sequence): ``original_glcm_Contrast``,
        ``T1_original_glcm_Contrast``, ``wavelet-LLH_glcm_Contrast``, or the bare
        ``glcm_Contrast``; or a column of the IBSI engine
        (``original_cm_contrast_3D_avg``, see
        :func:`radsarc.features.ibsi.ibsi_feature_code`).

    Returns
    -------
    str or None
        The 4-character IBSI code of the base feature (a filtered feature keeps
        the code of the feature it is computed with), or None when the feature
        has no IBSI counterpart or the name is not a pyradiomics feature.

    See Also
    --------
    ibsi_table : The whole table, with the reference-table tag and status.

    Notes
    -----
    A code says which IBSI feature a column corresponds to, not that the value
    equals it: check the ``status`` column of :func:`ibsi_table` (for example
    ``firstorder_Kurtosis`` carries IPH6 but is IBSI's excess kurtosis + 3).

    Examples
    --------
    >>> from radsarc.features import ibsi_code
    >>> ibsi_code("T1_original_glcm_Contrast")
    'ACUI'
    >>> ibsi_code("wavelet-LLH_glszm_SmallAreaEmphasis")
    '5QRC'
    >>> ibsi_code("original_glcm_MCC") is None
    True
    >>> ibsi_code("T1_original_szm_sze_3D")  # IBSI engine column
    '5QRC'
    """
    if not isinstance(column_name, str):
        raise TypeError(f"column_name must be a str; got {type(column_name).__name__}.")
    row = _BY_FEATURE.get(_base_feature(column_name))
    if row is not None:
        return row.ibsi_code
    from radsarc.features.ibsi._codes import ibsi_feature_code

    return ibsi_feature_code(column_name)


def ibsi_table() -> pd.DataFrame:
    """Every pyradiomics feature with its IBSI counterpart.

    Returns
    -------
    DataFrame
        One row per pyradiomics feature (deprecated ones included), columns:

        - ``feature``: ``<class>_<Feature>``, e.g. ``glcm_JointEnergy``;
        - ``ibsi_code``: the 4-character IBSI identifier, or None;
        - ``ibsi_tag``: the tag of the IBSI-1 reference tables for pyradiomics'
          default aggregation (e.g. ``cm_energy_3D_avg``), or None;
        - ``status``: ``"matches"`` (same definition; checked on the IBSI
          digital phantom) or ``"differs"``;
        - ``note``: the IBSI feature name and, for ``"differs"``, why and how to
          convert.

    See Also
    --------
    ibsi_code : The code of one feature column.

    Examples
    --------
    >>> from radsarc.features import ibsi_table
    >>> table = ibsi_table()
    >>> table.set_index("feature").loc["firstorder_Kurtosis", "status"]
    'differs'
    """
    return pd.DataFrame(list(_TABLE), columns=list(_Row._fields), dtype=object)


def _table_markdown() -> str:
    """:func:`ibsi_table` as the Markdown table pasted into ``docs/ibsi.md``."""
    lines = [
        "| feature | IBSI code | reference tag | status | note |",
        "|---|---|---|---|---|",
    ]
    for row in _TABLE:
        code = f"`{row.ibsi_code}`" if row.ibsi_code else "—"
        tag = f"`{row.ibsi_tag}`" if row.ibsi_tag else "—"
        note = row.note.replace("|", "\\|")
        lines.append(f"| `{row.feature}` | {code} | {tag} | {row.status} | {note} |")
    return "\n".join(lines) + "\n"
