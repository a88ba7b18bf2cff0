"""A character-level LSTM language model (2 layers) with AdamW, gradient clipping and a cosine schedule."""

import numpy as np
import torch
import torch.nn as nn

from common import finish, parse_args, start_from

TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light.")


class CharLM(nn.Module):
    def __init__(self, vocab, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


args = parse_args()
torch.manual_seed(0)
chars = sorted(set(TEXT))
ids = torch.tensor([chars.index(c) for c in TEXT], dtype=torch.long)
model = CharLM(len(chars))
start_from(model, args.init)
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)
rng = np.random.RandomState(2)
losses = []
for step in range(args.steps):
    starts = rng.randint(0, len(ids) - 25, size=4)
    batch = torch.stack([ids[s:s + 25] for s in starts])
    inputs, targets = batch[:, :-1], batch[:, 1:]
    logits, _ = model(inputs)
    loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
finish(args.out, losses)
