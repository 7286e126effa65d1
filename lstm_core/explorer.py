"""The ``torch.nn.LSTM`` API, live: the nn.LSTM explorer's computations (seeds 001 and 002).

:func:`explore` builds a real ``nn.LSTM`` from a configuration, runs it once, and reports the
shapes of input, output, h_n and c_n, every parameter tensor with its gate blocks i|f|g|o, the
parameter count, a runnable snippet, and PyTorch's own warning or error text for bad
combinations. The demonstrations show what ``forward`` does with sequences and states, on a
module built from the same configuration: a batch of sentences of different lengths, state
carried versus reset, padding versus packing, and why truncated backpropagation through time
detaches the state between chunks (the Molière trainer, seed 003, returns
``hidden[0].detach(), hidden[1].detach()``).

Nothing here is drawn from a formula alone: every shape and number is read off the module or
its outputs.
"""

from __future__ import annotations

import re
import threading
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from .gates import GATES, SYMBOLS
from .limits import EXPLORER_LIMITS as LIMITS

GATE_BLOCKS = tuple(SYMBOLS[name] for name in GATES)  # PyTorch's row order inside weight_ih / weight_hh / biases
GATE_MEANING = {SYMBOLS[name]: name.replace("_", " ") for name in GATES}
PAD = "<pad>"
DEFAULT_SENTENCES = (
    "Je vis de bonne soupe",
    "Le ciel défend de vrai certains contentements",
    "Couvrez ce sein",
)


@dataclass(frozen=True)
class LSTMSettings:
    """The arguments of ``nn.LSTM`` plus the shape of the input fed to it (frozen: a cache key)."""

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


def weights_only(settings: LSTMSettings) -> LSTMSettings:
    """``settings`` with only what decides the weights and the demos' numbers left as set.

    batch_first is a layout, dropout acts only in training (the demos run in eval mode), and
    seq_len and batch_size shape only :func:`explore`'s random input: they are put back to their
    defaults, so that views keyed by the result are shared between configurations that differ in them.
    """
    default = LSTMSettings()
    return replace(settings, batch_first=default.batch_first, dropout=default.dropout, seq_len=default.seq_len,
                   batch_size=default.batch_size)


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


_KERNEL_SWITCH = threading.Lock()


@contextmanager
def plain_kernels():
    """Run these small LSTMs on PyTorch's plain kernels rather than oneDNN's RNN primitive.

    oneDNN opens an OpenMP parallel region for every call, however small the LSTM. On a 2-core
    machine busy with other work that region waits for a descheduled thread: a 4 -> 6 LSTM on 3
    sequences of 7 steps took 220-270 ms a call (median) against 0.5 ms on the plain kernels,
    which agree with it to 1e-7. The switch is process-wide (``torch.backends.mkldnn.enabled``),
    so it is held under a lock and always put back; other threads computing meanwhile get the
    same numbers from the plain kernels.
    """
    with _KERNEL_SWITCH:
        previous = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = previous


