"""Sampling text from a character model: temperature, top-k, top-p, streamed character by character.

Reads like the algorithm (after nanoGPT's ``generate``): feed the prime, then repeatedly take the
last logits, divide by the temperature, keep the top-k / top-p, softmax, draw with
``torch.multinomial`` (or take the argmax at temperature 0), and feed the drawn character back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_LENGTH = 20_000


@dataclass
class SampledChar:
    """One generated character, with the distributions it was drawn from."""

    char: str
    prob: float  # probability of this character under the distribution actually sampled from
    raw_probs: np.ndarray  # softmax of the logits at temperature 1, nothing cut (vocab,)
    probs: np.ndarray  # after temperature, top-k and top-p (vocab,)


def check_sampling(temperature: float, top_k, top_p, length: int) -> None:
    """Refuse out-of-range settings with a message a user can act on."""
    if temperature is None or not temperature >= 0:
        raise ValueError(f"Temperature must be 0 (greedy) or positive, got {temperature}.")
    if temperature > 100:
        raise ValueError(f"Temperature must be at most 100, got {temperature}.")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top-k must be at least 1 (or unset), got {top_k}.")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top-p must be in (0, 1] (or unset), got {top_p}.")
    if not 0 <= length <= MAX_LENGTH:
        raise ValueError(f"Length must be between 0 and {MAX_LENGTH:,} characters, got {length}.")


def next_char_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k=None, top_p=None) -> torch.Tensor:
    """Turn logits (vocab,) into the distribution to sample from (vocab,).

    Temperature 0 puts all the mass on the likeliest character (greedy decoding).
    """
    logits = logits.double()
    if temperature == 0:
        probs = torch.zeros_like(logits)
        probs[int(torch.argmax(logits))] = 1.0
        return probs
    logits = logits / temperature  # sharpen (<1) or flatten (>1) the distribution
    if top_k is not None and top_k < logits.numel():
        kth = torch.topk(logits, int(top_k)).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))  # keep only the k likeliest
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        drop = cumulative - sorted_probs >= top_p  # keep the smallest set whose mass reaches top_p
        sorted_probs[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
        probs = probs / probs.sum()
    return probs


@torch.no_grad()
def sample_stream(model, vocab, prime: str = "\n", length: int = 500, temperature: float = 1.0,
                  top_k=None, top_p=None, seed=None, state=None):
    """Yield :class:`SampledChar` one at a time, so a page can stream the text as it is written.

    The prime's unknown characters are replaced by the vocabulary's policy (see
    :meth:`~lstm_core.corpus.Vocab.clean`); an empty prime starts from a newline.
    """
    check_sampling(temperature, top_k, top_p, length)
    model.eval()
    generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    prime, _ = vocab.clean(prime or "\n")
    ids = torch.tensor([vocab.encode(prime)], dtype=torch.long)  # (1, time)
    logits, state = model(ids, state)  # read the whole prime in one call
    last = logits[0, -1]
    for _ in range(length):
        raw = torch.softmax(last.double(), dim=-1)
        probs = next_char_distribution(last, temperature, top_k, top_p)
        if temperature == 0:
            choice = int(torch.argmax(probs))
        else:
            choice = int(torch.multinomial(probs, 1, generator=generator))
        yield SampledChar(vocab.chars[choice], float(probs[choice]), raw.numpy(), probs.numpy())
        logits, state = model(torch.tensor([[choice]]), state)  # feed the drawn character back
        last = logits[0, -1]


def sample(model, vocab, prime: str = "\n", length: int = 500, temperature: float = 1.0,
           top_k=None, top_p=None, seed=None) -> str:
    """The generated continuation of ``prime`` (without the prime), as one string."""
    return "".join(step.char for step in sample_stream(model, vocab, prime, length, temperature,
                                                       top_k, top_p, seed))
