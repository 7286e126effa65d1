"""Compare: why gates exist. A plain RNN, a GRU and an LSTM (or ablated LSTMs) trained side by side.

The settings live in the link (``?comparison=architectures&task=memory&delay=50``); ``autostart=1``
starts the comparison once, on arrival. The page opens on the finished comparison shipped with the app;
a comparison trained here puts its runs' ids in the link (``runs=id1,id2,id3``), which shows it again.
"""

import streamlit as st

from lab_ui import compare_views as views
from lab_ui.arena_view import arena_table_section, text_check_note, tuned_rates_line
from lab_ui.export_views import notebook_button
from lab_ui import folded, page_setup, query_index, query_number, query_value, run_store, set_query
from lab_ui.safe_text import markdown_text
from lstm_core.compare import COMPARISONS, TASK_DEFAULTS, TASKS, CompareSetup
from lstm_core.compare_runs import SHIPPED_DELAY
from lstm_core.limits import MODEL_LIMITS

page_setup("Compare")
st.title("Why gates exist")
st.markdown("A plain recurrent network rewrites its whole state at every step; an LSTM or a GRU can *keep* a value "
            "by holding a gate open. Train them side by side on the same data with the same number of parameters, "
            "and see what that buys: lower loss, memory across long delays, and gradients that still reach far back.")

names = list(COMPARISONS)
c1, c2, c3 = st.columns([2, 2, 1])
comparison = c1.selectbox("Comparison", names, format_func=lambda n: COMPARISONS[n].title,
                          index=query_index("comparison", names, "architectures"), key="compare_comparison")
task = c2.selectbox("Task", list(TASKS), format_func=TASKS.get, index=query_index("task", TASKS, "memory"),
                    key="compare_task", on_change=lambda: set_query(budget=None, steps=None, fbias=None, ubias=None))
seed = c3.number_input("Seed", 0, 10_000, query_number("seed", 0, 0, 10_000), key="compare_seed")
st.caption(COMPARISONS[comparison].commentary)
defaults = TASK_DEFAULTS[task]
BUDGETS, STEPS = [5_000, 10_000, 20_000, 50_000, 100_000, 200_000], [100, 200, 400, 800, 1_500, 3_000, 6_000]


def choice(name: str, options: list, default):
    """The link's choice among numeric ``options`` (the task's default when absent or not one of them)."""
    return options[query_index(name, [str(o) for o in options], str(default))]


# Folded, so the first screen shows the comparison itself (the shipped one until one is trained here)
with st.expander("Training settings: delay, parameters, steps, starting biases"):
    c1, c2, c3 = st.columns(3)  # each task keeps its own values (key=...:task): a new task brings its defaults
    delay = c1.slider("Delay (distractors to bridge)", 5, 200, query_number("delay", SHIPPED_DELAY, 5, 200), 5,
                      key="compare_delay", disabled=task != "memory",
                      help="Memory task only: characters between the symbol and the cue.")
    budget = c2.select_slider("Parameters per model", BUDGETS, choice("budget", BUDGETS, defaults["param_budget"]),
                              key=f"compare_budget:{task}")
    steps = c3.select_slider("Training steps per model", STEPS, choice("steps", STEPS, defaults["steps"]),
                             key=f"compare_steps:{task}")
    c1, c2 = st.columns(2)
    forget_bias = c1.slider("LSTM forget-gate bias at the start", *MODEL_LIMITS["forget_bias"],
                            query_number("fbias", defaults["forget_bias"], *MODEL_LIMITS["forget_bias"], float), 0.5,
                            key=f"compare_fbias:{task}",
                            help="σ(bias) is how much of its cell an LSTM keeps per step before it learns: σ(1) = 0.73 "
                                 "keeps 0.73¹⁰⁰ ≈ 10⁻¹⁴ after 100 steps, σ(5) = 0.993 keeps about half.")
    update_bias = c2.slider("GRU update-gate bias at the start", *MODEL_LIMITS["update_bias"],
                            query_number("ubias", defaults["update_bias"], *MODEL_LIMITS["update_bias"], float), 0.5,
                            key=f"compare_ubias:{task}",
                            help="The GRU keeps z of its old state per step: the same role as the forget gate.")
    st.caption(views.forget_bias_note(forget_bias))
    pytorch_start = st.checkbox("Add an LSTM with PyTorch's default start (forget-gate bias near 0)",
                                query_value("pytorch_start") == "1", key="compare_pytorch_start")
