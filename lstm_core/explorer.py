"""The ``torch.nn.LSTM`` API, live: the nn.LSTM explorer's computations (seeds 001 and 002).

:func:`explore` builds a real ``nn.LSTM`` from a configuration, runs it once, and reports the
shapes of input, output, h_n and c_n, every parameter tensor with its gate blocks i|f|g|o, the
parameter count, a runnable snippet, and PyTorch's own warning or error text for bad
combinations. The demonstrations show what ``forward`` does with sequences and states: a batch
of sentences of different lengths, state carried versus reset, padding versus packing, and why
truncated backpropagation through time detaches the state between chunks (the Molière trainer,
seed 003, returns ``hidden[0].detach(), hidden[1].detach()``).

Nothing here is drawn from a formula alone: every shape and number is read off the module or
its outputs.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from .gates import GATES, SYMBOLS

GATE_BLOCKS = tuple(SYMBOLS[name] for name in GATES)  # PyTorch's row order inside weight_ih / weight_hh / biases
GATE_MEANING = {SYMBOLS[name]: name.replace("_", " ") for name in GATES}
PAD = "<pad>"
LIMITS = {"input_size": 256, "hidden_size": 256, "num_layers": 6, "seq_len": 100, "batch_size": 32, "proj_size": 256}
DEFAULT_SENTENCES = (
    "Je vis de bonne soupe",
    "Le ciel défend de vrai certains contentements",
    "Couvrez ce sein",
)


@dataclass
class LSTMSettings:
    """The arguments of ``nn.LSTM`` plus the shape of the input fed to it."""

    input_size: int = 4
    hidden_size: int = 6
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
    proj_size: int = 0
    seq_len: int = 5
    batch_size: int = 3

    def module_arguments(self) -> dict:
        args = asdict(self)
        del args["seq_len"], args["batch_size"]
        return args


@dataclass
class ParameterTensor:
    """One parameter tensor of the module, and what its rows hold."""

    name: str
    shape: tuple
    count: int
    layer: int
    direction: str  # "forward" or "reverse"
    role: str
    blocks: list = field(default_factory=list)  # [(gate letter, first row, last row)], empty for weight_hr


@dataclass
class Exploration:
    """What a configuration gives: shapes, parameters, snippet, and PyTorch's complaints."""

    settings: LSTMSettings
    error: str | None = None
    warnings: list = field(default_factory=list)
    shapes: dict = field(default_factory=dict)  # name -> tuple, read off real tensors
    shape_formulas: dict = field(default_factory=dict)  # name -> "(L, N, D·H_out)" as in the docs
    parameters: list = field(default_factory=list)
    total_parameters: int = 0
    snippet: str = ""
    values: dict = field(default_factory=dict)  # parameter name -> its values (numpy), for drawing

    @property
    def ok(self) -> bool:
        return self.error is None


def build_lstm(settings: LSTMSettings) -> tuple[nn.LSTM | None, str | None, list[str]]:
    """``nn.LSTM(**settings)`` with PyTorch's warnings captured; (module or None, error text, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = nn.LSTM(**settings.module_arguments())
            error = None
        except (ValueError, TypeError, RuntimeError) as err:
            module, error = None, f"{type(err).__name__}: {err}"
    return module, error, [f"{w.category.__name__}: {w.message}" for w in caught]


def describe_parameter(name: str, tensor: torch.Tensor, hidden_size: int) -> ParameterTensor:
    """Name a parameter's role and, for gate weights and biases, its four row blocks i|f|g|o."""
    match = re.fullmatch(r"(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?", name)
    kind, layer, reverse = match.group(1), int(match.group(2)), bool(match.group(3))
    roles = {
        "weight_ih": "input-to-gates weights W_i* (reads x_t, or the layer below)",
        "weight_hh": "hidden-to-gates weights W_h* (reads h_{t-1})",
        "bias_ih": "input-side gate biases b_i*",
        "bias_hh": "hidden-side gate biases b_h*",
        "weight_hr": "projection W_hr: h_t = W_hr (o * tanh(c_t)), shrinking hidden_size to proj_size",
    }
    blocks = []
    if kind != "weight_hr":
        blocks = [(gate, k * hidden_size, (k + 1) * hidden_size - 1) for k, gate in enumerate(GATE_BLOCKS)]
    return ParameterTensor(name, tuple(tensor.shape), tensor.numel(), layer,
                           "reverse" if reverse else "forward", roles[kind], blocks)


