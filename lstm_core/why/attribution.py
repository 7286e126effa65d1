"""Which earlier characters made this prediction: attribution scores through Captum, and how faithful they are.

The explained number is the model's log-probability of one next character (the one it predicts, or one the
user picks) after reading a text. Each method gives every input character a score:

    ig              integrated gradients on the embeddings (Sundararajan et al. 2017), Captum's
                    LayerIntegratedGradients, from the all-zero embedding. Its scores sum to
                    f(text) - f(zero embeddings) up to the integral's error: the completeness gap.
    grad_x_input    the gradient of f with respect to each embedding, times the embedding, summed over its
                    dimensions (Captum's LayerGradientXActivation).
    occlusion       f(text) - f(text with that one character replaced by a space; a vocabulary without a space
                    uses its stand-in character), Captum's Occlusion.

Faithfulness is measured, not assumed (Samek et al. 2017's deletion curve): replace the k best-scored characters
(k = 0, 1, 2...) and watch the target's probability fall, beside the same with characters chosen at random,
averaged over several draws. A method whose curve does not fall faster (a smaller area under it) is no better
than chance at finding what mattered.

Known pitfalls: cuDNN refuses the backward pass of an RNN in eval mode on a GPU (lstm_core.why.common switches it
off there), and integrated gradients can give the first character an outsized score (the state starts at zero:
its first step is where the path from the zero embedding changes the most).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .common import WhyError, char_id, encode, gradients_on, log_probs

METHODS = {  # name -> what the page and the command line call it
    "ig": "integrated gradients",
    "grad_x_input": "gradient × input",
    "occlusion": "occlusion",
}
IG_STEPS = 64  # integration steps of integrated gradients (Gauss-Legendre): the completeness gap stays small
RANDOM_DRAWS = 20  # random orders averaged for the deletion curve's baseline
MAX_DELETIONS = 30  # the deletion curve removes at most this many characters
EXAMPLE_TEXT = "Je ne vous entends point.\n\nHARPAGON"  # what /why explains first: the "." after the name


class _ZeroableEmbedding(nn.Module):
    """The model's embedding, with one extra id (the vocabulary's size) whose vector is all zeros: the baseline of
    integrated gradients, reached as an input so that Captum's LayerIntegratedGradients can run from it."""

    def __init__(self, embedding: nn.Embedding):
        super().__init__()
        self.embedding = embedding
        self.zero_id = embedding.num_embeddings

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        known = ids < self.zero_id
        vectors = self.embedding(torch.where(known, ids, torch.zeros_like(ids)))  # (batch, time, embedding)
        return vectors * known.unsqueeze(-1)


class _Explained(nn.Module):
    """f(ids) = log p(target | ids): the model's log-probability of ``target`` after the last character, (batch,)."""

    def __init__(self, model, target: int):
        super().__init__()
        self.model, self.target = model, target
        self.embed = _ZeroableEmbedding(model.embedding)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.model.recurrent(self.embed(ids))  # (batch, time, hidden)
        logits = self.model.head(out[:, -1])  # (batch, vocab): dropout is off in eval mode
        return torch.log_softmax(logits.double(), dim=-1)[:, self.target]


@dataclass
class Attribution:
    """One method's scores for one prediction: ``scores[t]`` is character t's share in log p(target)."""

    method: str
    chars: list[str]
    scores: np.ndarray  # (time,)
    target: str  # the explained next character
    log_prob: float  # log p(target | text)
    predicted: str  # the model's likeliest next character
    replaced_by: str  # what occlusion and the deletion curve put in a character's place
    replacements: dict = field(default_factory=dict)  # unknown characters of the text and what stood in
    baseline_log_prob: float | None = None  # ig: f(zero embeddings)
    n_steps: int | None = None  # ig: integration steps

    @property
    def completeness_gap(self) -> float | None:
        """ig: |sum of scores - (f(text) - f(baseline))| relative to |f(text) - f(baseline)| (None otherwise)."""
        if self.baseline_log_prob is None:
            return None
        difference = self.log_prob - self.baseline_log_prob
        return abs(float(self.scores.sum()) - difference) / max(abs(difference), 1e-12)

    def frame(self) -> pd.DataFrame:
        """One row per input character: position, char, score (the command line's CSV)."""
        return pd.DataFrame({"position": np.arange(len(self.chars)), "char": self.chars, "score": self.scores})

    def strongest(self, count: int) -> pd.DataFrame:
        """The ``count`` rows of :meth:`frame` with the largest scores in size, largest first."""
        rows = self.frame()
        return rows.reindex(rows["score"].abs().sort_values(ascending=False).index).head(count)


