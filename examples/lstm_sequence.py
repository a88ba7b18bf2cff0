"""Forecast a signal with an LSTM: given 40 steps of a noisy sum of two sine waves, predict the next 10 steps.

    python examples/lstm_sequence.py            # about 20 s on 2 cores
    python examples/lstm_sequence.py --quick    # a few seconds (what CI runs); or set EMBER_EXAMPLES_QUICK=1

Each training sequence has its own random frequencies, phases and amplitudes, so the model has to read them off
the context rather than memorise one curve. An encoder LSTM reads the context; its final state starts a decoder
LSTMCell that unrolls the forecast one step at a time, feeding each prediction back in. The script compares the
mean squared error with a naive forecast that repeats the last observed value.
"""

import argparse
import math
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember import flags

CONTEXT, HORIZON = 40, 10


def make_sequences(count, rng):
    """(count, CONTEXT + HORIZON) samples of a1 sin(w1 t + p1) + a2 sin(w2 t + p2) + noise, as float32."""
    t = np.arange(CONTEXT + HORIZON, dtype=np.float64)
    frequencies = rng.uniform(0.1, 0.5, size=(count, 2, 1))
    phases = rng.uniform(0, 2 * math.pi, size=(count, 2, 1))
    amplitudes = rng.uniform(0.2, 0.6, size=(count, 2, 1))
    waves = (amplitudes * np.sin(frequencies * t + phases)).sum(axis=1)
    return (waves + rng.normal(0, 0.02, size=waves.shape)).astype(np.float32)


class Forecaster(nn.Module):
    def __init__(self, hidden_size=64, num_layers=1):
        super().__init__()
        self.encoder = nn.LSTM(input_size=1, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)
        self.decoder = nn.LSTMCell(input_size=1, hidden_size=hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, context, horizon=HORIZON):
        # context: (batch, CONTEXT) -> forecast (batch, horizon)
        _, (h, c) = self.encoder(context.unsqueeze(-1))
        h, c = h[-1], c[-1]
        value = context[:, -1:]
        forecast = []
        for _ in range(horizon):
            h, c = self.decoder(value, (h, c))
            value = value + self.head(h)  # predict the change from the previous value
            forecast.append(value)
        return torch.cat(forecast, dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: EMBER_EXAMPLES_QUICK=1)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    quick = args.quick or flags.EXAMPLES_QUICK.enabled()
    epochs, train_count, hidden = (4, 512, 32) if quick else (args.epochs, 2048, 64)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = torch.from_numpy(make_sequences(train_count, rng))
    test = torch.from_numpy(make_sequences(256, rng))
    model = Forecaster(hidden_size=hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    batch_size = 64
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train))
        total = 0.0
        for start in range(0, len(train), batch_size):
            batch = train[order[start:start + batch_size]]
            forecast = model(batch[:, :CONTEXT])
            loss = F.mse_loss(forecast, batch[:, CONTEXT:])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(batch)
        scheduler.step()
        print(f"epoch {epoch + 1}/{epochs}  loss {total / len(train):.5f}  ({time.perf_counter() - started:.1f} s)")

    model.eval()
    with torch.no_grad():
        test_mse = F.mse_loss(model(test[:, :CONTEXT]), test[:, CONTEXT:]).item()
    naive_mse = F.mse_loss(test[:, CONTEXT - 1:CONTEXT].expand(-1, HORIZON), test[:, CONTEXT:]).item()
    print(f"test mse {test_mse:.5f}  (repeating the last value: {naive_mse:.5f})")


if __name__ == "__main__":
    main()
