"""Train a small CNN on the handwritten digits shipped with Ember, written as ordinary PyTorch code.

    python examples/digits_cnn.py                 # 10 epochs, about 98% test accuracy in a few seconds
    python examples/digits_cnn.py --quick         # 2 epochs (what CI runs); or set EMBER_EXAMPLES_QUICK=1

`import ember as torch` is the only change from a PyTorch script. The checkpoint is saved in the layout `ember train`
uses, so `ember eval digits_cnn.safetensors` and `ember predict ...` work on it, and
examples/finetune_from_checkpoint.py can start from it.
"""

import argparse
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember import flags
from ember.datasets import Digits
from ember.utils.data import DataLoader


class DigitsCNN(nn.Module):
    """Two conv blocks and a linear classifier (the same layout as `ember train --model cnn`)."""

    def __init__(self, width=32, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(2 * width * 2 * 2, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            total += labels.shape[0]
    return correct / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: EMBER_EXAMPLES_QUICK=1)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--output", default="digits_cnn.safetensors")
    args = parser.parse_args()
    quick = args.quick or flags.EXAMPLES_QUICK.enabled()
    epochs = 2 if quick else args.epochs

    torch.manual_seed(0)
    # Digits items are (float32 image (1, 8, 8) in [0, 1], int label); normalise with the training set's statistics.
    train_set = Digits(train=True)
    mean, std = train_set.data.float().div(16).mean().item(), train_set.data.float().div(16).std().item()

    def normalize(image):
        return (image - mean) / std

    train_set = Digits(train=True, transform=normalize)
    test_set = Digits(train=False, transform=normalize)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        started = time.perf_counter()
        model.train()
        total_loss = 0.0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * labels.shape[0]
        scheduler.step()
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch + 1}/{epochs}  loss {total_loss / len(train_set):.4f}  test acc {100 * accuracy:.1f}%  "
              f"({time.perf_counter() - started:.1f} s)")

    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epochs,
                "config": {"model": {"name": "cnn", "input_shape": [1, 8, 8], "num_classes": 10, "width": 32},
                           "optimizer": {"name": "adam", "lr": 3e-3}, "epochs": epochs, "data": "digits"},
                "normalization": {"mean": [mean], "std": [std], "raw_max": 16.0}}, args.output)
    print(f"test accuracy {100 * accuracy:.1f}%; saved {args.output}")


if __name__ == "__main__":
    main()
