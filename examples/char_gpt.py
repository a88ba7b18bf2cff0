"""A character-level GPT (a small decoder-only transformer) trained on a scene of Shakespeare's Coriolanus.

    python examples/char_gpt.py            # about 15 s on 2 cores; then prints a sample of generated text
    python examples/char_gpt.py --quick    # a few seconds (what CI runs); or set EMBER_EXAMPLES_QUICK=1

The text, examples/data/coriolanus.txt, is the opening of Act I, Scene 1 of William Shakespeare's "Coriolanus"
(public domain), as it appears in the Tiny Shakespeare corpus compiled from Project Gutenberg texts
(github.com/karpathy/char-rnn, data/tinyshakespeare). See examples/README.md.

The model follows the GPT-2 layout: token and position embeddings, pre-norm blocks of causal self-attention and
an MLP, a final layer norm and a linear head over the characters.
"""

import argparse
import math
import os
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember import flags

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "coriolanus.txt")


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        batch, time_steps, channels = x.shape
        q, k, v = self.qkv(x).split(channels, dim=2)
        # (B, T, C) -> (B, heads, T, C / heads)
        q, k, v = (t.view(batch, time_steps, self.n_head, channels // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(batch, time_steps, channels))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, n_embd)
        self.position_embedding = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        positions = torch.arange(idx.shape[1])
        x = self.token_embedding(idx) + self.position_embedding(positions)
        logits = self.head(self.ln_f(self.blocks(x)))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    @torch.no_grad()
    def generate(self, idx, new_tokens, temperature=0.8):
        for _ in range(new_tokens):
            logits, _ = self(idx[:, -self.block_size:])
            probabilities = F.softmax(logits[:, -1, :] / temperature, dim=-1)
            idx = torch.cat([idx, torch.multinomial(probabilities, num_samples=1)], dim=1)
        return idx


def get_batch(data, block_size, batch_size):
    starts = torch.randint(len(data) - block_size - 1, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in starts.tolist()])
    y = torch.stack([data[i + 1:i + 1 + block_size] for i in starts.tolist()])
    return x, y


@torch.no_grad()
def estimate_loss(model, data, block_size, batch_size, batches=8):
    model.eval()
    losses = [model(*get_batch(data, block_size, batch_size))[1].item() for _ in range(batches)]
    model.train()
    return sum(losses) / len(losses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: EMBER_EXAMPLES_QUICK=1)")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    quick = args.quick or flags.EXAMPLES_QUICK.enabled()
    steps, block_size, batch_size = (40, 32, 16) if quick else (args.steps, 64, 16)
    n_layer, n_head, n_embd = (2, 4, 32) if quick else (2, 4, 64)

    torch.manual_seed(0)
    with open(DATA, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    print(f"{len(text)} characters, {len(chars)} distinct; training on {len(train_data)}, validating on {len(val_data)}")

    model = GPT(len(chars), block_size, n_layer, n_head, n_embd)
    print(f"GPT with {sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    warmup = max(steps // 20, 1)

    def learning_rate_factor(step):  # linear warm-up, then cosine decay to 10%
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)
    started = time.perf_counter()
    print_every = max(steps // 10, 1)
    for step in range(steps):
        x, y = get_batch(train_data, block_size, batch_size)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % print_every == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  ({time.perf_counter() - started:.1f} s)")
    print(f"validation loss {estimate_loss(model, val_data, block_size, batch_size):.4f}")

    prompt = torch.tensor([[stoi[c] for c in "MENENIUS:\n"]], dtype=torch.long)
    sample = model.generate(prompt, 60 if quick else 400)[0].tolist()
    print("sample:\n" + "".join(chars[i] for i in sample))


if __name__ == "__main__":
    main()
