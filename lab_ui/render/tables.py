"""Tables as the app shows them: static ``st.table`` tables with number formats, bars and scrolling, and plain
HTML tables in ``st.table``'s look for :func:`lab_ui.html_view.show_html`.

    show_table(frame, formats, bars, rows_shown)   a static table (a data grid costs the browser far more)
    table_html(frame)                              the same look as one HTML element, cells as plain text
"""

from __future__ import annotations

import html
import numbers

import pandas as pd
import streamlit as st

from lab_ui.render.palette import CAPTION_INK, HAIRLINE, INK, SHARE_BAR
from lab_ui.safe_text import markdown_text

TABLE_ROW_PX = 35  # st.table's row height, header included, at the app's font size


def show_table(frame: pd.DataFrame, formats: dict[str, str] | None = None, bars: tuple[str, ...] = (),
               rows_shown: int = 15, container=None) -> None:
    """``frame`` as a static table (``st.table``): a data grid (``st.dataframe``) costs the browser much more on
    every page load. ``formats`` maps a column to its format ("{:.3f}"; a missing value shows as –); each column
    in ``bars`` (shares from 0 to 1) gets a bar under its number, as a progress column draws it. Past
    ``rows_shown`` rows the table scrolls. Every other text cell is shown as text (``st.table`` draws cells as
    Markdown: a run named ``![x](http://...)`` would load an outside image)."""
    text = [column for column in frame.columns
            if column not in (formats or {}) and not pd.api.types.is_numeric_dtype(frame[column])]
    styler = frame.style.format(formats or {}, na_rep="–").format(markdown_text, subset=text, na_rep="–")
    styler = styler.hide(axis="index")
    for column in bars:
        styler = styler.bar(subset=[column], vmin=0.0, vmax=1.0, color=SHARE_BAR, height=70, width=100)
    height = TABLE_ROW_PX * (rows_shown + 1) if len(frame) > rows_shown else "content"
    (container or st).table(styler, hide_index=True, height=height)


TABLE_CSS = (f"<style>.lab-table{{border-collapse:collapse;width:100%;font-size:14px;color:{INK};margin-bottom:1rem}}"
             f".lab-table th,.lab-table td{{border:1px solid {HAIRLINE};padding:0.25rem 0.375rem;"
             f"text-align:left;line-height:1.6}}.lab-table th{{color:{CAPTION_INK};font-weight:400}}"
             ".lab-table td.number{text-align:right}</style>")


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as a plain HTML table (``st.table``'s look, its index left out), for ``show_html``: one element,
    where ``st.table`` draws every cell as Markdown. :func:`show_table` stays ``st.table`` for the tables that
    need its number formats, bars and scrolling."""
    def cell(value) -> str:
        number = isinstance(value, numbers.Number) and not isinstance(value, bool)
        return f'<td class="number">{value}</td>' if number else f"<td>{html.escape(str(value))}</td>"
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = "".join("<tr>" + "".join(cell(value) for value in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'{TABLE_CSS}<table class="lab-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
