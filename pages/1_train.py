"""Train page: pick a corpus, a preset and the settings, then watch a character LSTM learn live.

The training runs in a worker, out of the web process (lab_ui.live_training); every run is saved through the run
store as it goes. ``?preset=default&autostart=1&seconds=30`` starts a training once, on arrival, with the
settings folded away so that the loss chart and the latest sample fill the first screen. A training that
ended links to its gates and to its writing.
"""

import streamlit as st

import lstm_core
from lab_ui import page_link, page_setup, query_index, query_number, query_value, run_store, set_query
from lab_ui.live_training import (continue_paused_run, live_adjustments, live_panel, session_trainer,
                                     start_training, training_controls, training_under_way)
from lab_ui.export_views import logged, tensorboard_note, tensorboard_setting
from lab_ui.sharing import training_seconds_cap, use_upload
from lab_ui.snapshot_views import snapshot_choice, snapshot_settings
from lab_ui.safe_text import markdown_text
from lstm_core.limits import CHAR_LIMITS as LIMITS
from lstm_core.training.tuned import SWEPT_PRESET, tuned_line

page_setup("Train")
SLOT = "char"
CORPORA = {"full": "Full Molière corpus", "seed": "The seed's first 100,000 characters", "upload": "Upload a text"}

st.title("Train a character model")
preset_names = list(lstm_core.PRESETS)
wanted = query_value("preset", st.session_state.get("train_last_preset", "default"))
if wanted not in lstm_core.PRESETS:
    st.warning(f"There is no preset {markdown_text(repr(wanted)[:80])}; showing 'default' instead.")
    wanted = "default"
quick_start = query_value("autostart") == "1"  # a link that starts a training: its chart, not its settings, first
shown = st.session_state.get("train_preset", wanted)
SECONDS = (LIMITS["max_seconds"][0], training_seconds_cap(LIMITS["max_seconds"][1]))  # a shared server's cap
seconds_in_link = query_number("seconds", None, *SECONDS, float, warn=True)


def key(name):
    return f"train:{preset}:{name}"  # each preset keeps its own widget values


memory = st.session_state.setdefault("train_settings_memory", {})  # Streamlit drops widget state on other pages


def initial(name, default):
    return memory.get(key(name), default)


def number(name: str, label: str, step: float, fmt: str | None = None, fallback=None) -> None:
    """A number input for setting ``name`` over its range in the core's LIMITS, starting from the
    value remembered for this preset (or the preset's own; ``fallback`` where the preset has none)."""
    low, high = LIMITS[name]
    default = getattr(defaults, name)
    value = initial(name, fallback if default is None else default)
    cast = float if isinstance(step, float) or isinstance(low, float) else int
    st.number_input(label, cast(low), cast(high), cast(value), cast(step), format=fmt, key=key(name))


with st.expander(f"Settings · preset {shown if shown in lstm_core.PRESETS else wanted}",
                 expanded=session_trainer(SLOT) is None and not quick_start):
    preset = st.selectbox("Preset", preset_names, index=preset_names.index(wanted), key="train_preset",
                          on_change=lambda: set_query(seconds=None, corpus=None))  # a new preset brings its own
    set_query(preset=preset)
    st.session_state["train_last_preset"] = preset
    st.caption(lstm_core.PRESETS[preset].commentary)
    if preset == "seed-exact":
        st.info("Here the notebook's setup (batch 1, 100-character windows, hidden 128, AdamW 1e-3, no clipping, "
                "20 epochs of the 100k slice) runs through the app's trainer, so you can watch it live. "
                "The notebook's literal loop is `lstm_core/seed_loop.py`; both train the same model on the same data.")
    defaults = lstm_core.preset_config(preset)  # on the default preset, the LSTM's swept settings
    if preset == SWEPT_PRESET and tuned_line("lstm"):
        st.caption(f"The LSTM's own settings, unless you change them: {tuned_line('lstm')}.")
    data_col, model_col, optim_col = st.columns(3)
    with data_col:
        remembered = initial("corpus", defaults.corpus)
        corpus_choice = st.radio("Corpus", list(CORPORA), format_func=CORPORA.get, key=key("corpus"),
                                 index=query_index("corpus", CORPORA, remembered if remembered in CORPORA else "full"))
        set_query(corpus=corpus_choice)
        if corpus_choice == "upload":
            st.file_uploader("UTF-8 text file (up to 20 MB)", type=["txt", "md", "csv", "text"],
                             key="train_upload", max_upload_size=20)
        by_time = st.radio("Budget", ["time", "epochs"], horizontal=True, key=key("budget"),
                           index=int(initial("budget", "time" if seconds_in_link or defaults.max_seconds else "epochs")
                                     == "epochs"),
                           format_func={"time": "Time", "epochs": "Epochs"}.get) == "time"
        if by_time:
            st.number_input("Seconds of training", *SECONDS,
                            float(seconds_in_link or initial("seconds", defaults.max_seconds or 60.0)), 5.0,
                            key=key("seconds"))
            budget = st.session_state[key("seconds")]
            set_query(seconds=None if budget == defaults.max_seconds else f"{budget:g}")
        else:
            number("epochs", "Epochs", 1.0, fallback=1.0)
        number("seed", "Random seed", 1)
    with model_col:
        number("hidden_size", "Hidden size (units per layer)", 1)
        number("num_layers", "Layers", 1)
        st.slider("Dropout", *LIMITS["dropout"], float(initial("dropout", defaults.dropout)), 0.05, key=key("dropout"))
        if st.checkbox("Set the forget-gate bias", initial("set_forget_bias", defaults.forget_bias is not None),
                       key=key("set_forget_bias"),
                       help="Off keeps PyTorch's initialisation (as in the seed notebook)."):
            number("forget_bias", "Forget-gate bias", 0.5, fallback=1.0)
    with optim_col:
        number("seq_len", "Sequence length (characters per window)", 1)
        number("batch_size", "Batch size (parallel streams)", 1)
        number("lr", "Learning rate", 1e-4, fmt="%.2e")
        if st.checkbox("Clip the gradient norm", initial("clip", defaults.grad_clip is not None), key=key("clip")):
            number("grad_clip", "Gradient clip (max norm)", 0.5, fallback=1.0)
    snapshot_settings(key, initial)  # gate snapshots and their probe (lab_ui.snapshot_views)
    tensorboard_setting(key, initial)  # log it to TensorBoard as it trains (lab_ui.export_views)
