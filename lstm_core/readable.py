"""Numbers as a student reads them, formatted one way wherever they are shown: the lesson quotes them and
the views it links show them with these same functions, so a quoted number can be found on its view.

    scientific(6.48e10) -> "6.5 × 10¹⁰"     scientific(0.35) -> "0.35"
    norm(0.014911)      -> "0.0149"          share(0.02651) -> "2.7%"   share(4.1e-13) -> "4.1 × 10⁻¹³"
"""

from __future__ import annotations

import math

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, digits: int = 2) -> str:
    """A number as a student reads it: 2.3 × 10⁻¹³, 6.5 × 10¹⁰; plainly between 0.01 and 1,000 (12, 0.35)."""
    if value == 0 or 0.01 <= abs(value) < 1000:
        return f"{value:.{digits}g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10 ** exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.96 rounds up to 10
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits}g} × 10{str(exponent).translate(SUPERSCRIPTS)}"


def norm(value: float) -> str:
    """A gradient's norm, three significant digits: 0.0149, 2.3 × 10⁻¹³."""
    return scientific(value, 3)


def share(value: float) -> str:
    """A share of a whole: 2.7%, 72.0%; a vanishing one as a power of ten (4.1 × 10⁻¹³)."""
    return f"{value:.1%}" if abs(value) >= 0.001 else scientific(value, 2)


def bits(value: float) -> str:
    """An entropy: 1.23 bits."""
    return f"{value:.2f} bits"


def percent(value: float) -> str:
    """A share in whole percent: 41%."""
    return f"{value:.0%}"
