"""The Runs page's "Import a PyTorch model": a state dict and its vocabulary in, a run out (lstm_core.model_import).

The uploads are bounded as a run zip's are (lab_ui.sharing counts them on a shared server); the weights are read
with ``torch.load(weights_only=True)`` or safetensors, and every refusal is one sentence.
"""

from __future__ import annotations

import streamlit as st

from lab_ui.navigation import page_link, view_url
from lab_ui.run_picker import run_store
from lab_ui.safe_text import markdown_text
from lab_ui.sharing import owner_id, upload_limit_mb, use_upload
from lstm_core.model_import import import_model, read_mapping

HOW = ("A character model of the shape embedding → `nn.LSTM`, `nn.GRU` or `nn.RNN` (any number of layers, "
       "`batch_first` either way) → linear head, as the seed notebook builds it. Save its weights with "
       "`torch.save(model.state_dict(), \"model.pt\")` (or as `.safetensors`) and its characters with "
       "`json.dump(chars, open(\"vocab.json\", \"w\"))` (a list in index order, or `char_to_idx`). Keys are matched "
       "by name (embedding/embed/encoder, lstm/gru/rnn, fc/head/decoder/linear); a key map names others. "
       "The weights are read as tensors only: a file holding any other Python object is refused unopened.")


def import_pytorch_model() -> None:
    """The section: two uploads (and an optional key map), a name, Import; the new run is listed above."""
    st.subheader("Import a PyTorch model")
    st.markdown(HOW)
    limit = upload_limit_mb("import")
    left, right = st.columns(2)
    weights = left.file_uploader("Weights (.pt, .pth or .safetensors)", type=["pt", "pth", "safetensors"],
                                 key="import_weights", max_upload_size=limit)
    vocab = right.file_uploader("Vocabulary (.json)", type=["json"], key="import_vocab", max_upload_size=limit)
    with st.expander("Key map (optional), for modules named otherwise"):
        mapping = st.text_area("JSON from embedding, recurrent or head to the prefix of its keys",
                               placeholder='{"embedding": "tok", "recurrent": "stack", "head": "out"}',
                               key="import_map", max_chars=2_000)
    name = st.text_input("Name of the run", placeholder="the weights file's name", max_chars=80, key="import_name")
    if st.button("Import the model", disabled=weights is None or vocab is None, key="import_model_button"):
        try:
            use_upload(weights, "import")
            path = import_model(run_store(), weights.getvalue(), weights.name, vocab.getvalue(), vocab.name,
                                name=name or None, mapping=read_mapping(mapping.strip().encode("utf-8")),
                                owner=owner_id())
        except ValueError as err:  # ModelImportError, or past a shared server's limits
            st.error(f"This model was not imported: {markdown_text(err)}")
        else:
            st.session_state["imported_model"] = path.name
            st.rerun()
    if "imported_model" in st.session_state:
        run_id = st.session_state.pop("imported_model")
        st.success(f"Imported as {markdown_text(run_id)}; it is listed above. Open it on Gates & states, Generate "
                   "or the Cell lab.")
        page_link(view_url("gates", {"run": run_id}), "Open its gates")