def limit_error(settings: LSTMSettings) -> str | None:
    """Why the explorer will not build this configuration (a size past :data:`LIMITS`), or None."""
    for name, value in asdict(settings).items():
        if name in LIMITS and not isinstance(value, bool) and value > LIMITS[name]:
            return f"The explorer keeps {name} at most {LIMITS[name]} (got {value}), so that it answers at once."
    return None


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
    """Build the module (weights drawn from ``seed``), feed it a random batch shaped by ``settings``, report everything."""
    result = Exploration(settings)
    result.error = limit_error(settings)
    if result.error:
        return result
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the same settings give the same weights: a link reproduces the tensors drawn
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
    with torch.no_grad(), plain_kernels(), warnings.catch_warnings():
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
    def fmt(shape):
        return f"torch.Size({list(shape)})"  # how print() shows a shape
    return f"""import torch
import torch.nn as nn

lstm = nn.LSTM(input_size={s.input_size}, hidden_size={s.hidden_size}, num_layers={s.num_layers},
               bias={s.bias}, batch_first={s.batch_first}, dropout={s.dropout:g},
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

NN_LSTM_DEFAULTS = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False,
                    "proj_size": 0}  # nn.LSTM's own defaults: a call names only what differs


def module_call(s: LSTMSettings) -> str:
    """The configuration as a short call: ``nn.LSTM(4, 6, num_layers=2, bidirectional=True)``."""
    named = [f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
             for name, value in s.module_arguments().items()
             if name in NN_LSTM_DEFAULTS and value != NN_LSTM_DEFAULTS[name]]
    return f"nn.LSTM({', '.join([str(s.input_size), str(s.hidden_size), *named])})"


def state_row_name(row: int, bidirectional: bool) -> str:
    """What row ``row`` of h_n / c_n holds: rows run layer by layer, forward then reverse within a layer."""
    directions = 2 if bidirectional else 1
    layer, direction = divmod(row, directions)
    return f"layer {layer}, {'reverse' if direction else 'forward'}" if bidirectional else f"layer {layer}"


@dataclass
class SentenceBatch:
    """Sentences as word ids, an embedding of size input_size, and the configured ``nn.LSTM`` in eval mode.

    Tensors are fed as the configuration says: (batch, time, input_size) with batch_first,
    (time, batch, input_size) without. Eval mode: dropout, which acts only while training, is off.
    """

    words: list  # list of word lists
    vocab: list  # index -> word; index 0 is the padding token
    ids: list  # one LongTensor (length,) per sentence
    embedding: nn.Embedding
    lstm: nn.LSTM
    settings: LSTMSettings

    @property
    def lengths(self) -> list[int]:
        return [len(w) for w in self.words]

    @property
    def top_rows(self) -> list[int]:
        """The rows of h_n that hold the last layer: one, or two (forward, reverse) when bidirectional."""
        directions = 2 if self.settings.bidirectional else 1
        return [directions * (self.settings.num_layers - 1) + d for d in range(directions)]

    def row_name(self, row: int) -> str:
        return state_row_name(row, self.settings.bidirectional)

    def fed(self, batch_major: torch.Tensor) -> torch.Tensor:
        """(batch, time, ...) as the LSTM takes it: unchanged with batch_first, else (time, batch, ...)."""
        return batch_major if self.settings.batch_first else batch_major.transpose(0, 1)

    def batch_major(self, fed: torch.Tensor) -> torch.Tensor:
        """The LSTM's output back to (batch, time, ...) for reading (the transpose is its own inverse)."""
        return self.fed(fed)

    def embedded(self, index: int) -> torch.Tensor:
        return self.embedding(self.ids[index])  # (length, input_size)

    def padded_ids(self) -> torch.Tensor:
        """``pad_sequence`` of the word ids: (batch, longest), padded with 0 = <pad>."""
        return pad_sequence(self.ids, batch_first=True, padding_value=0)

    def padded_inputs(self) -> torch.Tensor:
        """The padded batch as fed: (batch, longest, input_size) or (longest, batch, input_size); pads embed to 0."""
        return self.fed(self.embedding(self.padded_ids()))

    def packed_inputs(self):
        return pack_padded_sequence(self.padded_inputs(), self.lengths, batch_first=self.settings.batch_first,
                                    enforce_sorted=False)

    def alone(self, index: int, state=None):
        """One sentence fed by itself (a batch of one, in the configured layout): output, (h_n, c_n)."""
        return self.lstm(self.fed(self.embedded(index).unsqueeze(0)), state)


def tokenize(sentence: str) -> list[str]:
    return re.findall(r"[\wÀ-ÿ'-]+", sentence.lower())


def demo_lstm(settings: LSTMSettings) -> nn.LSTM:
    """The configured ``nn.LSTM`` in eval mode with frozen weights; ValueError with PyTorch's words if refused."""
    error = limit_error(settings)
    module, refused, _ = build_lstm(settings) if error is None else (None, None, [])
    if module is None:
        raise ValueError(error or f"PyTorch refuses this configuration. {refused}")
    return module.eval().requires_grad_(False)


def sentence_batch(sentences=DEFAULT_SENTENCES, settings: LSTMSettings = LSTMSettings(), seed: int = 0) -> SentenceBatch:
    """Tokenize 2 to 4 sentences (1 to 12 words each); build the embedding and the LSTM ``settings`` describe.

    ``seed`` fixes the random weights (the LSTM first, then the embedding), so the same settings give the same
    numbers. A configuration PyTorch refuses raises ValueError with PyTorch's own words.
    """
    words = [tokenize(s) for s in sentences if s.strip()]
    if not 2 <= len(words) <= 4:
        raise ValueError("Type two to four sentences, one per line.")
    if any(not 1 <= len(w) <= 12 for w in words):
        raise ValueError("Each sentence needs 1 to 12 words (letters, digits, apostrophes or hyphens).")
    vocab = [PAD] + sorted({w for sentence in words for w in sentence})
    index = {w: i for i, w in enumerate(vocab)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lstm = demo_lstm(settings)
        embedding = nn.Embedding(len(vocab), settings.input_size, padding_idx=0).requires_grad_(False)
    ids = [torch.tensor([index[w] for w in sentence]) for sentence in words]
    return SentenceBatch(words, vocab, ids, embedding, lstm, settings)


@dataclass
class BatchForward:
    """One padded batch through ``nn.LSTM``: outputs per timestep per sentence, and h_n."""

    input_shape: tuple  # as fed: (batch, longest, input_size) with batch_first, else (longest, batch, input_size)
    output_shape: tuple  # as returned, in the same layout, last size D·H_out
    output: np.ndarray  # (batch, longest, D·H_out): read batch-major whatever the layout
    h_n: np.ndarray  # (D·num_layers, batch, H_out): each sentence's state after the last padded step
    last_real_output: np.ndarray  # (batch, D·H_out): output at each sentence's own last word
    alone_gap: float  # largest |padded batch output - sentence fed alone| over real words
    packed_gap: float  # the same for the packed batch


@torch.no_grad()
def batch_forward(batch: SentenceBatch) -> BatchForward:
    inputs = batch.padded_inputs()
    with plain_kernels():
        output, (h_n, _) = batch.lstm(inputs)
        packed_output, _ = batch.lstm(batch.packed_inputs())
        alone = [batch.batch_major(batch.alone(b)[0])[0] for b in range(len(batch.words))]  # (length, D·H_out) each
    readable = batch.batch_major(output)  # (batch, longest, D·H_out)
    packed, _ = pad_packed_sequence(packed_output, batch_first=True)
    def gap(out):
        return max(float((out[b, :n] - alone[b]).abs().max()) for b, n in enumerate(batch.lengths))
    last = torch.stack([readable[b, n - 1] for b, n in enumerate(batch.lengths)])
    return BatchForward(tuple(inputs.shape), tuple(output.shape), readable.numpy(), h_n.numpy(), last.numpy(),
                        gap(readable), gap(packed))


@dataclass
class CarryVersusReset:
    """The same batch fed twice: from zero states, and from the previous batch's final states."""

    reset_output: np.ndarray  # (batch, longest, D·H_out), NaN at padding
    carried_output: np.ndarray
    difference: np.ndarray  # (batch, longest): |carried - reset| per timestep, NaN at padding


@torch.no_grad()
def carry_versus_reset(batch: SentenceBatch) -> CarryVersusReset:
    packed = batch.packed_inputs()
    outputs = []
    with plain_kernels():
        _, previous_state = batch.lstm(packed)  # the previous batch: its final states, per sentence
        for state in (None, previous_state):
            out, _ = batch.lstm(packed, state)
            padded, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("nan"))
            outputs.append(padded.numpy())
    reset, carried = outputs
    return CarryVersusReset(reset, carried, np.linalg.norm(carried - reset, axis=-1))


