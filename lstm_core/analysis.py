"""Reading a trace: text features, unit rankings, gate saturation, distributions and entropy.

The Gates & states and Generate pages show these; everything here is plain numpy over what the
model computed (a :class:`~lstm_core.trace.Trace` or a sampled distribution), with no Streamlit.

- Features of a Molière text (speaker names in capitals, stage directions, position in the line,
  vowels, punctuation, quotes), one value per character, and the units whose activity correlates
  with them: the "unit finder" of Karpathy, Johnson and Fei-Fei, "Visualizing and Understanding
  Recurrent Networks" (2015), and of LSTMVis (Strobelt et al. 2017).
- Sorting and top-k filtering of units for the heatmaps (by index, mean, variance, correlation).
- Gate saturation: per unit, the share of steps below 0.1 and above 0.9 (Karpathy et al., fig. 3).
- The distribution at one sampling step before and after temperature, top-k and top-p; entropy.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from .corpus import load_corpus
from .trace import Trace

VOWELS = set("aeiouyàâäéèêëîïôöùûüÿæœAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")
SORT_ORDERS = ("index", "mean", "variance", "correlation")
FEATURES = {  # name -> what it marks, for the page's labels
    "speaker_name": "inside a speaker's name in capitals (\"HARPAGON.\")",
    "stage_direction": "inside a stage direction (parentheses, or after \"NAME,\" on a speaker line)",
    "position_in_line": "position within the line (characters since the last newline)",
    "after_newline": "the character right after a newline",
    "vowel": "a vowel",
    "punctuation": "a punctuation mark",
    "inside_quotes": "inside quotes (« » or \" \")",
    "capital_letter": "a capital letter",
}
_SPEAKER_LINE = re.compile(r"^([A-ZÀ-ÖØ-ÞŒ][A-ZÀ-ÖØ-ÞŒ' \-]*[A-ZÀ-ÖØ-ÞŒ])([.,])(.*)$")


def text_features(text: str) -> dict[str, np.ndarray]:
    """One float array per feature in :data:`FEATURES`, each (len(text),), for every character."""
    n = len(text)
    speaker = np.zeros(n, np.float32)
    stage = np.zeros(n, np.float32)
    position = np.zeros(n, np.float32)
    quotes = np.zeros(n, np.float32)
    start = 0
    for line in text.split("\n"):
        match = _SPEAKER_LINE.match(line)
        if match and sum(ch.isupper() for ch in match.group(1)) >= 2:
            speaker[start:start + match.end(1)] = 1.0
            if match.group(2) == ",":  # "LA FLÈCHE, sortant du jardin." : the rest is a direction
                stage[start + match.end(2):start + len(line)] = 1.0
        start += len(line) + 1
    parentheses = guillemets = 0
    in_plain_quote = False
    column = 0
    for t, ch in enumerate(text):
        position[t] = column
        column = 0 if ch == "\n" else column + 1
        parentheses += ch == "("
        guillemets += ch == "«"
        opening_plain = ch == '"' and not in_plain_quote
        in_plain_quote = in_plain_quote or opening_plain
        if parentheses > 0:
            stage[t] = 1.0
        if guillemets > 0 or in_plain_quote:
            quotes[t] = 1.0  # the marks themselves count as inside
        if ch == ")" and parentheses > 0:
            parentheses -= 1
        if ch == "»" and guillemets > 0:
            guillemets -= 1
        if ch == '"' and not opening_plain:
            in_plain_quote = False
    after_newline = np.array([t > 0 and text[t - 1] == "\n" for t in range(n)], np.float32)
    return {
        "speaker_name": speaker,
        "stage_direction": stage,
        "position_in_line": position,
        "after_newline": after_newline,
        "vowel": np.array([ch in VOWELS for ch in text], np.float32),
        "punctuation": np.array([unicodedata.category(ch).startswith("P") for ch in text], np.float32),
        "inside_quotes": quotes,
        "capital_letter": np.array([ch.isupper() for ch in text], np.float32),
    }


FEATURE_PREFERENCE = ("speaker_name", "position_in_line", "stage_direction", "inside_quotes", "after_newline",
                      "capital_letter", "punctuation", "vowel")  # the first one present is the default view


def features_present(features: dict[str, np.ndarray]) -> list[str]:
    """The features that vary over the text (a feature absent from it, or everywhere, ranks nothing)."""
    return [name for name in FEATURES if np.ptp(features[name]) > 0] if features else []


def default_feature(features: dict[str, np.ndarray]) -> str:
    """The feature a view of this text should sort by: the most telling one that occurs in it."""
    present = features_present(features)
    return next((name for name in FEATURE_PREFERENCE if name in present), "position_in_line")


def correlations(values: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each unit's values (time, units) with ``feature`` (time,): (units,).

    A unit (or a feature) that never changes over the text has no correlation: 0 is returned.
    """
    values = np.asarray(values, np.float64)
    feature = np.asarray(feature, np.float64)
    if values.shape[0] != feature.shape[0]:
        raise ValueError(f"the feature has {feature.shape[0]} steps but the values have {values.shape[0]}")
    centred_values = values - values.mean(axis=0)
    centred_feature = feature - feature.mean()
    spread = np.sqrt((centred_values ** 2).sum(axis=0) * (centred_feature ** 2).sum())
    covariance = centred_feature @ centred_values
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(spread > 1e-12, covariance / np.where(spread > 1e-12, spread, 1.0), 0.0)
    return r