memory.update({name: value for name, value in st.session_state.items() if str(name).startswith("train:")})


def chosen_settings() -> dict:
    """The settings on screen, read from the session (callbacks run before the widgets redraw)."""
    def value(name, default=None):
        return st.session_state.get(key(name), default)
    by_epochs = value("budget", "time") == "epochs"
    return dict(
        corpus=value("corpus", "full"), hidden_size=int(value("hidden_size")), num_layers=int(value("num_layers")),
        dropout=float(value("dropout")), seq_len=int(value("seq_len")), batch_size=int(value("batch_size")),
        lr=float(value("lr")), seed=int(value("seed")),
        forget_bias=float(value("forget_bias", 1.0)) if value("set_forget_bias") else None,
        grad_clip=float(value("grad_clip", 1.0)) if value("clip") else None,
        max_seconds=None if by_epochs else float(value("seconds")),
        epochs=float(value("epochs")) if by_epochs else None, **snapshot_choice(key))


def make_training() -> lstm_core.CharTraining:
    """A training of the settings on screen, saved through the run store; ValueErrors are shown."""
    settings = chosen_settings()
    corpus = None
    if settings["corpus"] == "upload":
        upload = st.session_state.get("train_upload")
        if upload is None:
            raise ValueError("choose a text file to upload first, or pick the bundled corpus.")
        use_upload(upload)  # a shared server limits uploads per session
        corpus = lstm_core.Corpus.from_text(lstm_core.decode_upload(upload.getvalue()), name=upload.name)
        settings["corpus"] = f"upload:{upload.name}"
    config = lstm_core.preset_config(preset, **settings)
    name = f"{preset} · {settings['corpus']} · h{config.hidden_size}x{config.num_layers}"
    return logged(key, lambda: lstm_core.CharTraining(config, corpus=corpus, store=run_store(), name=name))


if corpus_choice == "upload" and st.session_state.get("train_upload") is not None:
    try:
        text = lstm_core.decode_upload(st.session_state["train_upload"].getvalue())
        st.caption(lstm_core.Corpus.from_text(text, name=st.session_state["train_upload"].name).describe())
    except lstm_core.CorpusError as err:
        st.error(f"This file cannot be used: {markdown_text(err)}")

if query_value("autostart") == "1":
    set_query(autostart=None)  # start once: a rerun does not start it again
    if training_under_way(SLOT):
        st.info("A training is already under way in this tab: it goes on below (stop it to start another).")
    else:  # Home's quick start, clicked again after a training ended, starts a new one
        start_training(SLOT, make_training)



def what_next(run_id: str) -> None:
    """One click from the model just trained to its gates, one to its writing."""
    with st.container(border=True):
        words, gates, generate = st.columns([2, 2, 2], vertical_alignment="center")
        words.markdown("**Next: look inside the model you trained**")
        page_link(f"/gates?run={run_id}", "Open its gates and states →", icon=":material/grid_on:", container=gates)
        page_link(f"/generate?run={run_id}", "Make it write (Generate) →", icon=":material/edit_note:",
                  container=generate)


training_controls(SLOT, make_training)
continue_paused_run(SLOT, "char", lambda path: lstm_core.CharTraining.resume(path, run_store()))
live_panel(SLOT, when_ended=what_next)
if (trainer := session_trainer(SLOT)) is not None:  # the line the lesson quotes, from this training's own corpus;
    line, _ = lstm_core.starting_loss_line(len(trainer.training.vocab))  # under the chart whose first point it reads
    st.caption(f"Where the loss starts: {line}.")
live_adjustments(SLOT)
tensorboard_note()
