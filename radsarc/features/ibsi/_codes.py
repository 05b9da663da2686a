"""4-character IBSI identifiers of the IBSI engine's features, by tag.

From the IBSI reference manual (github.com/theibsi/ibsi-doc,
``docs/03_Image_features.rst``; copied as
``tests/data/ibsi/ibsi1_feature_codes_from_ibsi_doc.csv``), with the corrections
explained in :mod:`radsarc.features._ibsi`: small zone emphasis ``5QRC`` and the
intensity-histogram minimum / 10th / 90th percentile ``1PR8`` / ``GPMT`` /
``OZ0C`` (DICOM PS3.16 CID 7476 and 7478). The code identifies the feature; the
aggregation method (tag suffix ``_2D_avg``, ``_3D``, ...) is not part of it.
"""

from __future__ import annotations

import re

__all__ = ["IBSI_CODES", "ibsi_feature_code"]

# fmt: off
IBSI_CODES: dict[str, str] = {
    "morph_volume": "RNU0", "morph_vol_approx": "YEKZ", "morph_area_mesh": "C0JK",
    "morph_av": "2PR5", "morph_comp_1": "SKGS", "morph_comp_2": "BQWJ",
    "morph_sph_dispr": "KRCK", "morph_sphericity": "QCFX",
    "morph_asphericity": "25C7", "morph_com": "KLMA", "morph_diam": "L0JK",
    "morph_pca_maj_axis": "TDIC", "morph_pca_min_axis": "P9VJ",
    "morph_pca_least_axis": "7J51", "morph_pca_elongation": "Q3CK",
    "morph_pca_flatness": "N17B", "morph_vol_dens_aabb": "PBX1",
    "morph_area_dens_aabb": "R59B", "morph_vol_dens_ombb": "ZH1A",
    "morph_area_dens_ombb": "IQYR", "morph_vol_dens_aee": "6BDE",
    "morph_area_dens_aee": "RDD2", "morph_vol_dens_mvee": "SWZ1",
    "morph_area_dens_mvee": "BRI8", "morph_vol_dens_conv_hull": "R3ER",
    "morph_area_dens_conv_hull": "7T7F", "morph_integ_int": "99N0",
    "morph_moran_i": "N365", "morph_geary_c": "NPT7",
    "loc_peak_loc": "VJGA", "loc_peak_glob": "0F91",
    "stat_mean": "Q4LE", "stat_var": "ECT3", "stat_skew": "KE2A",
    "stat_kurt": "IPH6", "stat_median": "Y12H", "stat_min": "1GSF",
    "stat_p10": "QG58", "stat_p90": "8DWT", "stat_max": "84IY",
    "stat_iqr": "SALO", "stat_range": "2OJQ", "stat_mad": "4FUA",
    "stat_rmad": "1128", "stat_medad": "N72L", "stat_cov": "7TET",
    "stat_qcod": "9S40", "stat_energy": "N8CA", "stat_rms": "5ZWQ",
    "ih_mean": "X6K6", "ih_var": "CH89", "ih_skew": "88K1", "ih_kurt": "C3I7",
    "ih_median": "WIFQ", "ih_min": "1PR8", "ih_p10": "GPMT", "ih_p90": "OZ0C",
    "ih_max": "3NCY", "ih_mode": "AMMC", "ih_iqr": "WR0O", "ih_range": "5Z3W",
    "ih_mad": "D2ZX", "ih_rmad": "WRZB", "ih_medad": "4RNL", "ih_cov": "CWYJ",
    "ih_qcod": "SLWD", "ih_entropy": "TLU2", "ih_uniformity": "BJ5W",
    "ih_max_grad": "12CE", "ih_max_grad_g": "8E6O", "ih_min_grad": "VQB3",
    "ih_min_grad_g": "RHQZ",
    "ivh_v10": "BC2M", "ivh_v90": "BC2M", "ivh_i10": "GBPN", "ivh_i90": "GBPN",
    "ivh_diff_v10_v90": "DDTU", "ivh_diff_i10_i90": "CNV2", "ivh_auc": "9CMM",
    "cm_joint_max": "GYBY", "cm_joint_avg": "60VM", "cm_joint_var": "UR99",
    "cm_joint_entr": "TU9B", "cm_diff_avg": "TF7R", "cm_diff_var": "D3YU",
    "cm_diff_entr": "NTRS", "cm_sum_avg": "ZGXS", "cm_sum_var": "OEEB",
    "cm_sum_entr": "P6QZ", "cm_energy": "8ZQL", "cm_contrast": "ACUI",
    "cm_dissimilarity": "8S9J", "cm_inv_diff": "IB1Z", "cm_inv_diff_norm": "NDRX",
    "cm_inv_diff_mom": "WF0Z", "cm_inv_diff_mom_norm": "1QCO",
    "cm_inv_var": "E8JP", "cm_corr": "NI2N", "cm_auto_corr": "QWB0",
    "cm_clust_tend": "DG8W", "cm_clust_shade": "7NFM", "cm_clust_prom": "AE86",
    "cm_info_corr1": "R8DG", "cm_info_corr2": "JN9H",
    "rlm_sre": "22OV", "rlm_lre": "W4KF", "rlm_lgre": "V3SW", "rlm_hgre": "G3QZ",
    "rlm_srlge": "HTZT", "rlm_srhge": "GD3A", "rlm_lrlge": "IVPO",
    "rlm_lrhge": "3KUM", "rlm_glnu": "R5YN", "rlm_glnu_norm": "OVBL",
    "rlm_rlnu": "W92Y", "rlm_rlnu_norm": "IC23", "rlm_r_perc": "9ZK5",
    "rlm_gl_var": "8CE5", "rlm_rl_var": "SXLW", "rlm_rl_entr": "HJ9O",
    "szm_sze": "5QRC", "szm_lze": "48P8", "szm_lgze": "XMSY", "szm_hgze": "5GN9",
    "szm_szlge": "5RAI", "szm_szhge": "HW1V", "szm_lzlge": "YH51",
    "szm_lzhge": "J17V", "szm_glnu": "JNSA", "szm_glnu_norm": "Y1RO",
    "szm_zsnu": "4JP3", "szm_zsnu_norm": "VB3A", "szm_z_perc": "P30P",
    "szm_gl_var": "BYLV", "szm_zs_var": "3NSA", "szm_zs_entr": "GU8N",
    "dzm_sde": "0GBI", "dzm_lde": "MB4I", "dzm_lgze": "S1RA", "dzm_hgze": "K26C",
    "dzm_sdlge": "RUVG", "dzm_sdhge": "DKNJ", "dzm_ldlge": "A7WM",
    "dzm_ldhge": "KLTH", "dzm_glnu": "VFT7", "dzm_glnu_norm": "7HP3",
    "dzm_zdnu": "V294", "dzm_zdnu_norm": "IATH", "dzm_z_perc": "VIWW",
    "dzm_gl_var": "QK93", "dzm_zd_var": "7WT1", "dzm_zd_entr": "GBDU",
    "ngt_coarseness": "QCDE", "ngt_contrast": "65HE", "ngt_busyness": "NQ30",
    "ngt_complexity": "HDEZ", "ngt_strength": "1X9X",
    "ngl_lde": "SODN", "ngl_hde": "IMOQ", "ngl_lgce": "TL9H", "ngl_hgce": "OAE7",
    "ngl_ldlge": "EQ3F", "ngl_ldhge": "JA6D", "ngl_hdlge": "NBZI",
    "ngl_hdhge": "9QMG", "ngl_glnu": "FP8K", "ngl_glnu_norm": "5SPA",
    "ngl_dcnu": "Z87G", "ngl_dcnu_norm": "OKJI", "ngl_dc_perc": "6XV8",
    "ngl_gl_var": "1PFV", "ngl_dc_var": "DNX2", "ngl_dc_entr": "FCBV",
    "ngl_dc_energy": "CAS9",
}
# fmt: on

_SUFFIX = re.compile(r"_(2D|2_5D|3D)(_avg|_comb)?$")


def ibsi_feature_code(tag: str) -> str | None:
    """The 4-character IBSI identifier of an IBSI-engine tag, or None.

    ``tag`` may carry the aggregation suffix and a column prefix
    (``original_cm_contrast_3D_avg``, ``T1_original_stat_mean``).

    Examples
    --------
    >>> from radsarc.features.ibsi import ibsi_feature_code
    >>> ibsi_feature_code("cm_contrast_3D_avg")
    'ACUI'
    >>> ibsi_feature_code("T1_original_stat_kurt")
    'IPH6'
    """
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str; got {type(tag).__name__}.")
    stem = _SUFFIX.sub("", tag)
    if stem in IBSI_CODES:
        return IBSI_CODES[stem]
    for key in sorted(IBSI_CODES, key=len, reverse=True):
        if stem.endswith("_" + key):
            return IBSI_CODES[key]
    return None
