"""Your work out: "Download as notebook" on every view (lstm_core.notebooks) and the Train page's TensorBoard log
(lstm_core.tensorboard_log).

A notebook is built from the link's own settings (``st.query_params``, which every page writes with ``set_query``),
read when the button is drawn, so the notebook and the link never disagree; it is written when clicked.
A training chosen to be logged is followed by a thread of the web process (which owns the run store), into
``<run store>/tensorboard/<run id>``: the browser never names a folder on the server.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from lab_ui.navigation import view_url
from lab_ui.run_picker import run_store
from lstm_core.notebooks import PAGE_VIEWS, Source, notebook_bytes
from lstm_core.tensorboard_log import LOG_FOLDER, LiveLog, app_logdir, tensorboard_module


def tensorboard_setting(key, initial) -> None:
    """The Train page's choice to log the training to TensorBoard (a widget keyed by ``key("tensorboard")``)."""
    st.checkbox("Log to TensorBoard as it trains", initial("tensorboard", False), key=key("tensorboard"),
                help="Scalars (losses, learning rate, gradient norm, throughput), the preview samples as text and "
                     f"every gate's histogram at each snapshot, written to {LOG_FOLDER}/<run id> beside the runs; "
                     f"view them with tensorboard --logdir <the run store>/{LOG_FOLDER}. Needs the optional "
                     "tensorboard package (requirements-tensorboard.txt).")


def logged(key, build: Callable[[], object]):
    """The training ``build()`` makes, followed into its TensorBoard log when the page's setting asks for it; a
    missing tensorboard is refused (a ValueError, shown as the start's error) before any run folder is made."""
    if not st.session_state.get(key("tensorboard")):
        return build()
    tensorboard_module()
    training = build()
    if training.run_dir is not None:
        LiveLog(training.run_dir, app_logdir(training.run_dir))
        st.session_state["tensorboard_logdir"] = str(app_logdir(training.run_dir).parent)
    return training


def tensorboard_note() -> None:
    """Under the live panel: the command that shows the log, once a training of this session logs one."""
    logdir = st.session_state.get("tensorboard_logdir")
    if logdir:
        st.caption("This training is logged to TensorBoard; view it with")
        st.code(f"tensorboard --logdir {logdir}", language=None)


def notebook_button(view: str, run_dir=None, settings: dict | None = None, container=None, key: str | None = None) -> None:
    """"Download as notebook" of ``view`` (a page's path, or "training"): the link's settings (or ``settings``),
    the run folder ``run_dir`` it opens, and the store a comparison's runs are found in."""
    settings = dict(st.query_params.to_dict() if settings is None else settings)
    settings.pop("present", None)
    link = view_url(view, settings) if view in PAGE_VIEWS else None
    source = Source(run_dir=run_dir, store_root=run_store().root, link=link)
    (container or st).download_button(
        "Download as notebook", lambda: notebook_bytes(view, settings, source), file_name=f"lstm-lab-{view}.ipynb",
        mime="application/x-ipynb+json", on_click="ignore", key=key or f"notebook_{view}",
        help="A Jupyter notebook that recomputes this view with lstm_core: the same run, text, settings and seed, "
             "with a sentence on what each step shows.")
