"""LSTM, GRU, plain RNN and the ablated LSTMs: parameter counts, matched budgets, gate initialisation,
training, and the run store (older runs, which name no architecture, load as LSTMs)."""

import json
import math

import numpy as np
import pytest
import torch

from lstm_core import CharModel, ModelConfig, RunStore, TrainConfig, load_run
from lstm_core.ablated_lstm import VariantLSTM
from lstm_core import architectures
from lstm_core.model import count_parameters, hidden_for_budget
from lstm_core.training.char import CharTraining, preset_config

KINDS = [("lstm", "standard"), ("gru", "standard"), ("rnn", "standard"), ("lstm", "no_forget_gate"),
         ("lstm", "coupled_gates"), ("lstm", "no_output_gate")]


@pytest.mark.parametrize("architecture,variant", KINDS)
@pytest.mark.parametrize("layers", [1, 3])
def test_parameter_count_from_settings_equals_the_model(architecture, variant, layers):
    config = ModelConfig(83, hidden_size=37, num_layers=layers, embedding_dim=11, architecture=architecture,
                         variant=variant)
    model = CharModel(config)
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())
    assert isinstance(model.recurrent, torch.nn.Module) and model.recurrent is getattr(model, architecture)


def test_a_parameter_budget_matches_the_three_architectures():
    counts = {}
    for architecture in ("lstm", "gru", "rnn"):
        config = TrainConfig(architecture=architecture, param_budget=100_000).model_config(80)
        counts[architecture] = count_parameters(config)
        one_more = ModelConfig(**{**config.to_dict(), "hidden_size": config.hidden_size + 1})
        one_less = ModelConfig(**{**config.to_dict(), "hidden_size": config.hidden_size - 1})
        assert abs(counts[architecture] - 100_000) <= min(abs(count_parameters(c) - 100_000) for c in (one_more, one_less))
    assert max(counts.values()) / min(counts.values()) < 1.02  # nearly equal
    hidden = {a: TrainConfig(architecture=a, param_budget=100_000).model_config(80).hidden_size for a in counts}
    assert hidden["lstm"] < hidden["gru"] < hidden["rnn"]  # fewer gates, more units for the same budget
    follow = ModelConfig(80, hidden_size=50, embedding_dim=None)  # an embedding as wide as the hidden state follows it
    chosen = hidden_for_budget(30_000, follow)
    assert abs(count_parameters(ModelConfig(80, chosen, embedding_dim=None)) - 30_000) < 0.02 * 30_000


def test_ablated_lstms_have_three_blocks_and_read_like_nn_lstm():
    for variant in ("no_forget_gate", "coupled_gates", "no_output_gate"):
        core = CharModel(ModelConfig(20, hidden_size=6, num_layers=2, variant=variant, forget_bias=2.0)).lstm
        assert isinstance(core, VariantLSTM) and core.free == architectures.architecture("lstm", variant).free_blocks
        assert core.free_weight_ih_l0.shape == (18, 6) and core.weight_ih_l0.shape == (24, 6)
        bias = (core.bias_ih_l1 + core.bias_hh_l1).detach()
        if variant == "no_forget_gate":
            assert (core.weight_hh_l1[6:12] == 0).all() and (torch.sigmoid(bias[6:12]) == 1.0).all()
        if variant == "coupled_gates":
            assert torch.equal(core.weight_hh_l1[:6], -core.weight_hh_l1[6:12])
            assert torch.equal(bias[6:12], torch.full((6,), 2.0)) and torch.equal(bias[:6], torch.full((6,), -2.0))
        if variant == "no_output_gate":
            assert (core.weight_ih_l0[18:] == 0).all() and (torch.sigmoid(bias[18:]) == 1.0).all()
            assert torch.equal(bias[6:12], torch.full((6,), 2.0))
    with pytest.raises(ValueError, match="LSTM's"):
        ModelConfig(20, architecture="gru", variant="coupled_gates")


def test_an_ablated_lstm_equals_nn_lstm_holding_its_effective_weights_and_trains_only_free_rows():
    torch.manual_seed(0)
    model = CharModel(ModelConfig(20, hidden_size=8, num_layers=2, embedding_dim=5, variant="coupled_gates"))
    twin = torch.nn.LSTM(5, 8, num_layers=2, batch_first=True)
    with torch.no_grad():
        for name, _ in twin.named_parameters():
            getattr(twin, name).copy_(getattr(model.lstm, name))
    x = torch.randn(3, 9, 5)
    out, (h, c) = model.lstm(x)
    expected, (h2, c2) = twin(x)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(c, c2, atol=1e-6, rtol=0)
    out.sum().backward()
    assert model.lstm.free_weight_hh_l0.grad.abs().sum() > 0  # gradients reach the free rows


