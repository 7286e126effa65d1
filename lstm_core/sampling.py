"""Sampling text from a character model: temperature, top-k, top-p, streamed character by character.

Reads like the algorithm (after nanoGPT's ``generate``): feed the prime, then repeatedly take the
last logits, divide by the temperature, keep the top-k / top-p, softmax, draw with
``torch.multinomial`` (or take the argmax at temperature 0), and feed the drawn character back.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice

import numpy as np
import torch
from threadpoolctl import ThreadpoolController

from .replay import sigmoid
from .trace import trace

MAX_LENGTH = 20_000
BLAS = ThreadpoolController()  # numpy's BLAS library, found once: one_thread keeps it to one thread


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


class LSTMStepper:
    """A standard LSTM character model run one character at a time in numpy, from its own weights.

    Sampling feeds one character per call; the fused ``nn.LSTM`` spends most of such a call on its own
    overhead (about 0.63 ms a character for the shipped 2 x 256 model, against 0.24 ms here). The step
    is the recurrence of :mod:`lstm_core.trace`, with the embedding and the first layer's input weights
    folded into one table (a row per character) and each deeper layer's two products into one. A test
    holds its logits and states to the model's.
    """

    def __init__(self, model):
        lstm, weights = model.recurrent, {k: v.detach().cpu().numpy().astype(np.float32)
                                          for k, v in model.state_dict().items()}
        prefix = model.architecture
        def w(name, k):
            return weights[f"{prefix}.{name}_l{k}"]
        self.hidden = lstm.hidden_size
        self.first = weights["embedding.weight"] @ w("weight_ih", 0).T + w("bias_ih", 0) + w("bias_hh", 0)
        self.first_hh = np.ascontiguousarray(w("weight_hh", 0).T)
        self.deeper = [(np.ascontiguousarray(np.concatenate([w("weight_ih", k), w("weight_hh", k)], 1).T),
                        w("bias_ih", k) + w("bias_hh", k)) for k in range(1, lstm.num_layers)]
        self.head = (np.ascontiguousarray(weights["head.weight"].T), weights["head.bias"])

    @staticmethod
    def suits(model) -> bool:
        """A plain character LSTM (no variant, projection or second direction), which this step computes."""
        lstm = getattr(model, "recurrent", None)
        return type(lstm) is torch.nn.LSTM and not lstm.bidirectional and not lstm.proj_size and lstm.batch_first

    def _cell(self, z: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        H = self.hidden
        i, f, o = (sigmoid(z[k * H:(k + 1) * H]) for k in (0, 1, 3))
        c = f * c + i * np.tanh(z[2 * H:3 * H])
        return o * np.tanh(c), c

    def step(self, char_id: int, state: list) -> tuple[np.ndarray, list]:
        """The logits after reading ``char_id`` from ``state`` (a (h, c) pair per layer), and the new state."""
        h, c = self._cell(self.first[char_id] + state[0][0] @ self.first_hh, state[0][1])
        new = [(h, c)]
        for (weight, bias), (h_prev, c_prev) in zip(self.deeper, state[1:]):
            h, c = self._cell(np.concatenate([h, h_prev]) @ weight + bias, c_prev)
            new.append((h, c))
        return h @ self.head[0] + self.head[1], new

    @staticmethod
    def from_torch(state) -> list:
        """A model's (h, c) state, each (layers, 1, hidden), as a (h, c) pair per layer."""
        h, c = (s.detach().cpu().numpy()[:, 0].astype(np.float32) for s in state)
        return list(zip(h, c))

    @staticmethod
    def to_torch(state: list) -> tuple[torch.Tensor, torch.Tensor]:
        """The other way: a (h, c) pair per layer as the model's (h, c), each (layers, 1, hidden)."""
        return tuple(torch.from_numpy(np.stack([pair[k] for pair in state])[:, None].copy()) for k in (0, 1))


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
    with one_thread():
        logits, state = model(ids, state)  # read the whole prime in one call
    last = logits[0, -1]
    stepper = LSTMStepper(model) if LSTMStepper.suits(model) and length > 1 else None
    if stepper is not None:
        state = stepper.from_torch(state)
    steps = _drawn(model, vocab, last, state, stepper, length, temperature, top_k, top_p, generator)
    while chunk := _next_chunk(steps):  # a few characters at a time on one thread, then shown by the caller
        yield from chunk


CHUNK = 16  # characters drawn under one_thread at once: a few ms, not held while the caller shows them


def _next_chunk(steps) -> list:
    with one_thread():
        return list(islice(steps, CHUNK))