def unit_order(values: np.ndarray, by: str = "index", feature: np.ndarray | None = None) -> np.ndarray:
    """Unit indices of ``values`` (time, units) in display order.

    ``index``: 0, 1, 2...; ``mean`` / ``variance``: largest first; ``correlation``: strongest
    correlation with ``feature`` first, whatever its sign.
    """
    units = values.shape[1]
    if by == "index":
        return np.arange(units)
    if by == "mean":
        key = values.mean(axis=0)
    elif by == "variance":  # a single step has no variance: the strongest values come first then
        key = values.var(axis=0) if values.shape[0] > 1 else np.abs(values[0])
    elif by == "correlation":
        if feature is None:
            raise ValueError("sorting by correlation needs a feature of the text")
        key = np.abs(correlations(values, feature))
    else:
        raise ValueError(f"unknown sort order {by!r}; choose one of {', '.join(SORT_ORDERS)}")
    return np.argsort(-key, kind="stable")


def rank_units(tr: Trace, feature: str, quantities=None, top: int = 10) -> pd.DataFrame:
    """The units whose activity follows ``feature`` of the traced text most closely.

    One row per (layer, quantity, unit) among the ``top`` strongest, with its correlation.
    """
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; choose one of {', '.join(FEATURES)}")
    marks = text_features(tr.text)[feature]
    # the states by default: an LSTM's c and h, a GRU's or an RNN's h; a quantity the trace lacks is passed over
    quantities = [q for q in (quantities or ("cell_state", "hidden_state")) if q in tr.quantities]
    rows = []
    for quantity in quantities:
        for layer in range(tr[quantity].shape[0]):
            r = correlations(tr[quantity][layer], marks)
            for unit in np.argsort(-np.abs(r))[:top]:
                rows.append({"layer": layer, "quantity": quantity, "unit": int(unit), "correlation": float(r[unit])})
    frame = pd.DataFrame(rows, columns=["layer", "quantity", "unit", "correlation"])
    frame = frame.reindex(frame["correlation"].abs().sort_values(ascending=False).index)
    return frame.head(top).reset_index(drop=True)