def explore(settings: LSTMSettings, seed: int = 0) -> Exploration:
    """Build the module, feed it a random batch shaped by ``settings``, and report everything."""
    result = Exploration(settings)
    too_big = {name: value for name, value in asdict(settings).items()
               if name in LIMITS and not isinstance(value, bool) and value > LIMITS[name]}
    if too_big:
        name, value = next(iter(too_big.items()))
        result.error = f"The explorer keeps {name} at most {LIMITS[name]} (got {value}), so that it answers at once."
        return result
    module, result.error, result.warnings = build_lstm(settings)
    if module is None:
        return result
    if settings.seq_len < 1 or settings.batch_size < 1:
        result.error = "The sequence length and the batch size must be at least 1."
        return result
    s = settings
    directions = 2 if s.bidirectional else 1
    out_size = s.proj_size or s.hidden_size
    generator = torch.Generator().manual_seed(seed)
    dims = (s.batch_size, s.seq_len) if s.batch_first else (s.seq_len, s.batch_size)
    x = torch.randn(*dims, s.input_size, generator=generator)
    module.eval()  # dropout only acts in training mode; shapes are the same either way
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backend notes (e.g. projections without oneDNN), not about the settings
        output, (h_n, c_n) = module(x)
    result.shapes = {"input": tuple(x.shape), "output": tuple(output.shape),
                     "h_n": tuple(h_n.shape), "c_n": tuple(c_n.shape)}
    order = "N, L" if s.batch_first else "L, N"
    result.shape_formulas = {
        "input": f"({order}, H_in)", "output": f"({order}, D·H_out)",
        "h_n": "(D·num_layers, N, H_out)", "c_n": "(D·num_layers, N, H_cell)",
    }
    result.parameters = [describe_parameter(n, p, s.hidden_size) for n, p in module.named_parameters()]
    result.total_parameters = sum(p.numel() for p in module.parameters())
    result.values = {n: p.detach().numpy().copy() for n, p in module.named_parameters()}
    result.snippet = snippet(s, result.shapes, directions, out_size)
    return result


def snippet(s: LSTMSettings, shapes: dict, directions: int, out_size: int) -> str:
    """Runnable code for this configuration; the comments give the shapes it prints."""
    order = "batch, seq_len" if s.batch_first else "seq_len, batch"
    dims = (s.batch_size, s.seq_len) if s.batch_first else (s.seq_len, s.batch_size)
    states = directions * s.num_layers
    fmt = lambda shape: f"torch.Size({list(shape)})"  # noqa: E731 - how print() shows a shape
    return f"""import torch
import torch.nn as nn

lstm = nn.LSTM(input_size={s.input_size}, hidden_size={s.hidden_size}, num_layers={s.num_layers},
               bias={s.bias}, batch_first={s.batch_first}, dropout={s.dropout},
               bidirectional={s.bidirectional}, proj_size={s.proj_size})
x = torch.randn({dims[0]}, {dims[1]}, {s.input_size})  # ({order}, input_size)
h0 = torch.zeros({states}, {s.batch_size}, {out_size})  # (num_directions * num_layers, batch, proj_size or hidden_size)
c0 = torch.zeros({states}, {s.batch_size}, {s.hidden_size})  # (num_directions * num_layers, batch, hidden_size)
output, (h_n, c_n) = lstm(x, (h0, c0))
print("output", output.shape)  # {fmt(shapes["output"])}
print("h_n", h_n.shape)  # {fmt(shapes["h_n"])}
print("c_n", c_n.shape)  # {fmt(shapes["c_n"])}
for name, tensor in lstm.named_parameters():
    print(name, tuple(tensor.shape))
print("parameters", sum(p.numel() for p in lstm.parameters()))
"""


