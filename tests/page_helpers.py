"""Helpers for the page tests: opening a page with a link, the charts it drew (Plotly figures and the SVG
charts of lab_ui.render.heatmaps and lab_ui.render.charts), and their data as numpy."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

PAGES = Path(__file__).resolve().parent.parent / "pages"


def figures(at) -> list[dict]:
    """Every Plotly chart of an AppTest run, as its JSON spec."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def component_data(at) -> list:
    """The data of every custom component on the page (or a block of it), in page order."""
    return [json.loads(element.proto.json) for element in at.get("bidi_component")]


def live_panel(at) -> dict | None:
    """What a page sent its live training panel (lab_ui.live_view): parts [[name, HTML], ...] and
    figures [[label, value, help], ...]; None while it has none."""
    panels = (data for data in component_data(at) if isinstance(data, dict) and "parts" in data and "figures" in data)
    return next(panels, None)


def live_figures(at) -> dict[str, str]:
    """The live panel's figures, label -> value as shown."""
    panel = live_panel(at)
    return {label: value for label, value, _ in panel["figures"]} if panel else {}


def html_views(at) -> list[str]:
    """The bodies drawn by lab_ui.html_view.show_html (its component's data is the body), in page order."""
    return [data for data in component_data(at) if isinstance(data, str)]


def html_bodies(at) -> list[str]:
    """Every HTML body of a page (or a block of it): its st.html elements, its lab_ui.html_view bodies and the
    parts of its live panel."""
    panel = live_panel(at)
    return ([h.proto.body for h in at.get("html")] + html_views(at)
            + [body for _, body in (panel["parts"] if panel else []) if body])


def table_display(table) -> pd.DataFrame:
    """What the browser shows of an ``st.table`` (an AppTest table element): the styler's display values,
    formatted and escaped as sent, where ``table.value`` is the data before formatting."""
    return pa.ipc.open_stream(table.proto.arrow_data.styler.display_values).read_pandas()


def unescaped(markdown: str) -> str:
    """What a reader sees of Markdown text escaped by lab_ui.safe_text: the backslashes dropped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def html_tables(at) -> list[pd.DataFrame]:
    """The tables a page drew as HTML (lab_ui.render.tables.table_html), each as a frame of its cells' texts."""
    frames = []
    for body in html_bodies(at):
        for table in re.findall(r'<table class="lab-table">(.*?)</table>', body, re.S):
            def cells(row, tag):
                return [html.unescape(c) for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", row, re.S)]
            rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
            frames.append(pd.DataFrame([cells(row, "td") for row in rows[1:]], columns=cells(rows[0], "th")))
    return frames


def array(value) -> np.ndarray:
    """A plotly data array, plain or typed ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array(value)


def open_app(page, **query):
    """An AppTest of ``page`` (a path relative to tests/, or ``PAGES / "1_train.py"``) opened with the link's
    ``query`` (a setting given as None is left out of the link), run once, and checked for exceptions."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(page), default_timeout=60)
    for name, value in query.items():
        if value is not None:
            at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_boxes(at) -> list[str]:
    """The texts of the model shown in text boxes (lab_ui.render.text_box.show_text), in page order, in ``at`` (a
    run's page, or one of its blocks)."""
    found = (re.search(r'<pre class="text-box"[^>]*>(.*)</pre>', h.proto.body, re.S) for h in at.get("html"))
    return [html.unescape(match.group(1)) for match in found if match]


def svg_of(body: str) -> str:
    """The SVG image inside an SVG chart's HTML."""
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body).group(1)).decode()


def hover_labels(body: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', body)]


def svg_heatmaps(at) -> list[dict]:
    """The heatmaps drawn (an SVG image under a grid of hover labels): title, quantity, units, column ticks,
    colour key, and each cell's value read from its column's hover label."""
    maps = []
    for body in html_bodies(at):
        if 'class="gate-heatmap"' not in body:
            continue
        svg = svg_of(body)
        units = [int(u) for u in re.search(r'data-units="([^"]*)"', body).group(1).split(",")]
        columns = [label.split("\n")[1:] for label in hover_labels(body) if label.startswith("step ")]
        cells = [line.removeprefix("unit ").split(": ") for line in sum(zip(*columns), ())]  # row by row
        maps.append({"title": html.unescape(re.search(r'font-weight="600"[^>]*>([^<]*)<', svg).group(1)),
                     "quantity": re.search(r'data-quantity="([^"]*)"', body).group(1), "units": units,
                     "ticks": [html.unescape(t) for t in re.findall(r'class="tick">([^<]*)<', svg)],
                     "key": [html.unescape(t) for t in re.findall(r'class="key">([^<]*)<', svg)],
                     "cell_units": [int(u) for u, _ in cells],
                     "values": np.array([float(v) for _, v in cells]).reshape(len(units), -1) if cells else None})
    return maps


def svg_chart(at, kind: str) -> dict | None:
    """The first SVG chart of ``kind`` (its class: "probability-bars", "entropy-line",
    "saturation-over-training"...): its legend, tick labels, hover labels, marked x and, for bars, the values
    of each series; None when the page has none."""
    body = next((body for body in html_bodies(at) if f'class="{kind}"' in body), None)
    if body is None:
        return None
    svg = svg_of(body)
    values = re.search(r'data-values="([^"]*)"', body)
    mark = re.search(r'data-mark="([^"]*)"', body)
    return {"legend": [html.unescape(t) for t in re.findall(r'class="legend">([^<]*)<', svg)],
            "ticks": [html.unescape(t) for t in re.findall(r'class="tick">([^<]*)<', svg)],
            "hover": hover_labels(body), "mark": float(mark.group(1)) if mark else None,
            "values": {name: np.array(v) for name, v in json.loads(html.unescape(values.group(1))).items()}
            if values else None}


def shown_text(at) -> str:
    """Everything a page shows as text, joined: its titles, markdown, captions, alerts, metrics, tables, text
    boxes, the visible text of its HTML bodies and its charts' data (Plotly specs). What a reader can find."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning",
                                  "error", "code", "text") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.get("metric")]
    parts += [html.unescape(re.sub(r"<[^>]+>", " ", body)) for body in html_bodies(at)]
    parts += [frame.to_string() for frame in html_tables(at)]
    parts += [(table_display(table) if table.proto.arrow_data.styler.display_values else table.value).to_string()
              for table in at.get("table")]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    return "\n".join(str(part) for part in parts)
