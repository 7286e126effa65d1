"""Reading a trace: text features, unit ranking and sorting, saturation, CSV, entropy, interventions in sampling."""

import io

import numpy as np
import pandas as pd
import pytest
import torch

from lab_ui import gate_views
from lstm_core import analysis
from lstm_core.architectures import architecture
from lstm_core.corpus import Vocab
from lstm_core.model import CharModel, ModelConfig
from lstm_core.sampling import sample, sample_with_interventions, shifted_interventions
from lstm_core.gates import QUANTITIES
from lstm_core.trace import Intervention, trace

SCENE = "HARPAGON.\n\nAu voleur! «Ah» (Il sort.)\nLA FLÈCHE, sortant.\n\nOui."
VOCAB = Vocab.from_text(SCENE + "xyz")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CharModel(ModelConfig(len(VOCAB), hidden_size=12, num_layers=2, embedding_dim=8)).eval()


def marks(values) -> str:
    return "".join("#" if v else "." for v in values)


def test_text_features_mark_speakers_directions_quotes_and_lines():
    f = analysis.text_features(SCENE)
    assert set(f) == set(analysis.FEATURES)
    assert all(v.shape == (len(SCENE),) for v in f.values())
    assert marks(f["speaker_name"][:10]) == "########.."  # "HARPAGON" without its full stop
    flèche = SCENE.index("LA FLÈCHE")
    assert marks(f["speaker_name"][flèche:flèche + 11]) == "#########.."
    assert f["stage_direction"][SCENE.index("sortant")] == 1  # after "NAME," on a speaker line
    assert f["stage_direction"][SCENE.index("Il sort")] == 1 and f["stage_direction"][SCENE.index("voleur")] == 0
    assert marks(f["inside_quotes"][SCENE.index("«"):SCENE.index("»") + 2]) == "####."
    assert list(f["position_in_line"][SCENE.index("Au"):SCENE.index("Au") + 3]) == [0, 1, 2]
    assert f["after_newline"][SCENE.index("Au")] == 1 and f["after_newline"][SCENE.index("u v")] == 0
    assert f["vowel"][SCENE.index("Au") + 1] == 1 and f["punctuation"][SCENE.index("!")] == 1


def test_correlations_equal_pearson_and_constant_units_give_zero():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(50, 4))
    values[:, 3] = 1.5  # a unit that never moves
    feature = rng.normal(size=50)
    r = analysis.correlations(values, feature)
    for unit in range(3):
        assert r[unit] == pytest.approx(np.corrcoef(values[:, unit], feature)[0, 1])
    assert r[3] == 0.0
    with pytest.raises(ValueError, match="steps"):
        analysis.correlations(values, feature[:10])


def test_unit_order_sorts_by_each_key():
    values = np.array([[0.0, 5.0, 1.0], [0.0, 5.0, -1.0], [0.0, 5.2, 1.0]])  # (time, units)
    assert list(analysis.unit_order(values, "index")) == [0, 1, 2]
    assert list(analysis.unit_order(values, "mean")) == [1, 2, 0]
    assert list(analysis.unit_order(values, "variance")) == [2, 1, 0]
    feature = np.array([1.0, -1.0, 1.0])  # unit 2 follows it exactly
    assert analysis.unit_order(values, "correlation", feature)[0] == 2
    with pytest.raises(ValueError, match="feature"):
        analysis.unit_order(values, "correlation")
    with pytest.raises(ValueError, match="sort order"):
        analysis.unit_order(values, "colour")


def test_rank_units_finds_a_unit_that_tracks_speaker_names(model):
    tr = trace(model, VOCAB, SCENE)
    planted = analysis.text_features(SCENE)["speaker_name"] * 2 - 1
    tr.cell_state[1, :, 7] = planted  # layer 1, unit 7 now marks speaker names exactly
    best = analysis.rank_units(tr, "speaker_name", top=5)
    assert best.iloc[0].to_dict() == {"layer": 1, "quantity": "cell_state", "unit": 7, "correlation": pytest.approx(1.0)}
    assert list(best["correlation"].abs()) == sorted(best["correlation"].abs(), reverse=True)
    with pytest.raises(ValueError, match="unknown feature"):
        analysis.rank_units(tr, "rhyme")


