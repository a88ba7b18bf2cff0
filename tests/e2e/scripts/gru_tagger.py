"""A bidirectional GRU sequence tagger on variable-length sentences (packed sequences), with RMSprop."""

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from common import finish, parse_args, start_from


class Tagger(nn.Module):
    def __init__(self, vocab=20, tags=4, hidden=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, 12, padding_idx=0)
        self.gru = nn.GRU(12, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, tags)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        hidden, _ = pad_packed_sequence(self.gru(packed)[0], batch_first=True)
        return self.out(hidden)


args = parse_args()
torch.manual_seed(0)
rng = np.random.RandomState(4)
lengths = [7, 3, 5, 6, 2, 4]
sentences = [torch.from_numpy(rng.randint(1, 20, size=n).astype(np.int64)) for n in lengths]
tags = [torch.from_numpy(rng.randint(0, 4, size=n).astype(np.int64)) for n in lengths]
tokens = pad_sequence(sentences, batch_first=True)
targets = pad_sequence(tags, batch_first=True, padding_value=-100)
model = Tagger()
start_from(model, args.init)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.5)
losses = []
for step in range(args.steps):
    scores = model(tokens, torch.tensor(lengths))
    loss = nn.functional.cross_entropy(scores.reshape(-1, 4), targets.reshape(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
finish(args.out, losses)
