"""The parts every SVG chart of the app is made of: the image's frame and title, round ticks, colour scales,
cells as a PNG, and the hover layer.

``st.html`` keeps no inline SVG, so a chart is an ``<img>`` of its SVG (base64) under a layer of transparent
boxes whose ``title`` the browser shows on hover, placed in percent of the image so that both scale together.

    svg_open(width, height)                 the image's opening tag, in the app's font
    chart_title(title, left)                a chart's bold title
    chart_html(parts, width, height, ...)   the SVG as an image with its hover boxes above it
    hover_grid(place, spans, columns)       hover boxes laid out by the browser as one CSS grid
    ticks(low, high)                        round tick values
    scale_stops(name)                       a Plotly colour scale as positions and RGB rows
    png(rgba)                               cells as a PNG, a pixel each
"""

from __future__ import annotations

import base64
import html
import re
import struct
import zlib

import numpy as np
from plotly.colors import get_colorscale

from lab_ui.render.palette import INK


def svg_open(width: int, height: int) -> str:
    """An SVG image's opening tag, drawn at ``width`` x ``height`` pixels in the app's font."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            'font-family="Source Sans Pro, sans-serif">')


def chart_title(title: str, left: float) -> list[str]:
    return [f'<text x="{left}" y="18" font-size="14" font-weight="600" fill="{INK}">{html.escape(title)}</text>'] \
        if title else []


def svg_image(svg_parts: list[str], alt: str, style: str = "width:100%;display:block") -> str:
    """The SVG as an ``<img>`` (base64)."""
    svg = base64.b64encode("".join(svg_parts).encode()).decode()
    return f'<img src="data:image/svg+xml;base64,{svg}" alt="{html.escape(alt)}" style="{style}">'


def chart_html(svg_parts: list[str], width: int, height: int, alt: str, boxes: list[str], kind: str, data: str = "") -> str:
    """The SVG as an image, the hover boxes (absolutely placed spans, in percent) above it."""
    return (f'<div class="{kind}" {data} style="position:relative;max-width:{width}px">'
            + svg_image(svg_parts, alt) + "".join(boxes) + "</div>")


def hover_span(label: str, style: str = "") -> str:
    """One hover box: a transparent span whose title the browser shows."""
    return f'<span title="{html.escape(label)}"' + (f' style="{style}"' if style else "") + "></span>"


def plot_area(x: float, y: float, w: float, h: float, width: float, height: float) -> str:
    """CSS placing a box over the part (x, y, w, h) of a ``width`` x ``height`` image, in percent."""
    return (f"left:{100 * x / width:.4f}%;top:{100 * y / height:.4f}%;width:{100 * w / width:.4f}%;"
            f"height:{100 * h / height:.4f}%")


def hover_grid(place: str, spans: list[str], columns: int, rows: int | None = None) -> str:
    """The hover boxes over a chart's plot area (``place``, from :func:`plot_area`) as one CSS grid, ``columns``
    wide (and ``rows`` high, for boxes placed by grid-area): the browser lays them out, no box is placed alone."""
    template = f"grid-template-columns:repeat({columns},1fr)" + (f";grid-template-rows:repeat({rows},1fr)" if rows else "")
    return f'<div style="position:absolute;{place};display:grid;{template}">' + "".join(spans) + "</div>"


def hover_box(x: float, y: float, w: float, h: float, width: int, height: int, title: str) -> str:
    """One hover box placed alone over the part (x, y, w, h) of the image."""
    return (f'<span title="{html.escape(title)}" style="position:absolute;left:{100 * x / width:.3f}%;'
            f'top:{100 * y / height:.3f}%;width:{100 * w / width:.3f}%;height:{100 * h / height:.3f}%"></span>')


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values spanning [low, high]."""
    span = high - low or 1.0
    step = 10 ** np.floor(np.log10(span / count))
    step *= next(m for m in (1, 2, 5, 10) if span / (step * m) <= count)
    return [float(t) + 0.0 for t in np.arange(np.ceil(low / step) * step, high + step / 2, step)]  # no -0


def scale_stops(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A Plotly colour scale as (positions, RGB rows)."""
    stops = get_colorscale(name)
    positions = np.array([float(p) for p, _ in stops])
    rgb = np.array([[int(c) for c in re.findall(r"\d+", colour)] for _, colour in stops], dtype=float)
    return positions, rgb


def scale_gradient(name: str, element_id: str, digits: int = 3) -> str:
    """A vertical SVG gradient of a colour scale (its lowest colour at the bottom), for a colour key."""
    positions, rgb = scale_stops(name)
    stops = "".join(f'<stop offset="{p:.{digits}f}" stop-color="rgb({int(c[0])},{int(c[1])},{int(c[2])})"/>'
                    for p, c in zip(positions, rgb))
    return f'<defs><linearGradient id="{element_id}" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient></defs>'


def png(rgba: np.ndarray) -> bytes:
    """A PNG of an (height, width, 4) uint8 image: one pixel per cell, scaled up by the browser."""
    height, width, _ = rgba.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + rgba[y].tobytes() for y in range(height))  # filter type 0 on every row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def png_image(rgba: np.ndarray, x: float, y: float, width: float, height: float) -> str:
    """Cells as an SVG ``<image>`` of their PNG, stretched over (x, y, width, height) unsmoothed."""
    data = base64.b64encode(png(rgba)).decode()
    return (f'<image x="{x}" y="{y}" width="{width}" height="{height}" preserveAspectRatio="none" '
            f'style="image-rendering:pixelated" href="data:image/png;base64,{data}"/>')