def test_gate_bias_initialisation():
    gru = CharModel(ModelConfig(20, hidden_size=5, architecture="gru", update_bias=3.0)).gru
    assert torch.equal((gru.bias_ih_l0 + gru.bias_hh_l0)[5:10].detach(), torch.full((5,), 3.0))  # r | z | n
    torch.manual_seed(1)
    chrono = CharModel(ModelConfig(20, hidden_size=400, chrono=100)).lstm
    forget = (chrono.bias_ih_l0 + chrono.bias_hh_l0)[400:800].detach()
    assert forget.min() >= 0 and forget.max() <= math.log(99) + 1e-5 and forget.std() > 0.5
    assert torch.allclose((chrono.bias_ih_l0 + chrono.bias_hh_l0)[:400].detach(), -forget)  # input bias = -forget
    with pytest.raises(ValueError, match="no gates"):
        ModelConfig(20, architecture="rnn", chrono=10)


@pytest.mark.parametrize("architecture,variant", KINDS)
def test_every_architecture_trains_and_is_saved_and_loaded(architecture, variant, tmp_path):
    store = RunStore(tmp_path)
    config = preset_config("seed", architecture=architecture, variant=variant, param_budget=6_000, max_seconds=None,
                           epochs=0.02, eval_chars=2_000, seq_len=20, batch_size=8)
    training = CharTraining(config, store=store)
    assert training.run() is True
    run = load_run(training.run_dir)
    assert run.model.architecture == architecture and run.model.config.variant == variant
    assert run.config["parameters"] == count_parameters(run.model.config)
    assert abs(run.config["parameters"] - 6_000) < 0.1 * 6_000
    ids = torch.tensor([run.vocab.encode("ALCESTE.\nMoi, je veux")])
    with torch.no_grad():
        torch.testing.assert_close(run.model(ids)[0], training.model.eval()(ids)[0])
    assert np.isfinite(training.full_valid_loss) and training.full_valid_loss < 2 * math.log(len(run.vocab))


def test_a_run_saved_before_architectures_loads_as_an_lstm(tmp_path):
    store = RunStore(tmp_path)
    training = CharTraining(preset_config("seed", max_seconds=None, epochs=0.01, eval_chars=1_000, hidden_size=8),
                            store=store)
    training.run()
    config = json.loads((training.run_dir / "config.json").read_text())
    for key in ("architecture", "variant", "update_bias", "chrono"):  # what an older run's config lacks
        config["model"].pop(key)
        config["train"].pop(key)
    config["train"].pop("param_budget")
    (training.run_dir / "config.json").write_text(json.dumps(config))
    run = load_run(training.run_dir)
    assert run.model.architecture == "lstm" and isinstance(run.model.lstm, torch.nn.LSTM)
    resumed = CharTraining.resume(training.run_dir, store)
    assert resumed.config.architecture == "lstm"


def test_bad_architecture_settings_are_refused():
    with pytest.raises(ValueError, match="architecture must be one of lstm, gru, rnn"):
        TrainConfig(architecture="transformer")
    with pytest.raises(ValueError, match="variant must be one of"):
        TrainConfig(variant="no_input_gate")
    with pytest.raises(ValueError, match="param budget must be between"):
        TrainConfig(param_budget=10)


def test_the_readings_of_a_trace_follow_its_architecture():
    """Saturation, the unit finder, the long-form export and the surprisal read a GRU's and an RNN's traces."""
    from lstm_core import analysis, trace
    from lstm_core.corpus import Vocab

    text = "HARPAGON.\nAu voleur! au voleur! (Il sort.)\n"
    vocab = Vocab.from_text(text)
    for name in ("gru", "rnn"):
        torch.manual_seed(0)
        tr = trace(CharModel(ModelConfig(len(vocab), hidden_size=6, num_layers=2, architecture=name)).eval(),
                   vocab, text)
        saturation = analysis.saturation_frame(tr, 1)
        assert list(saturation["gate"].unique()) == list(architectures.architecture(name).sigmoid_gates)  # r, z; none for an RNN
        ranked = analysis.rank_units(tr, "speaker_name", top=4)
        assert set(ranked["quantity"]) == {"hidden_state"} and len(ranked) == 4
        frame = tr.long_frame()
        assert set(frame["quantity"]) == set(architectures.architecture(name).quantities)
        assert len(frame) == len(tr.quantities) * 2 * len(text) * 6
        assert analysis.next_char_frame(tr).shape[0] == len(text)


def test_the_registry_has_one_entry_per_cell_and_refuses_unknown_ones():
    assert architectures.ARCHITECTURES == ("lstm", "gru", "rnn")  # the strings saved in configs: never renamed
    assert architectures.VARIANTS == ("standard", "no_forget_gate", "coupled_gates", "no_output_gate")
    for entry in architectures.ENTRIES:
        module = entry.build(5, 4, 2, 0.0)
        assert architectures.of_module(module) is entry  # a module names its own entry back
        assert entry.state_count == (2 if entry.has_cell_state else 1)
        assert module.weight_hh_l0.shape[0] == max(len(entry.gate_symbols), 1) * 4  # a block per gate (an RNN: one)
    with pytest.raises(ValueError, match="is an LSTM's; a GRU has none"):
        architectures.architecture("gru", "coupled_gates")
    with pytest.raises(ValueError, match="RNN_RELU"):
        architectures.of_module(torch.nn.RNN(3, 4, nonlinearity="relu"))
    assert architectures.display_name("rnn") == "plain RNN" and architectures.display_name("mamba") == "mamba"
