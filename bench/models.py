"""Model definitions shared by Ember and PyTorch: every builder takes the library module ``lib``.

The same source builds the same network on both libraries (``lib`` is ``torch`` or ``ember``), so the
state dict of one loads into the other and both do identical math.

>>> import ember
>>> model = mlp(ember, hidden=8)
>>> model(ember.zeros(2, 784)).shape
ember.Size([2, 10])
"""

from __future__ import annotations

import math

__all__ = ["mlp", "cnn", "gpt", "lstm_language_model", "resnet18"]


def mlp(lib, hidden: int = 512):
    """The 784-hidden-hidden-10 ReLU perceptron.

    >>> import ember
    >>> [tuple(p.shape) for p in mlp(ember, hidden=4).parameters()][:2]
    [(4, 784), (4,)]
    """
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def cnn(lib):
    """Two conv/ReLU/max-pool stages and two linear layers, for 1x28x28 images and 10 classes.

    >>> import ember
    >>> cnn(ember)(ember.zeros(2, 1, 28, 28)).shape
    ember.Size([2, 10])
    """
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def gpt(lib, vocab: int = 256, d_model: int = 256, heads: int = 4, layers: int = 4, seq: int = 128):
    """A pre-LayerNorm decoder-only transformer with attention written as matmul + masked_fill + softmax.

    >>> import ember
    >>> model = gpt(ember, vocab=16, d_model=8, heads=2, layers=1, seq=4)
    >>> model(ember.zeros(3, 4, dtype=ember.int64)).shape
    ember.Size([3, 4, 16])
    """
    nn = lib.nn

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.register_buffer("mask", lib.triu(lib.ones(seq, seq, dtype=lib.bool), diagonal=1), persistent=False)

        def forward(self, x):
            batch, time, channels = x.shape
            head_dim = channels // heads
            qkv = self.qkv(x).reshape(batch, time, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))
            scores = scores.masked_fill(self.mask[:time, :time], float("-inf"))
            attention = lib.softmax(scores, dim=-1)
            y = (attention @ v).transpose(1, 2).reshape(batch, time, channels)
            return self.proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d_model)
            self.attn = CausalSelfAttention()
            self.ln2 = nn.LayerNorm(d_model)
            self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"), nn.Linear(4 * d_model, d_model))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(vocab, d_model)
            self.position_embedding = nn.Embedding(seq, d_model)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, tokens):
            positions = lib.arange(tokens.shape[1])
            x = self.token_embedding(tokens) + self.position_embedding(positions)
            return self.head(self.ln_f(self.blocks(x)))

    return GPT()


def lstm_language_model(lib, vocab: int = 256, hidden: int = 256):
    """Embedding -> one-layer batch-first ``nn.LSTM`` -> linear to ``vocab`` logits.

    >>> import ember
    >>> lstm_language_model(ember, vocab=8, hidden=4)(ember.zeros(2, 3, dtype=ember.int64)).shape
    ember.Size([2, 3, 8])
    """
    nn = lib.nn

    class LSTMLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, hidden)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.head(output)

    return LSTMLanguageModel()


def resnet18(lib, num_classes: int = 1000):
    """ResNet-18 with torchvision's layout and state-dict names (BasicBlock, ``downsample`` = conv1x1 + bn).

    >>> import ember
    >>> model = resnet18(ember, num_classes=5).eval()
    >>> with ember.no_grad():
    ...     model(ember.zeros(1, 3, 32, 32)).shape
    ember.Size([1, 5])
    """
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, in_channels, channels, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.downsample = None
            if stride != 1 or in_channels != channels:
                self.downsample = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.layer1 = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1))
            self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
            self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256, 1))
            self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512, 1))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(lib.flatten(self.avgpool(x), 1))

    return ResNet18()
