"""A small causal Transformer encoder language model with Adam and OneCycleLR."""

import math

import numpy as np
import torch
import torch.nn as nn

from common import finish, parse_args, start_from


class TinyGPT(nn.Module):
    def __init__(self, vocab=11, width=32, heads=4, layers=2, context=12):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Parameter(torch.zeros(1, context, width))
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=64, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

    def forward(self, tokens):
        n = tokens.shape[1]
        h = self.tokens(tokens) * math.sqrt(self.tokens.embedding_dim) + self.positions[:, :n]
        h = self.encoder(h, mask=self.mask[:n, :n], is_causal=True)
        return self.head(self.norm(h))


args = parse_args()
torch.manual_seed(0)
rng = np.random.RandomState(3)
data = torch.from_numpy(rng.randint(0, 11, size=(8, 13)).astype(np.int64))
model = TinyGPT()
start_from(model, args.init)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=args.steps)
losses = []
for step in range(args.steps):
    logits = model(data[:, :-1])
    loss = nn.functional.cross_entropy(logits.transpose(1, 2), data[:, 1:])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
finish(args.out, losses)