def test_saturation_frame_counts_steps_below_and_above(model):
    tr = trace(model, VOCAB, SCENE)
    tr.forget_gate[0, :, 2] = np.where(np.arange(len(SCENE)) % 4 == 0, 0.05, 0.95)
    frame = analysis.saturation_frame(tr, 0)
    assert set(frame["gate"]) == set(architecture("lstm").sigmoid_gates) and len(frame) == 3 * 12
    row = frame[(frame.gate == "forget_gate") & (frame.unit == 2)].iloc[0]
    assert row.left_saturated == pytest.approx(np.mean(np.arange(len(SCENE)) % 4 == 0))
    assert row.left_saturated + row.right_saturated == pytest.approx(1.0)


def test_trace_csv_is_long_form_and_holds_every_value(model):
    tr = trace(model, VOCAB, "Oui.\nNon")
    frame = pd.read_csv(io.BytesIO(analysis.trace_csv(tr)), keep_default_na=False)
    assert list(frame.columns) == ["layer", "time", "character", "unit", "quantity", "value"]
    assert len(frame) == 2 * 8 * 12 * len(QUANTITIES)
    row = frame[(frame.layer == 1) & (frame.time == 4) & (frame.unit == 5) & (frame.quantity == "forget_gate")].iloc[0]
    assert row.character == "\n"
    assert row.value == pytest.approx(tr.forget_gate[1, 4, 5], rel=1e-5)


def test_next_char_frame_surprisal_and_top_next(model):
    tr = trace(model, VOCAB, "Oui.")
    frame = analysis.next_char_frame(tr, k=3)
    p = tr.probs[0, VOCAB.stoi["u"]]
    assert frame.loc[0, "surprisal_bits"] == pytest.approx(-np.log2(p), rel=1e-5)
    assert np.isnan(frame.loc[3, "surprisal_bits"]) and frame.loc[3, "next_actual"] == ""
    best = VOCAB.chars[int(np.argmax(tr.probs[1]))]
    assert frame.loc[1, "top_next"].startswith(analysis.show_char(best))


def test_entropy_and_distribution_frame():
    assert analysis.entropy_bits(np.full(4, 0.25)) == pytest.approx(2.0)
    assert analysis.entropy_bits(np.array([[1.0, 0, 0], [0.5, 0.5, 0]])) == pytest.approx([0.0, 1.0])
    frame = analysis.distribution_frame(np.array([0.1, 0.6, 0.3]), np.array([0.0, 1.0, 0.0]), ["a", " ", "\n"], top=2)
    assert list(frame["character"]) == ["␣", "\u21b5"]
    assert list(frame["sampled_from"]) == [1.0, 0.0]


def test_parse_units_and_validation_passages():
    assert analysis.parse_units("3, 7; 10-12", 20) == [3, 7, 10, 11, 12]
    for bad, message in (("", "at least one"), ("x", "not a unit"), ("25", "out of range")):
        with pytest.raises(ValueError, match=message):
            analysis.parse_units(bad, 20)
    passages = analysis.validation_passages("seed", count=5, length=200)
    assert len(passages) == 5 and all(len(p) == 200 for p in passages)
    assert all(analysis.text_features(p)["speaker_name"][0] == 1 for p in passages)


def test_sampling_with_interventions(model):
    prime = "HARPAGON.\n\n"
    plain = sample(model, VOCAB, prime, 30, temperature=0)
    assert sample_with_interventions(model, VOCAB, prime, 30, (), temperature=0) == plain
    assert sample_with_interventions(model, VOCAB, prime, 30, (), 1.0, seed=4) == sample(model, VOCAB, prime, 30, 1.0, seed=4)
    silenced = [Intervention("hidden_state", layer, list(range(12)), 0.0) for layer in (0, 1)]
    assert sample_with_interventions(model, VOCAB, prime, 30, silenced, temperature=0) != plain
    # An edit limited to the prime's first steps only changes the state carried on.
    early = Intervention("cell_state", 0, [1], 0.5, start=0, stop=1)
    assert shifted_interventions([early], len(prime)) == []
    moved = shifted_interventions([Intervention("forget_gate", 0, [1], 0.0, start=2, stop=20)], 5)
    assert (moved[0].start, moved[0].stop) == (-3, 15)


def test_painted_text_escapes_tokens_and_labels_each_with_its_value():
    html = gate_views.painted_text(["<b>", "x"], [0.5, -0.25], "cell_state")
    assert "&lt;b&gt;" in html and html.count("<span title=") == 2 and "Colour key" in html and "step 1: -0.250" in html
