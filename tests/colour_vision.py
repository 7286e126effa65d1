"""Colour-vision deficiency simulation and colour difference, for the colour-vision tests.

    simulate(colour, deficiency)     "#rrggbb" as a viewer with protanopia or deuteranopia sees it
    ciede2000(lab1, lab2)            the CIEDE2000 colour difference of two CIELAB colours
    lab(colour)                      "#rrggbb" (sRGB, D65) in CIELAB

The simulation is Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of
Color Vision Deficiency", IEEE TVCG 15(6): their published 3x3 matrices for severity 1.0 (complete
dichromacy), applied to linear RGB (sRGB with its transfer curve removed), the result clipped to the gamut.
CIEDE2000 is Sharma, Wu & Dalal (2005), "The CIEDE2000 Color-Difference Formula: Implementation Notes,
Supplementary Test Data, and Mathematical Observations", Color Res. Appl. 30(1) (tests check it on their data).
"""

from __future__ import annotations

import numpy as np

MACHADO_2009 = {  # severity 1.0, linear RGB -> linear RGB
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
D65 = np.array([0.95047, 1.0, 1.08883])


def channels(colour: str) -> np.ndarray:
    """A "#rrggbb" or "#rgb" colour as sRGB in [0, 1]."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return np.array([int(digits[i:i + 2], 16) for i in (0, 2, 4)]) / 255.0


def to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab_of_linear(linear: np.ndarray) -> np.ndarray:
    xyz = SRGB_TO_XYZ @ linear / D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def lab(colour: str, deficiency: str | None = None) -> np.ndarray:
    """CIELAB of ``colour`` as seen with normal vision (None) or with ``deficiency`` simulated."""
    linear = to_linear(channels(colour))
    if deficiency is not None:
        linear = np.clip(MACHADO_2009[deficiency] @ linear, 0.0, 1.0)
    return lab_of_linear(linear)


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 ΔE between two CIELAB colours (kL = kC = kH = 1)."""
    L1, a1, b1 = lab1
    L2, a2, b2 = lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360 if c2p else 0.0
    dLp, dCp = L2 - L1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p if abs(h2p - h1p) <= 180 else
                                     h2p - h1p - 360 if h2p - h1p > 180 else h2p - h1p + 360)
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    Lp_bar, Cp_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_bar = (h1p + h2p) / 2
    else:
        hp_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(hp_bar - 30)) + 0.24 * np.cos(np.radians(2 * hp_bar))
         + 0.32 * np.cos(np.radians(3 * hp_bar + 6)) - 0.20 * np.cos(np.radians(4 * hp_bar - 63)))
    d_theta = 30 * np.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(Cp_bar ** 7 / (Cp_bar ** 7 + 25.0 ** 7))
    s_l = 1 + 0.015 * (Lp_bar - 50) ** 2 / np.sqrt(20 + (Lp_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * Cp_bar, 1 + 0.015 * Cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return float(np.sqrt((dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dCp / s_c) * (dHp / s_h)))


def difference(one: str, other: str, deficiency: str | None = None) -> float:
    """CIEDE2000 between two "#rrggbb" colours as seen with ``deficiency`` (None: normal vision)."""
    return ciede2000(lab(one, deficiency), lab(other, deficiency))