# ----------------------------------------------------------------------------- seed 002: forward at work


@dataclass
class SentenceBatch:
    """Sentences as word ids, a small embedding and a one-layer LSTM (batch_first) to feed them to."""

    words: list  # list of word lists
    vocab: list  # index -> word; index 0 is the padding token
    ids: list  # one LongTensor (length,) per sentence
    embedding: nn.Embedding
    lstm: nn.LSTM

    @property
    def lengths(self) -> list[int]:
        return [len(w) for w in self.words]

    def embedded(self, index: int) -> torch.Tensor:
        return self.embedding(self.ids[index])  # (length, embedding_dim)

    def padded_ids(self) -> torch.Tensor:
        """``pad_sequence`` of the word ids: (batch, longest), padded with 0 = <pad>."""
        return pad_sequence(self.ids, batch_first=True, padding_value=0)

    def padded_inputs(self) -> torch.Tensor:
        return self.embedding(self.padded_ids())  # (batch, longest, embedding_dim), pads embed to 0

    def alone(self, index: int, state=None):
        """One sentence fed by itself: output (1, length, hidden), (h_n, c_n) each (1, 1, hidden)."""
        return self.lstm(self.embedded(index).unsqueeze(0), state)


def tokenize(sentence: str) -> list[str]:
    return re.findall(r"[\wÀ-ÿ'-]+", sentence.lower())


def sentence_batch(sentences=DEFAULT_SENTENCES, hidden_size: int = 4, embedding_dim: int = 3,
                   seed: int = 0) -> SentenceBatch:
    """Tokenize up to 4 sentences (1 to 12 words each) and build the embedding and the LSTM."""
    words = [tokenize(s) for s in sentences if s.strip()]
    if not 2 <= len(words) <= 4:
        raise ValueError("Type two to four sentences, one per line.")
    if any(not 1 <= len(w) <= 12 for w in words):
        raise ValueError("Each sentence needs 1 to 12 words (letters, digits, apostrophes or hyphens).")
    vocab = [PAD] + sorted({w for sentence in words for w in sentence})
    index = {w: i for i, w in enumerate(vocab)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        embedding = nn.Embedding(len(vocab), embedding_dim, padding_idx=0)
        lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
    embedding.requires_grad_(False)
    lstm.requires_grad_(False)
    ids = [torch.tensor([index[w] for w in sentence]) for sentence in words]
    return SentenceBatch(words, vocab, ids, embedding, lstm)


@dataclass
class BatchForward:
    """One padded batch through ``nn.LSTM``: outputs per timestep per sentence and h_n per sentence."""

    output: np.ndarray  # (batch, longest, hidden): one output per timestep per sentence
    h_n: np.ndarray  # (batch, hidden): the state after the last padded step
    last_real_output: np.ndarray  # (batch, hidden): output at each sentence's own last word
    alone_gap: float  # largest |batch output - sentence fed alone| over real words


@torch.no_grad()
def batch_forward(batch: SentenceBatch) -> BatchForward:
    output, (h_n, _) = batch.lstm(batch.padded_inputs())  # (batch, longest, hidden), (1, batch, hidden)
    gaps = [float((output[b, :n] - batch.alone(b)[0][0]).abs().max()) for b, n in enumerate(batch.lengths)]
    last = torch.stack([output[b, n - 1] for b, n in enumerate(batch.lengths)])
    return BatchForward(output.numpy(), h_n[0].numpy(), last.numpy(), max(gaps))


@dataclass
class CarryVersusReset:
    """The same batch fed twice: from zero states, and from the previous batch's final states."""

    reset_output: np.ndarray  # (batch, longest, hidden), NaN at padding
    carried_output: np.ndarray
    difference: np.ndarray  # (batch, longest): |carried - reset| per timestep, NaN at padding


@torch.no_grad()
def carry_versus_reset(batch: SentenceBatch) -> CarryVersusReset:
    packed = pack_padded_sequence(batch.padded_inputs(), batch.lengths, batch_first=True, enforce_sorted=False)
    first, previous_state = batch.lstm(packed)  # the previous batch: its final states, per sentence
    outputs = []
    for state in (None, previous_state):
        out, _ = batch.lstm(packed, state)
        padded, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("nan"))
        outputs.append(padded.numpy())
    reset, carried = outputs
    return CarryVersusReset(reset, carried, np.linalg.norm(carried - reset, axis=-1))


