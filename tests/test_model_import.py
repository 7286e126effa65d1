"""Bring your own model (lstm_core.model_import): the seed notebook's model, trained in plain PyTorch exactly as
the notebook writes it, opens through the command line and its trace equals its own forward pass; other shapes
and names open too; a hostile pickle is refused without running; every mismatch is one sentence naming the key
and both shapes."""

from __future__ import annotations

import io
import json
import pickle
import re

import numpy as np
import pytest
import torch
import torch.nn as nn
from safetensors.torch import save as safetensors_bytes

import lstm_core
from lstm_core import cli
from lstm_core.corpus import MOLIERE_PATH
from lstm_core.model_import import ModelImportError, import_model, read_state_dict
from lstm_core.seed_loop import SeedLSTM

SEQ_LEN, HIDDEN, LAYERS = 20, 16, 2


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory):
    """The notebook's model trained for a few windows exactly as the notebook's loop does, saved with
    torch.save(model.state_dict()), and its char_to_idx as the vocabulary."""
    folder = tmp_path_factory.mktemp("seed-model")
    torch.manual_seed(0)
    text = MOLIERE_PATH.read_text(encoding="utf-8")[:100000]
    chars = sorted(list(set(text)))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    train_data = data[:int(0.9 * len(data))]
    model = SeedLSTM(len(chars), HIDDEN, LAYERS)  # the notebook's class, as lstm_core.seed_loop keeps it
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    state, data_ptr = None, 0
    for _ in range(8):  # the notebook's loop body, a few windows
        x = train_data[data_ptr: data_ptr + SEQ_LEN]
        y = train_data[data_ptr + 1: data_ptr + SEQ_LEN + 1]
        optimizer.zero_grad()
        y_pred, state = model.forward(x, state)
        loss = criterion(y_pred, y)
        loss.backward()
        optimizer.step()
        data_ptr += SEQ_LEN
    torch.save(model.state_dict(), folder / "moliere_lstm.pt")
    (folder / "char_to_idx.json").write_text(json.dumps(stoi, ensure_ascii=False), encoding="utf-8")
    return model.eval(), chars, folder


