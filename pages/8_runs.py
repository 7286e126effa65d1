"""Runs page: every saved training with its settings and losses; overlay curves; rename, delete, export, import.

On a shared server (lab_ui.sharing) each user renames and deletes only their own runs; the others are read-only.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

import lstm_core
from lab_ui import page_setup, query_index, query_value, run_store, set_query, show_table
from lab_ui.export_views import notebook_button
from lab_ui.import_views import import_pytorch_model
from lab_ui.safe_text import markdown_text
from lab_ui.render.training_figures import accuracy_figure, figure_svg, has_accuracy, loss_figure
from lab_ui.sharing import instructor_unlock, may_change, owner_id, shared, upload_limit_mb, use_upload, whose
from lstm_core.import_checks import check_config
from lstm_core.model_import import imported_from
from lstm_core.run_kinds import loss_per
from lstm_core.runs import read_config, read_metrics_sample

page_setup("Runs")
SETTINGS = [("corpus", "corpus"), ("hidden_size", "hidden"), ("num_layers", "layers"), ("seq_len", "seq"),
            ("batch_size", "batch"), ("lr", "lr"), ("dropout", "dropout"), ("forget_bias", "forget bias"),
            ("max_seconds", "budget s"), ("epochs", "epochs")]
HEADERS = {"seconds": "duration (s)", "train_loss": "final train loss", "final_valid_loss": "final valid loss",
           "best_valid_loss": "best valid loss", "started_by": "started by"}  # the table's column headers
ORDERS = {"newest": ("Newest first", None, True), "best": ("Best validation loss", "best_valid_loss", True),
          "final": ("Final validation loss", "final_valid_loss", True), "name": ("Name", "name", True),
          "longest": ("Longest training", "seconds", False)}  # name: (label, column, ascending)


@st.cache_data(max_entries=256, show_spinner=False)
def run_details(path: str, stamp: float) -> tuple[str, float | None, pd.DataFrame]:
    """(settings in a line, last validation loss, metrics) of a run, re-read when its files change."""
    folder = Path(path)
    metrics = read_metrics_sample(folder)  # numbers only (a damaged value is a gap), thinned when the file is large
    valid = metrics["valid_loss"].dropna() if "valid_loss" in metrics else pd.Series(dtype=float)
    try:
        config = read_config(folder)
        check_config(config)
        train = config.get("train", {})
    except ValueError as err:  # RunError or ImportRefused: a damaged run is listed as such, and can be deleted
        return f"damaged: {err}", None, metrics
    if imported_from(config):
        return f"imported from {imported_from(config)}: {config.get('summary', '')}", None, metrics
    settings = ", ".join(f"{label} {train[name]:g}" if isinstance(train[name], float) else f"{label} {train[name]}"
                         for name, label in SETTINGS if train.get(name) is not None)
    return settings, (float(valid.iloc[-1]) if len(valid) else None), metrics


def details(run_id: str):
    folder = run_store().root / run_id
    stamps = [(folder / name).stat().st_mtime for name in ("config.json", "metrics.csv") if (folder / name).exists()]
    return run_details(str(folder), max(stamps, default=0.0))


st.title("Runs")
runs = run_store().list()
if runs.empty:
    st.info("No runs yet. Every training started on the Train, Tagger or Sentiment page is saved here as it goes; "
            "you can also import a run exported from another LSTM Lab below.")
else:
    table = runs.assign(settings=[details(r)[0] for r in runs["id"]],
                        final_valid_loss=[details(r)[1] for r in runs["id"]],
                        created=pd.to_datetime(runs["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M"),
                        started_by=runs["owner"].map(whose))
    columns = ["name", "kind", "status", "settings", "steps", "seconds", "train_loss", "final_valid_loss",
               "best_valid_loss", "created"] + (["started_by"] if shared() else [])
    order = st.columns([1, 3])[0].selectbox("Sort by", list(ORDERS), index=query_index("sort", ORDERS, "newest"),
                         format_func=lambda name: ORDERS[name][0], key="runs_order")
    set_query(sort=None if order == "newest" else order)
    _, column, ascending = ORDERS[order]
    if column:
        table = table.sort_values(column, ascending=ascending, na_position="last", kind="stable",
                                  key=lambda values: values.str.lower() if values.dtype == object else values)
    show_table(table[columns].rename(columns=HEADERS), formats={
        "steps": "{:.0f}", HEADERS["seconds"]: "{:.1f}", HEADERS["train_loss"]: "{:.3f}",
        HEADERS["final_valid_loss"]: "{:.3f}", HEADERS["best_valid_loss"]: "{:.3f}"})

    labels = dict(zip(runs["id"], runs["name"] + " · " + runs["id"].str[:15]))
    st.subheader("Compare loss curves")
    wanted = [r for r in (query_value("compare", "") or "").split(",") if r in labels] or list(labels)[:3]
    chosen = st.multiselect("Runs to overlay", list(labels), default=wanted, format_func=labels.get, key="compare_runs")
    set_query(compare=",".join(chosen) or None)
    left, right = st.columns(2)
    x = left.radio("x axis", ["step", "seconds"], horizontal=True,
                   format_func={"step": "Steps", "seconds": "Seconds"}.get)
    kinds = runs.set_index("id").loc[chosen, "kind"].fillna("char") if chosen else pd.Series(dtype=str)
    pers = {loss_per(kind) for kind in kinds}
    per = pers.pop() if len(pers) == 1 else "item (character, word or review, by run)"
    unit = right.radio("Loss unit", ["nats", "bits"] if per == "character" else ["nats"], horizontal=True,
                       format_func={"nats": "Nats", "bits": "Bits (per character)"}.get)
    frames = {labels[r]: details(r)[2] for r in chosen}
    empty = [name for name, frame in frames.items() if frame.empty]
    if empty:
        st.caption(f"No metrics recorded yet for: {markdown_text(', '.join(empty))}.")
    if any(not frame.empty for frame in frames.values()):
        st.html(figure_svg(loss_figure(frames, x=x, unit=unit, height=420, per=per), "loss-curves"))
        if any(has_accuracy(frame) for frame in frames.values()):
            st.html(figure_svg(accuracy_figure(frames, x=x), "accuracy-curves"))

    st.subheader("Manage a run")
    instructor_unlock()
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="manage_run")
    yours = may_change(runs.set_index("id").loc[run_id, "owner"])  # on a shared server, only your own
    if not yours:
        st.info("Read-only: another user started this run. You can inspect, compare and download it; only "
                "its owner (or the instructor) can rename or delete it.")
    rename_col, download_col = st.columns([3, 1])
    with rename_col.form("rename", border=False):
        new_name = st.text_input("Name", value=runs.set_index("id").loc[run_id, "name"], max_chars=80,
                                 disabled=not yours)
        if st.form_submit_button("Rename", disabled=not yours) and yours:
            try:
                run_store().rename(run_id, new_name)
                st.rerun()
            except lstm_core.RunError as err:
                st.error(markdown_text(err))
    download_col.download_button("Download checkpoint (.zip)", lambda: lstm_core.export_zip(run_store().path(run_id)),
                                 file_name=f"{run_id}.zip", mime="application/zip", key="download_run")
    notebook_button("training", run_store().path(run_id), settings={"run": run_id}, container=download_col)
    confirm = st.checkbox(f"Yes, delete “{markdown_text(labels[run_id])}” and its checkpoint for good",
                          key=f"confirm_{run_id}",
                          disabled=not yours)
    if st.button("Delete run", disabled=not (confirm and yours), type="primary" if confirm else "secondary") \
            and yours:
        try:
            run_store().delete(run_id)  # refused while a trainer in any tab holds the run
        except lstm_core.RunError as err:
            st.error(markdown_text(err))
        else:
            set_query(compare=",".join(r for r in chosen if r != run_id) or None)
            st.rerun()

st.subheader("Import a run")
upload = st.file_uploader("A run exported from LSTM Lab (.zip)", type=["zip"], key="import_run",
                          max_upload_size=upload_limit_mb("import"))
if upload is not None and st.button("Import"):
    try:
        use_upload(upload, "import")
        path = run_store().import_zip(upload.getvalue(), owner=owner_id())
        st.session_state["imported_run"] = path.name
        st.rerun()
    except ValueError as err:  # RunError, or past a shared server's limits
        st.error(f"This file was not imported: {markdown_text(err)}")
if "imported_run" in st.session_state:
    st.success(f"Imported as {markdown_text(st.session_state.pop('imported_run'))}; it is listed above.")

import_pytorch_model()