@dataclass
class PackingDemo:
    """h_n from a plain padded batch and from a packed one, against each sentence fed alone."""

    padded_ids: np.ndarray  # (batch, longest), 0 = <pad>
    batch_sizes: list  # the PackedSequence's batch_sizes: sentences still running at each step
    true_h_n: np.ndarray  # (batch, hidden), each sentence fed alone
    padded_h_n: np.ndarray
    packed_h_n: np.ndarray
    padded_error: np.ndarray  # (batch,) max |padded h_n - true h_n|
    packed_error: np.ndarray  # (batch,) max |packed h_n - true h_n|


@torch.no_grad()
def packing_demo(batch: SentenceBatch) -> PackingDemo:
    inputs = batch.padded_inputs()
    _, (padded_h, _) = batch.lstm(inputs)
    packed = pack_padded_sequence(inputs, batch.lengths, batch_first=True, enforce_sorted=False)
    _, (packed_h, _) = batch.lstm(packed)
    true_h = torch.cat([batch.alone(b)[1][0][0] for b in range(len(batch.words))])  # (batch, hidden)
    return PackingDemo(batch.padded_ids().numpy(), packed.batch_sizes.tolist(), true_h.numpy(),
                       padded_h[0].numpy(), packed_h[0].numpy(),
                       (padded_h[0] - true_h).abs().amax(dim=1).numpy(),
                       (packed_h[0] - true_h).abs().amax(dim=1).numpy())


@dataclass
class DetachDemo:
    """Input-gradient norms per timestep over two chunks, with and without detaching between them."""

    chunk_len: int
    with_detach: np.ndarray  # (2 * chunk_len,) |d loss / d x_t|
    without_detach: np.ndarray


def detach_demo(chunk_len: int = 8, input_size: int = 3, hidden_size: int = 8, seed: int = 0) -> DetachDemo:
    """Feed chunk 1, carry its state into chunk 2, take a loss on chunk 2's outputs, backpropagate.

    With ``state.detach()`` (as the Molière trainer does) the gradient stops at chunk 2's start:
    chunk 1's inputs get exactly zero. Without it, the gradient flows back into chunk 1.
    """
    if not 1 <= chunk_len <= 50:
        raise ValueError("The chunk length must be between 1 and 50.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        sequence = torch.randn(1, 2 * chunk_len, input_size)
    norms = {}
    for detach in (True, False):
        x = sequence.clone().requires_grad_(True)
        _, (h, c) = lstm(x[:, :chunk_len])  # chunk 1
        if detach:
            h, c = h.detach(), c.detach()  # truncated BPTT: the state is carried, its history is not
        out, _ = lstm(x[:, chunk_len:], (h, c))  # chunk 2 starts from chunk 1's final state
        out.pow(2).sum().backward()  # a loss on chunk 2's outputs
        norms[detach] = x.grad[0].norm(dim=1).numpy()
    return DetachDemo(chunk_len, norms[True], norms[False])
