"""What every part of "why this character" checks and shares: the text, a position in it, a character of the
vocabulary, the model's log-probabilities, and a state as a list of named tensors.

A state is what the model's recurrent module carries (an LSTM's (h, c), the others' h, each (layers, batch,
units)); :func:`state_parts` names its parts after the registry's quantities ("hidden_state", "cell_state").
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from ..analysis import show_char
from ..model import CharModel
from ..sampling import check_sampling, next_char_distribution


class WhyError(ValueError):
    """Input that the page and the command line refuse, with one sentence that says why."""


def encode(vocab, text: str, what: str = "") -> tuple[torch.Tensor, str, dict]:
    """``text`` as ids (1, time), the text the model reads (unknown characters replaced by the vocabulary's
    policy) and the replacements made; a WhyError for an empty text."""
    if not isinstance(text, str) or not text:
        raise WhyError(f"There is no text{' in ' + what if what else ''}: type at least one character.")
    cleaned, replacements = vocab.clean(text)
    return torch.tensor([vocab.encode(cleaned)], dtype=torch.long), cleaned, replacements


def char_id(vocab, char: str, what: str = "The character") -> int:
    """The id of one character of the vocabulary; a WhyError for anything else."""
    if not isinstance(char, str) or len(char) != 1:
        raise WhyError(f"{what} must be exactly one character, got {char!r}.")
    if char not in vocab:
        raise WhyError(f"{what} {show_char(char)!r} is not in this model's vocabulary of {len(vocab)} characters.")
    return vocab.stoi[char]


def check_position(position: int, length: int, what: str = "The position") -> int:
    """``position`` as an int inside a text of ``length`` characters (0 to length - 1); a WhyError otherwise."""
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise WhyError(f"{what} must be a whole number, got {position!r}.") from None
    if not 0 <= position < length:
        raise WhyError(f"{what} {position} is outside the text: it has {length} characters (positions 0 to "
                       f"{length - 1}).")
    return position


@contextmanager
def gradients_on(model):
    """Autograd through a recurrent model in eval mode: cuDNN's RNN refuses a backward pass in eval mode on a
    GPU, so it is switched off there (the CPU needs nothing)."""
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
        yield


def log_probs(model, ids: torch.Tensor, state=None) -> torch.Tensor:
    """The model's log-probabilities of the next character at every position: (batch, time, vocab)."""
    logits, _ = model(ids, state)
    return torch.log_softmax(logits.double(), dim=-1)


def state_parts(model, state) -> dict[str, torch.Tensor]:
    """A state by name: {"hidden_state": h, "cell_state": c} for an LSTM, {"hidden_state": h} for the others."""
    if model.arch.has_cell_state:
        return {"hidden_state": state[0], "cell_state": state[1]}
    return {"hidden_state": state[0] if isinstance(state, (tuple, list)) else state}


def state_of(model, parts: dict[str, torch.Tensor]):
    """The other way: the state the model's module takes, from its named parts."""
    if model.arch.has_cell_state:
        return parts["hidden_state"], parts["cell_state"]
    return parts["hidden_state"]


def state_names(model) -> tuple[str, ...]:
    """The states a model carries, as the registry names them: ("hidden_state", "cell_state") or ("hidden_state",)."""
    return tuple(q for q in model.arch.quantities if q in ("hidden_state", "cell_state"))


def next_distribution(model, state) -> torch.Tensor:
    """The model's next-character logits read off a state: the head applied to the top layer's hidden state,
    (vocab,). It equals the model's output after the step that left this state (dropout is off in eval mode)."""
    return model.head(state_parts(model, state)["hidden_state"][-1, 0])


@torch.no_grad()
def read_on(model, ids: torch.Tensor, state) -> tuple[torch.Tensor, object]:
    """Read ``ids`` (1, time) on from ``state``: the logits after each of them, then after the last one read
    (time + 1, vocab; the first row is the state's own), and the state at the end."""
    first = next_distribution(model, state)[None]
    if ids.shape[1] == 0:
        return first, state
    logits, state = model(ids, state)
    return torch.cat([first, logits[0]]), state


@torch.no_grad()
def sample_on(model, vocab, logits: torch.Tensor, state, length: int, temperature: float, seed: int,
              edit=None) -> str:
    """Continue from ``state`` (whose next-character logits are ``logits``) for ``length`` characters, drawn as
    lstm_core.sampling draws them (temperature, torch.multinomial with a seeded generator). ``edit(state)`` changes
    the state after every character read (steering) before the next one is drawn from it."""
    check_sampling(temperature, None, None, length)
    generator = torch.Generator().manual_seed(int(seed))
    written = []
    for _ in range(length):
        probs = next_char_distribution(logits, temperature)
        choice = int(torch.argmax(probs)) if temperature == 0 else int(torch.multinomial(probs, 1, generator=generator))
        written.append(vocab.chars[choice])
        _, state = model(torch.tensor([[choice]]), state)
        if edit is not None:
            state = edit(state)
        logits = next_distribution(model, state)
    return "".join(written)


def character_model(run):
    """The run's model, when it is a character model (embedding, recurrent stack, head) that these tools read;
    a WhyError for a tagger's or a classifier's."""
    if not isinstance(run.model, CharModel) or run.vocab is None:
        raise WhyError(f"{run.path.name} is not a character model (a {run.config.get('kind', 'other')} run): "
                       "these tools explain next-character predictions.")
    return run.model
