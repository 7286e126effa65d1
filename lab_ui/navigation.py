"""Page setup and the ways between pages: the sidebar's page list (with the way back to the lesson), links to a
page with its settings, and the page of each view the core names (``lstm_core.lesson``'s steps say "gates" and
the settings; the link "/gates?run=pretrained&..." is made here).

    page_setup(title)                     call first on every page
    view_url(view, settings)              "/gates?run=pretrained": a view's page and settings as a link
                                          (with "&present=1" in presentation mode, lab_ui.presentation)
    page_link(url, label)                 a link to one of the app's pages, written as its URL
"""

from __future__ import annotations

import importlib
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

import streamlit as st
import torch
from streamlit.errors import StreamlitPageNotFoundError

from lab_ui import presentation
from lab_ui.render import downloads
from lab_ui.sharing import remember_owner
from lstm_core.execution.background import configure_torch_threads

PAGES = [  # (script, url path, label); a view's name is its page's url path
    ("home.py", "", "Home"),
    ("pages/0_lesson.py", "lesson", "Lesson"),
    ("pages/1_train.py", "train", "Train"),
    ("pages/2_gates.py", "gates", "Gates & states"),
    ("pages/3_generate.py", "generate", "Generate"),
    ("pages/4_cell.py", "cell", "Cell lab"),
    ("pages/5_explorer.py", "explorer", "nn.LSTM explorer"),
    ("pages/6_tagger.py", "tagger", "Tagger"),
    ("pages/7_sentiment.py", "sentiment", "Sentiment"),
    ("pages/8_runs.py", "runs", "Runs"),
    ("pages/9_compare.py", "compare", "Compare"),
    ("pages/10_why.py", "why", "Why this character"),
]


def page_setup(title: str, icon: str = "🧠") -> None:
    """Page config and the shared sidebar; call first on every page."""
    st.set_page_config(page_title=f"{title} · LSTM Lab", page_icon=icon, layout="wide")
    configure_torch_threads()
    # The web process runs small models a step at a time (sampling, demos, traces); trainings run in
    # workers. oneDNN's RNN primitive opens a parallel region per call, which costs more than such a
    # step: plain kernels sample the pretrained model faster, with the same numbers.
    torch.backends.mkldnn.enabled = False
    _warm_torch()
    presentation.setup()
    if presentation.is_on():
        presentation.toggle()  # pinned to the page's corner: the sidebar is hidden
    with presentation.sidebar():  # the sidebar, or in presentation mode the panel at the top of the page
        try:
            links = st.container(horizontal=presentation.is_on())  # a row across the panel, a column in the sidebar
            for script, _path, label in PAGES:
                links.page_link(script, label=label, query_params=presentation.keep_mode(), width="content")
            if "lesson_step" in st.session_state and title != "Lesson":  # a student left the lesson for a view
                step = st.session_state["lesson_step"] + 1
                st.page_link("pages/0_lesson.py", label=f"Back to the lesson, step {step}", icon=":material/school:",
                             query_params=presentation.keep_mode())
        except StreamlitPageNotFoundError:
            pass  # a page run on its own (AppTest.from_file) knows no other pages
        st.divider()
        if not presentation.is_on():
            presentation.toggle()
        downloads.install()  # every chart: SVG and PNG buttons on hover
        remember_owner()  # a shared server knows this browser's runs after a reload


def view_url(view: str, settings: dict[str, str] | None = None) -> str:
    """The link to a view the core names ("gates") with its settings: "/gates?run=pretrained&unit=3"."""
    if view not in (path for _, path, _ in PAGES):
        raise ValueError(f"no page shows the view {view!r}")
    settings = presentation.keep_mode(settings)  # a link made in presentation mode keeps it
    return f"/{view}" + (f"?{urlencode(settings)}" if settings else "")


def page_link(view: str, label: str, icon: str | None = None, container=None) -> None:
    """A link to one of the app's pages with its settings, written as the page's URL
    ("/gates?run=pretrained"); a plain link where the page runs on its own (AppTest knows no other pages)."""
    target = urlsplit(view)
    script = next(script for script, path, _ in PAGES if path == target.path.strip("/"))
    settings = presentation.keep_mode(dict(parse_qsl(target.query)))
    where = container or st
    try:
        where.page_link(script, label=label, icon=icon, query_params=settings)
    except StreamlitPageNotFoundError:
        where.markdown(f"[{label}]({view_url(target.path.strip('/'), settings)})")


@st.cache_resource(show_spinner=False)
def _warm_torch() -> threading.Thread:
    """Load ``torch._dynamo`` once per server, in the background: PyTorch's optimizers import it when the
    first training is built, which the first Start click would otherwise wait for."""
    thread = threading.Thread(target=importlib.import_module, args=("torch._dynamo",), name="lstm-lab-warm-torch",
                              daemon=True)
    thread.start()
    return thread
