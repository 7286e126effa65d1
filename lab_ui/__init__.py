"""Shared pieces of LSTM Lab's pages: page setup, the run picker, query-string state.

Every page calls :func:`page_setup` first. Computation lives in ``lstm_core``; this package only
turns it into widgets.
"""

from .common import (PAGES, cached_run, folded, page_link, page_setup, pick_run, query_index, query_number, query_value,
                     run_choices, run_store, selected_run, set_query, show_table, show_text, weights_stamp)

__all__ = ["PAGES", "cached_run", "folded", "page_link", "page_setup", "pick_run", "query_index", "query_number", "query_value",
           "run_choices", "run_store", "selected_run", "set_query", "show_table", "show_text",
           "weights_stamp"]
