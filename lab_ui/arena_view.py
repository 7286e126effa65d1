"""The arena on Molière as /compare shows it: the line that says each model trains at its own settings, and the
table of every architecture trained with them (read from data/measured/arena_table.json, with how it was made).

    tuned_rates_line(setup)     "Each model trains at its own best learning rate ...", from the settings file
    text_check_note(setup)      what the shipped check measured at these settings, and whether the order holds
    arena_table_section()       the measured table beside the n-gram, and the command, date and machine
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lab_ui.render.tables import show_table
from lstm_core.arena import DECISIVE_FILE, TABLE_FILE, check_note, read_check, read_table, table_how, table_records
from lstm_core.compare import CompareSetup
from lstm_core.training.tuned import tuned_settings


def tuned_rates_line(setup: CompareSetup) -> str:
    """One line naming each contender's learning rate on text, as its training will use it."""
    rates = []
    for contender in setup.contenders:
        tuned = tuned_settings(contender.architecture, contender.variant)
        lr = setup.config(contender).lr  # the training's own settings: the line cannot disagree with it
        rates.append(f"{contender.label} {lr:g}" + ("" if tuned else " (not swept: the preset's)"))
    return ("Each model trains at its own best learning rate, found by `python -m lstm_core sweep` on validation "
            f"text (data/measured/arch_settings.json): {'; '.join(rates)}.")


def text_check_note(setup: CompareSetup) -> str:
    """What ``scripts/compare_text_check.py`` measured at the setup's budget and steps (empty when it did not)."""
    data = read_check()
    return "" if data is None else check_note(data, setup.param_budget, setup.steps, setup.seed)


@st.cache_data(show_spinner=False)
def _tables() -> tuple[dict | None, dict | None]:
    return read_table(DECISIVE_FILE), read_table(TABLE_FILE)


def _show(data: dict) -> None:
    frame = pd.DataFrame(table_records(data))
    show_table(frame, formats={column: "{:.3f}" for column in frame.columns if column != "architecture"})
    st.caption(table_how(data))


def arena_table_section() -> None:
    """The shipped arena tables: validation loss of every architecture trained with its own settings, the 90-s
    runs at 200k parameters first, then every architecture at two sizes for the same time and the same steps."""
    decisive, table = _tables()
    st.header("The arena on Molière, measured")
    if decisive is None and table is None:
        st.caption("No arena table is shipped yet: `python scripts/arena_table.py` measures one.")
        return
    st.caption("Validation loss in nats per character (lower is better) of each architecture trained alone with "
               "its own settings; the last line is the order-6 n-gram, the line to beat.")
    for data in (decisive, table):
        if data is not None:
            _show(data)
    st.caption("Why each its own rate: at the LSTM's rate a plain RNN's tanh units saturate, and its weights fit the "
               "state carried through its training streams rather than the text, so its training loss looks fine "
               "while its loss on any new text is far higher. At its own, lower rate it learns the text.")