def test_the_seed_notebooks_model_opens_and_its_trace_equals_its_own_forward(seed_model, tmp_path, capsys):
    model, chars, folder = seed_model
    code = cli.main(["import-model", "--weights", str(folder / "moliere_lstm.pt"), "--vocab",
                     str(folder / "char_to_idx.json"), "--out", str(tmp_path), "--name", "Notebook LSTM"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 layer(s) of 16 units" in out and "embedding 'embedding', recurrent 'lstm', head 'fc'" in out
    store = lstm_core.RunStore(tmp_path)
    row = store.list().iloc[0]
    assert (row["name"], row["kind"], row["status"]) == ("Notebook LSTM", "char", "imported")
    run = lstm_core.load_run(tmp_path / row["id"])
    assert run.vocab.chars == chars and run.model.arch.name == "lstm"
    text = "HARPAGON.\n\nAu voleur! au voleur! à l'assassin! au meurtrier!"
    traced = lstm_core.trace(run.model, run.vocab, text)
    with torch.no_grad():
        logits, (h_n, c_n) = model(torch.tensor([chars.index(c) for c in text]), None)  # the notebook's call
    assert np.abs(torch.softmax(logits, -1).numpy() - traced.probs).max() < 1e-5
    assert np.abs(h_n.numpy() - traced.final_state[0][:, 0].numpy()).max() < 1e-5
    assert np.abs(c_n.numpy() - traced.final_state[1][:, 0].numpy()).max() < 1e-5
    assert run.metrics.empty and not (run.path / "snapshots").exists()


def test_a_batch_first_gru_in_safetensors_with_other_names_opens_through_a_key_map(tmp_path):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(7, 5)
            self.stack = nn.GRU(5, 6, num_layers=3, batch_first=True)
            self.decoder = nn.Linear(6, 7)

    torch.manual_seed(3)
    model = Model()
    weights = safetensors_bytes({k: v.contiguous() for k, v in model.state_dict().items()})
    vocab = json.dumps(list("abcdef ")).encode()
    with pytest.raises(ModelImportError, match="no key prefix that reads as the embedding.*'tokens'"):
        import_model(lstm_core.RunStore(tmp_path), weights, "m.safetensors", vocab)
    path = import_model(lstm_core.RunStore(tmp_path), weights, "m.safetensors", vocab,
                        mapping=b'{"embedding": "tokens", "recurrent": "stack"}')
    run = lstm_core.load_run(path)
    assert (run.model.arch.name, run.model.config.num_layers, run.model.config.embedding_dim) == ("gru", 3, 5)
    ids = torch.tensor([[0, 3, 2, 6, 1]])
    with torch.no_grad():
        out, _ = model.stack(model.tokens(ids))
        expected = torch.softmax(model.decoder(out), -1)[0].numpy()
    assert np.abs(lstm_core.trace(run.model, run.vocab, "adc b").probs - expected).max() < 1e-5


def test_a_plain_rnn_without_biases_opens_with_zero_biases(tmp_path):
    embedding, rnn, fc = nn.Embedding(4, 3), nn.RNN(3, 5, bias=False), nn.Linear(5, 4)
    state = {**{f"embed.{k}": v for k, v in embedding.state_dict().items()},
             **{f"rnn.{k}": v for k, v in rnn.state_dict().items()}, **{f"head.{k}": v for k, v in fc.state_dict().items()}}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = import_model(lstm_core.RunStore(tmp_path), buffer.getvalue(), "rnn.pth", b'["a", "b", "c", "d"]')
    run = lstm_core.load_run(path)
    with torch.no_grad():
        out, _ = rnn(embedding(torch.tensor([0, 2, 1])))
        expected = torch.softmax(fc(out), -1).numpy()
    assert np.abs(lstm_core.trace(run.model, run.vocab, "acb").probs - expected).max() < 1e-5


class Hostile:
    """Unpickling this writes a file: proof that the loader ran code."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return exec, (f"open({self.target!r}, 'w').write('pwned')",)


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path, how):
    target = tmp_path / "written-by-the-pickle.txt"
    buffer = io.BytesIO()
    payload = {"embedding.weight": torch.zeros(2, 2), "evil": Hostile(target)}
    torch.save(payload, buffer) if how == "torch.save" else pickle.dump(payload, buffer)
    with pytest.raises(ModelImportError) as refused:
        read_state_dict(buffer.getvalue(), "model.pt")
    assert "holds a pickled object" in str(refused.value)
    if how == "torch.save":  # the global it asked for is named
        assert re.search(r"holds a pickled object \((builtins\.)?exec\)", str(refused.value))
    assert "nothing in the file was run" in str(refused.value)
    code = cli.main(["import-model", "--weights", str(_written(tmp_path / "m.pt", buffer.getvalue())),
                     "--vocab", str(_written(tmp_path / "v.json", b'["a", "b"]')), "--out", str(tmp_path / "store")])
    assert code == 2 and not target.exists(), "the pickle's code never ran"
    assert lstm_core.RunStore(tmp_path / "store").list().empty, "a refused import leaves no run behind"


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


def _seed_state(vocab: int = 5, hidden: int = 4) -> dict:
    return {f"{prefix}.{k}": v for prefix, module in (("embedding", nn.Embedding(vocab, hidden)),
                                                      ("lstm", nn.LSTM(hidden, hidden)), ("fc", nn.Linear(hidden, vocab)))
            for k, v in module.state_dict().items()}


@pytest.mark.parametrize("change, vocab, message", [
    (lambda s: s, "abcdef", r"the vocabulary has 6 characters, but embedding.weight has 5 rows \(shape \(5, 4\)\)"),
    (lambda s: {**s, "fc.weight": torch.zeros(5, 3)}, "abcde",
     r"fc.weight has shape \(5, 3\), but the LSTM's hidden size is 4 \(lstm.weight_hh_l0 is \(16, 4\)\)"),
    (lambda s: {k: v for k, v in s.items() if k != "lstm.bias_hh_l0"}, "abcde",
     r"no key 'lstm.bias_hh_l0' of shape \(16,\)"),
    (lambda s: {**s, "dropout.scale": torch.ones(3)}, "abcde", r"unexpected key 'dropout.scale' of shape \(3,\)"),
    (lambda s: {**s, "lstm.weight_hh_l0": torch.zeros(16, 5)}, "abcde", r"lstm.weight_hh_l0 has shape \(16, 5\)"),
])
def test_each_mismatch_is_one_sentence_naming_the_key_and_both_shapes(tmp_path, change, vocab, message):
    buffer = io.BytesIO()
    torch.save(change(_seed_state()), buffer)
    with pytest.raises(ModelImportError, match=message) as refused:
        import_model(lstm_core.RunStore(tmp_path), buffer.getvalue(), "m.pt", json.dumps(list(vocab)).encode())
    assert "\n" not in str(refused.value)
    assert lstm_core.RunStore(tmp_path).list().empty


@pytest.mark.parametrize("vocab, message", [
    (b'{"a": 0, "b": 2}', "not 0 to 1"), (b'["a", "a"]', "twice"), (b"\xff", "not valid UTF-8 JSON"),
    (b'[1, 2]', "single characters")])
def test_a_bad_vocabulary_is_refused(tmp_path, vocab, message):
    buffer = io.BytesIO()
    torch.save(_seed_state(vocab=2), buffer)
    with pytest.raises(ModelImportError, match=message):
        import_model(lstm_core.RunStore(tmp_path), buffer.getvalue(), "m.pt", vocab)


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path, capsys):
    weights = _written(tmp_path / "m.pt", b"not a pickle at all")
    code = cli.main(["import-model", "--weights", str(weights), "--vocab", str(_written(tmp_path / "v.json", b'["a"]')),
                     "--out", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is not a readable PyTorch state dict" in err, err
