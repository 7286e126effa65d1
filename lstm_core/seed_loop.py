"""The seed notebook's own training loop (``003``), kept as written, for the benchmark's baseline.

Batch 1, 100-character windows, hidden 128, AdamW 1e-3, the state carried and detached between
windows, a random start offset below 100 each epoch. :func:`seed_loop` runs it for a time budget
(or a number of epochs) and reports the validation loss computed the way the notebook computes
its test loss. The app's ``seed-exact`` preset trains the same loop through
:class:`~lstm_core.training.char.CharTraining` (batch size 1, ``random_offset=True``).
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn


class SeedLSTM(nn.Module):
    """The notebook's model, unchanged: embedding -> nn.LSTM -> linear, unbatched input."""

    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers=num_layers)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden):
        x = self.embedding(x)
        x, hidden = self.lstm(x, hidden)
        x = self.fc(x)
        return x, (hidden[0].detach(), hidden[1].detach())


@torch.no_grad()
def seed_test_loss(model, test, seq_len=100, seed=0) -> float:
    """The notebook's test loss: windows of ``seq_len``, state carried, random start below 100."""
    generator = torch.Generator().manual_seed(seed)
    state, running_loss, n = None, 0.0, 0
    data_ptr = torch.randint(100, (1, 1), generator=generator).item()
    criterion = nn.CrossEntropyLoss()
    while True:
        x = test[data_ptr:data_ptr + seq_len]
        y = test[data_ptr + 1:data_ptr + seq_len + 1]
        y_pred, state = model(x, state)
        running_loss += criterion(y_pred, y).item()
        n += 1
        data_ptr += seq_len
        if data_ptr + seq_len + 1 > len(test):
            break
    return running_loss / n


def seed_loop(train_data, test, vocab_size, max_seconds=None, epochs=20, hidden_dim=128, seq_len=100,
              lr=1e-3, seed=0, checkpoints=()):
    """Train as the notebook does; stop after ``epochs`` or ``max_seconds`` of training.

    ``checkpoints`` are training-time marks (seconds) at which the test loss is measured (outside
    the clock). Returns (model, {"chars": ..., "seconds": ..., "train_loss": ..., "losses": {mark: loss}}).
    """
    torch.manual_seed(seed)
    model = SeedLSTM(vocab_size, hidden_dim)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    marks = sorted(checkpoints)
    losses, chars, trained, running_loss, n = {}, 0, 0.0, 0.0, 0
    for _epoch in range(epochs):
        state = None
        running_loss, n = 0.0, 0
        data_ptr = torch.randint(100, (1, 1)).item()
        while True:
            started = time.perf_counter()
            x = train_data[data_ptr:data_ptr + seq_len]
            y = train_data[data_ptr + 1:data_ptr + seq_len + 1]
            optimizer.zero_grad()
            y_pred, state = model.forward(x, state)
            loss = criterion(y_pred, y)
            running_loss += loss.item()
            n += 1
            loss.backward()
            optimizer.step()
            data_ptr += seq_len
            trained += time.perf_counter() - started
            chars += seq_len
            while marks and trained >= marks[0]:
                losses[marks.pop(0)] = seed_test_loss(model, test, seq_len)
            if max_seconds is not None and trained >= max_seconds:
                return model, {"chars": chars, "seconds": trained, "train_loss": running_loss / n, "losses": losses}
            if data_ptr + seq_len + 1 > len(train_data):
                break
    return model, {"chars": chars, "seconds": trained, "train_loss": running_loss / max(n, 1), "losses": losses}