set_query(comparison=comparison, task=task, seed=seed, delay=delay, budget=budget, steps=steps,
          fbias=f"{forget_bias:g}", ubias=f"{update_bias:g}", pytorch_start="1" if pytorch_start else None)
setup = CompareSetup(comparison, task, delay, budget, steps, forget_bias, update_bias, seed, pytorch_start)
st.caption(f"Set up to train: {setup.summary()}.")
if task != "memory":
    st.caption(f"{tuned_rates_line(setup)} {text_check_note(setup)}")


def start() -> None:
    error = views.start_comparison(setup, run_store())
    if error:
        st.session_state["compare_error"] = error


left, right = st.columns(2)
left.button(f"Train {' vs '.join(c.label for c in setup.contenders)}", type="primary", on_click=start,
            disabled=views.running(), width="stretch")
right.button("Stop and save", on_click=views.stop_comparison, disabled=not views.running(), width="stretch")
if query_value("autostart") == "1":
    set_query(autostart=None)  # once: a rerun does not start it again
    if not views.running():
        start()
if "compare_error" in st.session_state:
    st.error(f"Cannot start: {markdown_text(st.session_state.pop('compare_error'))}")

link_runs = [run_id for run_id in (query_value("runs") or "").split(",") if run_id]
shown, problem = views.shown_comparison(run_store(), link_runs)
if problem:
    st.warning(problem)
if shown is None or shown.source == "shipped":
    set_query(runs=None)  # the shipped comparison needs no ids in the link
views.live_comparison(shown)
if setup.task != "memory":
    arena_table_section()
# The gradients of the comparison shown, trained and untrained; where the settings above set up another one, its
# untrained models too, drawn when asked (they cost seconds; the lesson's link opens them).
trained = shown is not None and bool(views.checkpoints(shown.setup))
st.header("Gradients through time")
lag_choice = None
if "memory" not in {setup.task, shown.setup.task if trained else "memory"}:
    lag_choice = st.select_slider("Largest lag", [50, 100, 200, 400], choice("lag", [50, 100, 200, 400], 200))
    set_query(lag=lag_choice)


def max_lag_of(of: CompareSetup) -> int:
    return of.delay + 1 if of.task == "memory" else lag_choice or 200


if trained:
    if shown.setup.task == "memory":
        st.caption(f"Measured on the memory task's loss at the answer, back to the symbol {max_lag_of(shown.setup)} "
                   "steps earlier.")
    views.gradient_section(shown.setup, max_lag_of(shown.setup))
if not trained or shown.setup != setup:
    folded("Show the gradients of the untrained models set up above, where every training starts",
           "untrained_gradients", views.gradient_section, setup, max_lag_of(setup), trained=False,
           prefix="compare_untrained")
if trained:
    st.header("States on the same text")
    memory_view = st.radio("Show", ["memory", "hidden"], horizontal=True,
                           index=query_index("show", ["memory", "hidden"], "memory"),
                           format_func={"memory": "what carries memory (LSTM: c, others: h)",
                                        "hidden": "the hidden state h of every model"}.get) == "memory"
    set_query(show="memory" if memory_view else "hidden")
    views.states_section(shown.setup, memory_view, top=16)
elif shown is not None and shown.live:
    st.caption("The gradients through time and the states appear here for each model as its training ends "
               "(or is stopped).")
if shown is not None and not shown.live:
    notebook_button("compare")  # the comparison shown (the link's runs, or the shipped one) as a notebook
