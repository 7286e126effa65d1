"""Why this character (lstm_core.why): each tool against a hand computation, on tiny untrained models of every
architecture (exactness needs no training), and the command line's files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_core.cli import main
from lstm_core.corpus import Vocab
from lstm_core.model import CharModel, ModelConfig
from lstm_core.runs import WEIGHTS_FILE, RunStore, save_weights
from lstm_core.trace import trace
from lstm_core.why import WhyError
from lstm_core.why.attribution import attribute, deletion_curves
from lstm_core.why.common import sample_on, state_parts
from lstm_core.why.memory_diff import memory_diff
from lstm_core.why.patching import patch
from lstm_core.why.probes import fit_probe, split, steered_sample, train_probes

VOCAB = Vocab("ABC abc.\n")
TEXT = "AB. abc\nCAB cab. ba"
ARCHS = ["lstm", "gru", "rnn"]


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {arch: CharModel(ModelConfig(len(VOCAB), 12, 2, 6, architecture=arch)).eval() for arch in ARCHS}


def log_prob(model, text: str, target: int) -> float:
    with torch.no_grad():
        logits, _ = model(torch.tensor([VOCAB.encode(text)]))
    return float(torch.log_softmax(logits[0, -1].double(), -1)[target])


@pytest.mark.parametrize("arch", ARCHS)
def test_integrated_gradients_are_complete(models, arch):
    result = attribute(models[arch], VOCAB, TEXT, "ig", n_steps=32)
    assert result.completeness_gap < 0.05
    assert result.scores.sum() == pytest.approx(result.log_prob - result.baseline_log_prob, rel=0.05)


@pytest.mark.parametrize("arch", ARCHS)
def test_occlusion_is_the_drop_when_one_character_becomes_a_space(models, arch):
    model = models[arch]
    result = attribute(model, VOCAB, TEXT, "occlusion", target="a")
    target = VOCAB.stoi["a"]
    by_hand = [log_prob(model, TEXT, target) - log_prob(model, TEXT[:t] + " " + TEXT[t + 1:], target)
               for t in range(len(TEXT))]
    np.testing.assert_allclose(result.scores, by_hand, atol=1e-5)
    assert result.log_prob == pytest.approx(log_prob(model, TEXT, target), abs=1e-6)


def test_deletion_curves_start_at_the_targets_probability(models):
    result = attribute(models["lstm"], VOCAB, TEXT, "grad_x_input")
    curves = deletion_curves(models["lstm"], VOCAB, result, draws=3)
    assert curves.method[0] == pytest.approx(np.exp(result.log_prob)) == pytest.approx(curves.random[0])
    assert len(curves.k) == len(TEXT) + 1 and "random" in curves.verdict("gradient × input")


@pytest.mark.parametrize("arch", ARCHS)
def test_memory_diff_is_two_plain_forward_passes_and_zero_before_the_change(models, arch):
    model, position = models[arch], 5
    diff = memory_diff(model, VOCAB, TEXT, position, "C")
    changed = TEXT[:position] + "C" + TEXT[position + 1:]
    with torch.no_grad():
        (logits_a, state_a), (logits_b, state_b) = (model(torch.tensor([VOCAB.encode(t)])) for t in (TEXT, changed))
        out_a, _ = model.recurrent(model.embedding(torch.tensor([VOCAB.encode(TEXT)])))
        out_b, _ = model.recurrent(model.embedding(torch.tensor([VOCAB.encode(changed)])))
    top = diff.delta["hidden_state"][-1]  # (time, units): the top layer's h, which the module outputs
    np.testing.assert_allclose(top, (out_b - out_a)[0].numpy(), atol=1e-5)
    for name, final in state_parts(model, state_b).items():  # the last step of every layer and state
        np.testing.assert_allclose(diff.delta[name][:, -1], (final - state_parts(model, state_a)[name])[:, 0].numpy(),
                                   atol=1e-5)
    tv = 0.5 * (torch.softmax(logits_b[0].double(), -1) - torch.softmax(logits_a[0].double(), -1)).abs().sum(-1)
    np.testing.assert_allclose(diff.total_variation, tv.numpy(), atol=1e-5)
    frame = diff.frame()
    assert set(frame["quantity"]) == set(state_parts(model, state_a))
    assert (frame[frame["step"] < position]["norm"] == 0).all()  # exactly 0
    assert (frame[frame["step"] == position]["norm"] > 0).all()


def test_memory_diff_refuses_bad_input(models):
    for args, words in [(("", 0, "A"), "no text"), ((TEXT, 99, "A"), "outside the text"),
                        ((TEXT, 0, "€"), "not in this model's vocabulary"), ((TEXT, 0, "A"), "already holds")]:
        with pytest.raises(WhyError, match=words):
            memory_diff(models["lstm"], VOCAB, *args)


@pytest.mark.parametrize("arch", ARCHS)
def test_a_patched_run_is_the_replay_from_the_patched_state(models, arch):
    model = models[arch]
    source, target, units = "CCC cab.", "abc AB.\nba", [1, 4, 7]
    result = patch(model, VOCAB, source, target, 6, 3, layer=1, units=units, length=20, seed=3)
    with torch.no_grad():
        _, source_state = model(torch.tensor([VOCAB.encode(source[:7])]))
        _, target_state = model(torch.tensor([VOCAB.encode(target[:4])]))
    by_hand = {name: value.clone() for name, value in state_parts(model, target_state).items()}
    for name, value in state_parts(model, source_state).items():
        by_hand[name][1, 0, units] = value[1, 0, units]  # layer 1, the chosen units, every state
    state = (by_hand["hidden_state"], by_hand["cell_state"]) if "cell_state" in by_hand else by_hand["hidden_state"]
    replay = trace(model, VOCAB, target[4:], state=state)  # the numpy replay, from the patched state
    np.testing.assert_allclose(result.probs_patched[1:], replay.probs, atol=1e-5)
    head = model.head(by_hand["hidden_state"][-1, 0]).detach().double()
    np.testing.assert_allclose(result.probs_patched[0], torch.softmax(head, -1).numpy(), atol=1e-6)
    plain = trace(model, VOCAB, target)
    np.testing.assert_allclose(result.probs_plain, plain.probs[3:], atol=1e-5)  # from the patch step on
    assert len(result.sample_plain) == len(result.sample_patched) == 20


def test_patching_a_cell_state_a_gru_lacks_says_so(models):
    with pytest.raises(WhyError, match="no cell state"):
        patch(models["gru"], VOCAB, "abc", "abc", 1, 1, quantity="cell_state")


def test_a_probe_is_scored_on_a_held_out_part_it_never_saw():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(400, 6)).astype(np.float32)
    feature = (states[:, 2] > 0).astype(np.float32)
    cut = split(len(feature))
    flipped = feature.copy()
    flipped[cut:] = 1 - flipped[cut:]  # the held-out part says the opposite of what the training part taught
    assert fit_probe(states, feature, "vowel").score > 0.95
    probe = fit_probe(states, flipped, "vowel")
    assert probe.score < 0.05 and probe.unit == 2 and probe.held_out_steps == len(feature) - cut
    values = states[:, 3] * 2.0 + 1.0
    assert fit_probe(states, values, "position_in_line").score > 0.99


def test_probes_of_a_model_and_steering_with_alpha_zero_is_the_plain_sample(models):
    model = models["lstm"]
    text = ("AB.\nabc cab. \"ab\" ca\n" * 30)
    probes = train_probes(model, VOCAB, text, layer=1, quantity="cell_state", features=["vowel", "position_in_line"])
    assert {p.feature for p in probes} == {"vowel", "position_in_line"}
    probe = probes[0]
    with torch.no_grad():
        _, state = model(torch.tensor([VOCAB.encode("AB.")]))
        plain = sample_on(model, VOCAB, model(torch.tensor([VOCAB.encode("AB.")]))[0][0, -1], state, 30, 1.0, 5)
    assert steered_sample(model, VOCAB, "AB.", probe, 0.0, 30, 1.0, 5) == plain
    assert steered_sample(model, VOCAB, "AB.", probe, 50.0, 30, 1.0, 5) != plain


@pytest.fixture(scope="module")
def run_dir(models, tmp_path_factory):
    model = models["gru"]
    path = RunStore(tmp_path_factory.mktemp("why")).create("tiny GRU", {"kind": "char", "model": model.config.to_dict(),
                                                                         "vocab": VOCAB.chars})
    save_weights(model, path / WEIGHTS_FILE)
    return path


def test_the_command_line_writes_scores_and_diffs(run_dir, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["attribute", "--run", str(run_dir), "--text", TEXT, "--method", "occlusion", "--out", str(out)]) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["position", "char", "score"] and len(frame) == len(TEXT)
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("target ")
    out = tmp_path / "diff.csv"
    assert main(["memory-diff", "--run", str(run_dir), "--text", TEXT, "--position", "4", "--char", "C",
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["step", "layer", "quantity", "norm"] and set(frame["quantity"]) == {"hidden_state"}
    assert (frame[frame["step"] < 4]["norm"] == 0).all()
    assert main(["attribute", "--run", str(run_dir), "--text", "", "--out", str(out)]) == 2
    assert main(["memory-diff", "--run", str(run_dir), "--text", "ab", "--position", "5", "--char", "C",
                 "--out", str(out)]) == 2
    assert main(["patch", "--run", str(tmp_path / "none"), "--source", "a", "--source-step", "0", "--text", "b",
                 "--step", "0"]) == 2
    assert "error:" in capsys.readouterr().err
