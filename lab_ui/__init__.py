"""Shared pieces of LSTM Lab's pages: page setup and navigation, the run picker, query-string state, and (in
``lab_ui.render``) how everything is drawn.

Every page calls :func:`page_setup` first. Computation lives in ``lstm_core``; this package only
turns it into widgets.
"""

from .folded import folded
from .navigation import PAGES, page_link, page_setup, view_url
from .query import query_index, query_number, query_value, set_query
from .render.tables import show_table
from .render.text_box import show_text
from .run_picker import cached_run, pick_run, run_choices, run_store, selected_run, weights_stamp

__all__ = ["PAGES", "cached_run", "folded", "page_link", "page_setup", "pick_run", "query_index", "query_number",
           "query_value", "run_choices", "run_store", "selected_run", "set_query", "show_table", "show_text",
           "view_url", "weights_stamp"]
