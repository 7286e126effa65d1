"""Shared pieces of LSTM Lab's pages: page setup, the sidebar's run picker, query-string state.

Every page calls :func:`page_setup` first. Computation lives in ``lstm_core``; this package only
turns it into widgets.
"""

from .common import (PAGES, cached_run, char_run_choices, page_setup, query_index, query_number, query_value,
                     run_store, selected_run, set_query)

__all__ = ["PAGES", "cached_run", "char_run_choices", "page_setup", "query_index", "query_number", "query_value",
           "run_store", "selected_run", "set_query"]
