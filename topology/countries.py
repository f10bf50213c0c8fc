"""ISO 3166-1 alpha-2 country codes: the ``country`` of a site or region is checked against them.

Public knowledge: the 249 officially assigned codes of ISO 3166-1 (as maintained by the ISO
3166 Maintenance Agency; ``XK`` and other user-assigned codes are not included).
"""

from __future__ import annotations

__all__ = ["ISO_ALPHA2", "check_country"]

ISO_ALPHA2: frozenset[str] = frozenset([
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
])
"""Every officially assigned ISO 3166-1 alpha-2 code (upper case)."""


def check_country(code: str) -> str:
    """``code`` if it is an ISO 3166-1 alpha-2 code, else :class:`ValueError` with one line.

    Examples
    --------
    >>> check_country("KZ")
    'KZ'
    >>> check_country("kz")
    Traceback (most recent call last):
    ...
    ValueError: 'kz' is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. 'CN', 'KZ')
    """
    if code not in ISO_ALPHA2:
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. 'CN', 'KZ')")
    return code