def captum_attr():
    """Captum's attribution module, loaded at the first attribution: loading it takes about a second (it brings
    matplotlib and IPython along), which every command of the command line would otherwise pay first."""
    import captum.attr

    return captum.attr


def attribute(model, vocab, text: str, method: str = "ig", target: str | None = None,
              n_steps: int = IG_STEPS) -> Attribution:
    """Score every character of ``text`` by its part in the model's log-probability of ``target`` (one
    character of the vocabulary; None: the character the model predicts) after reading it."""
    if method not in METHODS:
        raise WhyError(f"The method must be one of {', '.join(METHODS)}, got {method!r}.")
    ids, cleaned, replacements = encode(vocab, text)
    model.eval()
    with torch.no_grad():
        last = log_probs(model, ids)[0, -1]
    predicted = vocab.chars[int(last.argmax())]
    target_id = char_id(vocab, target, "The target character") if target is not None else int(last.argmax())
    explained = _Explained(model, target_id)
    baseline, captum = None, captum_attr()
    with gradients_on(model):
        if method == "ig":
            zero = torch.full_like(ids, explained.embed.zero_id)
            scores = captum.LayerIntegratedGradients(explained, explained.embed).attribute(
                ids, baselines=zero, n_steps=n_steps, internal_batch_size=n_steps)
            with torch.no_grad():
                baseline = float(explained(zero)[0])
        elif method == "grad_x_input":
            scores = captum.LayerGradientXActivation(explained, explained.embed).attribute(ids)
        else:
            scores = captum.Occlusion(explained).attribute(ids, sliding_window_shapes=(1,), baselines=vocab.stoi[vocab.fallback],
                                                    perturbations_per_eval=ids.shape[1])  # one batched pass
    scores = scores.detach().double()
    if scores.dim() == 3:  # (1, time, embedding): a character's score is the sum over its embedding
        scores = scores.sum(-1)
    return Attribution(method, list(cleaned), scores[0].numpy(), vocab.chars[target_id], float(last[target_id]),
                       predicted, vocab.fallback, replacements, baseline, n_steps if method == "ig" else None)


@dataclass
class DeletionCurves:
    """The target's probability as the k best-scored characters are replaced (k = 0, 1, ...), beside the mean
    over random orders. A smaller area (the mean over k) means the scores found what mattered sooner."""

    k: np.ndarray  # (steps,)
    method: np.ndarray  # (steps,) probability after replacing the method's top-k
    random: np.ndarray  # (steps,) mean over random draws
    draws: int

    @property
    def method_area(self) -> float:
        return float(self.method.mean())

    @property
    def random_area(self) -> float:
        return float(self.random.mean())

    @property
    def beats_random(self) -> bool:
        return self.method_area < self.random_area

    def verdict(self, name: str) -> str:
        """One sentence: does the method's curve fall faster than random's?"""
        areas = f"area {self.method_area:.3f} against random's {self.random_area:.3f}"
        if self.beats_random:
            return f"The {name} curve falls faster than random's ({areas}): its top characters matter."
        return (f"The {name} curve does not fall faster than random's ({areas}): here its scores are no "
                "better than chance at finding what mattered.")


def deletion_curves(model, vocab, attribution: Attribution, max_deletions: int = MAX_DELETIONS,
                    draws: int = RANDOM_DRAWS, seed: int = 0) -> DeletionCurves:
    """Replace the top-k characters by ``attribution``'s scores (k = 0 ... min(len, max_deletions)) with its
    stand-in character, and a random k as many times as ``draws``; the target's probability after each."""
    text = "".join(attribution.chars)
    ids, _, _ = encode(vocab, text)
    length = ids.shape[1]
    steps = min(length, max_deletions)
    order = np.argsort(-attribution.scores, kind="stable")
    rng = np.random.default_rng(seed)
    orders = [order] + [rng.permutation(length) for _ in range(draws)]
    batch = ids.repeat(len(orders) * (steps + 1), 1)  # (orders * (steps + 1), time)
    filler = vocab.stoi[attribution.replaced_by]
    for o, positions in enumerate(orders):
        for k in range(1, steps + 1):
            batch[o * (steps + 1) + k, positions[:k]] = filler
    target = vocab.stoi[attribution.target]
    with torch.no_grad():
        probs = log_probs(model, batch)[:, -1, target].exp().numpy().reshape(len(orders), steps + 1)
    return DeletionCurves(np.arange(steps + 1), probs[0], probs[1:].mean(axis=0), draws)