def units_found(tr: Trace, min_correlation: float = 0.5,
                quantities=("cell_state", "hidden_state")) -> pd.DataFrame:
    """For each feature present in the text, the single unit that follows it best, kept when |r| is at
    least ``min_correlation``: the interpretable units of this model, found, not hand-picked. Quantities
    the model does not have (a GRU's cell state) are passed over."""
    features = text_features(tr.text)
    rows = []
    for feature in features_present(features):
        best = rank_units(tr, feature, quantities, top=1)
        if len(best) and abs(best.loc[0, "correlation"]) >= min_correlation:
            rows.append({"feature": feature, **best.iloc[0].to_dict()})
    frame = pd.DataFrame(rows, columns=["feature", "layer", "quantity", "unit", "correlation"])
    return frame.reindex(frame["correlation"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def reference_text(corpus: str = "full", length: int = 3000) -> str:
    """A longer stretch of the validation text (from a speaker's line) on which units are judged."""
    passages = validation_passages(corpus, count=1, length=length)
    return passages[0]


def saturation_frame(tr: Trace, layer: int, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
    """Per unit and gate, the share of steps below ``low`` (left) and above ``high`` (right)."""
    frames = []
    for gate in tr.arch.sigmoid_gates:  # an LSTM's i, f, o; a GRU's r, z; an RNN has none
        left, right = tr.saturation(gate, layer, low, high)
        frames.append(pd.DataFrame({"gate": gate, "unit": np.arange(len(left)),
                                    "left_saturated": left, "right_saturated": right}))
    columns = ["gate", "unit", "left_saturated", "right_saturated"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def trace_csv(tr: Trace) -> bytes:
    """The whole trace in long form (layer, time, character, unit, quantity, value) as CSV bytes."""
    return tr.long_frame().to_csv(index=False, float_format="%.6g").encode("utf-8")


def next_char_frame(tr: Trace, k: int = 5) -> pd.DataFrame:
    """Per position: the character, the surprisal (bits) of the character that follows, and the top-k next."""
    surprisal = np.append(tr.surprisal_bits(), np.nan)  # the last character has no known successor
    rows = []
    for t, ch in enumerate(tr.chars):
        best = tr.top_next(t, k)
        rows.append({"time": t, "character": ch, "next_actual": tr.chars[t + 1] if t + 1 < len(tr.chars) else "",
                     "surprisal_bits": float(surprisal[t]),
                     "top_next": "  ".join(f"{show_char(c)} {p:.2f}" for c, p in best)})
    return pd.DataFrame(rows)


def entropy_bits(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each distribution along the last axis."""
    p = np.asarray(probs, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def distribution_frame(first: np.ndarray, second: np.ndarray, vocab_chars, top: int = 15,
                       names: tuple[str, str] = ("model", "sampled_from")) -> pd.DataFrame:
    """The likeliest characters under either of two distributions over the vocabulary, side by side.

    By default: the model's own probabilities (temperature 1) and those actually sampled from
    (after temperature, top-k, top-p); the Gates page passes ("before", "after") an intervention.
    """
    first, second = np.asarray(first), np.asarray(second)
    order = np.argsort(-np.maximum(first, second), kind="stable")[:top]
    return pd.DataFrame({"character": [show_char(vocab_chars[j]) for j in order],
                         names[0]: first[order], names[1]: second[order]})


def show_char(ch: str) -> str:
    """A visible stand-in for tokens that print as nothing (newline, space, tab, empty)."""
    return {"\n": "↵", " ": "␣", "\t": "⇥", "": "∅"}.get(ch, ch)


def speaker_prime(text: str) -> str:
    """The commonest speaker's name line of a play ("HARPAGON.\n"), or a newline for a text with none:
    a sample primed with it reads as a scene from its first character."""
    names: dict[str, int] = {}
    for line in text[:200_000].split("\n"):
        match = _SPEAKER_LINE.match(line)
        if match and match.group(2) == "." and not match.group(3).strip() and sum(ch.isupper() for ch in match.group(1)) >= 2:
            names[match.group(1)] = names.get(match.group(1), 0) + 1
    return f"{max(names, key=names.get)}.\n" if names else "\n"


def validation_passages(corpus: str = "full", count: int = 40, length: int = 500) -> list[str]:
    """``count`` passages of ``length`` characters from a corpus's validation part, each starting at a speaker's line.

    ``corpus`` is a run's corpus name; texts other than the bundled ones ("full", "seed") are not
    kept with a run, so the Molière validation text stands in for them.
    """
    text = load_corpus(corpus if corpus in ("full", "seed") else "full").valid_text
    starts = [m.start() + 1 for m in re.finditer(r"\n[A-ZÀ-ÖØ-ÞŒ][A-ZÀ-ÖØ-ÞŒ' \-]+[.,]", text)]
    starts = [s for s in starts if s + length <= len(text)] or [0]
    step = max(1, len(starts) // count)
    return [text[s:s + length] for s in starts[::step][:count]]


def parse_units(text: str, hidden_size: int) -> list[int]:
    """Unit indices from "3, 7, 12-15"; a ValueError says what is wrong with the list."""
    units = []
    for part in filter(None, (p.strip() for p in str(text).replace(";", ",").split(","))):
        try:
            if "-" in part[1:]:
                first, last = (int(x) for x in part.split("-", 1))
                units.extend(range(first, last + 1))
            else:
                units.append(int(part))
        except ValueError:
            raise ValueError(f"{part!r} is not a unit number or a range like 12-15") from None
    if not units:
        raise ValueError("name at least one unit, e.g. 3, 7 or 10-12")
    bad = [u for u in units if not 0 <= u < hidden_size]
    if bad:
        raise ValueError(f"units run from 0 to {hidden_size - 1}; {bad[0]} is out of range")
    return sorted(set(units))


def distinct_words(text: str) -> float:
    """The share of a text's words (letters only, lowercased) that are distinct: low for a text that repeats itself."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return len(set(words)) / max(1, len(words))


def sample_measures(drawn) -> dict[str, float]:
    """How spread and how repetitive a sample is (``drawn``: lstm_core.sampling's SampledChar steps): the mean
    entropy in bits of the distributions it was drawn from, and the share of its words that are distinct."""
    return {"entropy": float(np.mean(entropy_bits(np.stack([s.probs for s in drawn])))),
            "distinct": distinct_words("".join(s.char for s in drawn))}