def _drawn(model, vocab, last, state, stepper, length, temperature, top_k, top_p, generator):
    """sample_stream's loop: draw from ``last`` (logits), feed the drawn character back, ``length`` times."""
    for _ in range(length):
        raw = torch.softmax(last.double(), dim=-1)
        probs = next_char_distribution(last, temperature, top_k, top_p)
        if temperature == 0:
            choice = int(torch.argmax(probs))
        else:
            choice = int(torch.multinomial(probs, 1, generator=generator))
        yield SampledChar(vocab.chars[choice], float(probs[choice]), raw.numpy(), probs.numpy())
        if stepper is not None:  # feed the drawn character back
            logits, state = stepper.step(choice, state)
            last = torch.from_numpy(logits)
            continue
        logits, state = model(torch.tensor([[choice]]), state)
        last = logits[0, -1]


def sample(model, vocab, prime: str = "\n", length: int = 500, temperature: float = 1.0,
           top_k=None, top_p=None, seed=None) -> str:
    """The generated continuation of ``prime`` (without the prime), as one string."""
    return "".join(step.char for step in sample_stream(model, vocab, prime, length, temperature,
                                                       top_k, top_p, seed))


def shifted_interventions(interventions, offset: int) -> list:
    """The same interventions seen from ``offset`` steps later (those already over are dropped)."""
    moved = []
    for iv in interventions:
        if iv.stop is not None and iv.stop <= offset:
            continue
        moved.append(replace(iv, start=iv.start - offset, stop=None if iv.stop is None else iv.stop - offset))
    return moved


@torch.no_grad()
def sample_with_interventions(model, vocab, prime: str, length: int = 200, interventions=(),
                              temperature: float = 1.0, top_k=None, top_p=None, seed=None) -> str:
    """Continue ``prime`` with the interventions in force, through the exact replay of the trace.

    An intervention with no ``stop`` stays in force while the continuation is written (a silenced
    unit stays silent); one limited to some steps of the prime only changes the state carried on.
    Without interventions this writes what :func:`sample` writes, up to float rounding.
    """
    check_sampling(temperature, top_k, top_p, length)
    model.eval()
    generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    written = []
    with one_thread():
        traced = trace(model, vocab, prime or "\n", interventions=interventions)
        offset = len(traced.chars)
        last = torch.from_numpy(np.log(np.maximum(traced.probs[-1], 1e-300)))  # logits, up to a constant
        state = traced.final_state
        stepper = LSTMStepper(model) if LSTMStepper.suits(model) else None
        for _ in range(length):
            probs = next_char_distribution(last, temperature, top_k, top_p)
            if temperature == 0:
                choice = int(torch.argmax(probs))
            else:
                choice = int(torch.multinomial(probs, 1, generator=generator))
            written.append(vocab.chars[choice])
            in_force = shifted_interventions(interventions, offset)
            if in_force:  # replay the step with the interventions applied
                state = LSTMStepper.to_torch(state) if isinstance(state, list) else state
                traced = trace(model, vocab, vocab.chars[choice], state=state, interventions=in_force)
                last = torch.from_numpy(np.log(np.maximum(traced.probs[-1], 1e-300)))
                state = traced.final_state
            elif stepper is not None:  # nothing left to force: the step without its instruments, as sample's
                numpy_state = stepper.from_torch(state) if isinstance(state, tuple) else state
                logits, state = stepper.step(choice, numpy_state)
                last = torch.from_numpy(logits).double()
            else:  # nothing left to force: the fused model computes the same step faster
                logits, state = model(torch.tensor([[choice]]), state)
                last = logits[0, -1].double()
            offset += 1
    return "".join(written)


class _OneThread:
    """The process's thread settings while any thread of it steps a model: set by the first to enter,
    restored by the last to leave (both settings are the process's, not a thread's, so two sessions
    sampling at once must not restore them under each other, nor restore one thread as "previous")."""

    def __init__(self):
        self.lock, self.holders, self.saved = threading.Lock(), 0, None

    def enter(self) -> None:
        with self.lock:
            if self.holders == 0:
                previous = torch.get_num_threads()
                torch.set_num_threads(1)
                self.saved = (previous, BLAS.limit(limits=1, user_api="blas"))  # limited from here on
            self.holders += 1

    def leave(self) -> None:
        with self.lock:
            self.holders -= 1
            if self.holders == 0:
                previous, blas = self.saved
                blas.restore_original_limits()  # first: restoring BLAS's limits resets torch's thread count too
                torch.set_num_threads(previous)


_ONE_THREAD = _OneThread()


@contextmanager
def one_thread():
    """Run step-by-step inference on one thread: torch's intra-op pool and numpy's BLAS alike.

    Sampling feeds one character at a time: each step is a handful of tiny matrix products, and
    splitting them over threads costs more than it saves. On a 2-core machine whose other core
    is busy (a training, the browser), two threads measured 22 characters/s against 1,200 on one.
    numpy's BLAS splits the numpy step's (1 x 512) @ (512 x 1024) product over its threads too:
    on a busy 2-core machine 400 characters took 0.8-1.4 s so, against 0.15 s on one thread; a
    product's result does not depend on the thread count (each output is one thread's dot product).
    The settings before are restored when the last thread stepping a model leaves.
    """
    _ONE_THREAD.enter()
    try:
        yield
    finally:
        _ONE_THREAD.leave()