@dataclass
class PackingDemo:
    """h_n from a plain padded batch and from a packed one, against each sentence fed alone (every layer and direction)."""

    padded_ids: np.ndarray  # (batch, longest), 0 = <pad>
    batch_sizes: list  # the PackedSequence's batch_sizes: sentences still running at each step
    true_h_n: np.ndarray  # (D·num_layers, batch, H_out), each sentence fed alone
    padded_h_n: np.ndarray
    packed_h_n: np.ndarray
    padded_error: np.ndarray  # (batch,) max |padded h_n - true h_n| over layers, directions and units
    packed_error: np.ndarray  # (batch,) max |packed h_n - true h_n|


@torch.no_grad()
def packing_demo(batch: SentenceBatch) -> PackingDemo:
    packed = batch.packed_inputs()
    with plain_kernels():
        _, (padded_h, _) = batch.lstm(batch.padded_inputs())
        _, (packed_h, _) = batch.lstm(packed)
        true_h = torch.cat([batch.alone(b)[1][0] for b in range(len(batch.words))], dim=1)  # (D·layers, batch, H_out)
    def error(h):
        return (h - true_h).abs().amax(dim=(0, 2)).numpy()
    return PackingDemo(batch.padded_ids().numpy(), packed.batch_sizes.tolist(), true_h.numpy(),
                       padded_h.numpy(), packed_h.numpy(), error(padded_h), error(packed_h))


@dataclass
class DetachDemo:
    """Input-gradient norms per timestep over two chunks, with and without detaching between them."""

    chunk_len: int
    with_detach: np.ndarray  # (2 * chunk_len,) |d loss / d x_t|
    without_detach: np.ndarray


def detach_demo(settings: LSTMSettings = LSTMSettings(), chunk_len: int = 8, seed: int = 0) -> DetachDemo:
    """Feed chunk 1 of a random sequence, carry its state into chunk 2, take a loss on chunk 2's outputs, backpropagate.

    The LSTM is the configured one (eval mode), fed one sequence in the configured layout. With
    ``state.detach()`` (as the Molière trainer does) the gradient stops at chunk 2's start: chunk
    1's inputs get exactly zero. Without it, the gradient flows back into chunk 1.
    """
    if not 1 <= chunk_len <= 50:
        raise ValueError("The chunk length must be between 1 and 50.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lstm = demo_lstm(settings)
        sequence = torch.randn(1, 2 * chunk_len, settings.input_size)  # (batch 1, time, input_size)
    time_dim = 1 if settings.batch_first else 0
    norms = {}
    for detach in (True, False):
        x = sequence.clone().requires_grad_(True)
        fed = x if settings.batch_first else x.transpose(0, 1)  # the configured layout
        chunk1, chunk2 = fed.split(chunk_len, dim=time_dim)
        with plain_kernels():
            _, (h, c) = lstm(chunk1)
            if detach:
                h, c = h.detach(), c.detach()  # truncated BPTT: the state is carried, its history is not
            out, _ = lstm(chunk2, (h, c))  # chunk 2 starts from chunk 1's final state
            out.pow(2).sum().backward()  # a loss on chunk 2's outputs
        norms[detach] = x.grad[0].norm(dim=1).numpy()
    return DetachDemo(chunk_len, norms[True], norms[False])
