"""Why this character: attribution, the memory diff, patching across time, and probes that steer.

    attribution.attribute(model, vocab, text, "ig")       which earlier characters made the next one likely
    attribution.deletion_curves(...)                      how faithful those scores are, against random
    memory_diff.memory_diff(model, vocab, text, p, "X")   two texts one character apart, state by state
    patching.patch(model, vocab, source, target, ...)     one text's state copied into another's run
    probes.train_probe(...), probes.steered_sample(...)   linear read-outs of a whole state, and steering along them

Every module works for each architecture of lstm_core.architectures (LSTM, GRU, plain RNN, ablated LSTMs): it asks
the registry's entry, never the name. Bad input raises :class:`WhyError` (a ValueError) with one sentence for the
user.
"""

from .common import WhyError

__all__ = ["WhyError"]
