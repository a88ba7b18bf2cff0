"""Fine-tune a trained digits CNN for a new task: give it a new head that tells even digits from odd ones.

    ember train                                                   # or: python examples/digits_cnn.py
    python examples/finetune_from_checkpoint.py ember-digits.safetensors
    python examples/finetune_from_checkpoint.py digits_cnn.safetensors --quick    # what CI runs

Transfer learning in two stages: first only the new head trains on top of the frozen convolutional features (the
batch-norm statistics stay fixed too), then everything trains for a short while at a small learning rate. It
reads checkpoints written by `ember train` or examples/digits_cnn.py: a dict with the model's weights
("model"), its config ("config" -> "model") and the input normalisation ("normalization").
"""

import argparse
import os
import sys

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import flags
from ember.cli.models import build_model
from ember.datasets import Digits
from ember.utils.data import DataLoader


def parity_loaders(normalization, batch_size=64):
    mean, std = normalization["mean"][0], normalization["std"][0]

    def normalize(image):
        return (image - mean) / std

    def parity(label):
        return label % 2  # 0: even digit, 1: odd digit

    train = Digits(train=True, transform=normalize, target_transform=parity)
    test = Digits(train=False, transform=normalize, target_transform=parity)
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(test, batch_size=256)


def run_epoch(model, loader, optimizer=None):
    """One pass over ``loader``: trains when an optimizer is given; returns (mean loss, accuracy)."""
    total_loss, correct, seen = 0.0, 0, 0
    with ember.set_grad_enabled(optimizer is not None):
        for images, labels in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * labels.shape[0]
            correct += (logits.argmax(1) == labels).sum().item()
            seen += labels.shape[0]
    return total_loss / seen, correct / seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", nargs="?", default="ember-digits.safetensors",
                        help="a checkpoint from `ember train` or examples/digits_cnn.py (default: ember-digits.safetensors)")
    parser.add_argument("--quick", action="store_true", help="a short run (also: EMBER_EXAMPLES_QUICK=1)")
    parser.add_argument("--output", default="finetuned_parity.safetensors")
    args = parser.parse_args()
    quick = args.quick or flags.EXAMPLES_QUICK.enabled()
    if not os.path.exists(args.checkpoint):
        sys.exit(f"{args.checkpoint} not found: run `ember train` (or python examples/digits_cnn.py) first")

    ember.manual_seed(0)
    checkpoint = ember.load(args.checkpoint)
    model = build_model(checkpoint["config"]["model"])
    model.load_state_dict(checkpoint["model"])
    print(f"loaded {args.checkpoint}: a {checkpoint['config']['model']['name']} trained for {checkpoint['epoch']} epochs")

    # The new head: same input features as the old classifier, two outputs (even, odd).
    model.classifier = nn.Linear(model.classifier.in_features, 2)
    train_loader, test_loader = parity_loaders(checkpoint["normalization"])

    # Stage 1: freeze the feature extractor; keep its batch norms in eval mode so their running statistics stay put.
    model.features.requires_grad_(False)
    head_optimizer = ember.optim.Adam(model.classifier.parameters(), lr=1e-2)
    for epoch in range(1 if quick else 3):
        model.train()
        model.features.eval()
        loss, accuracy = run_epoch(model, train_loader, head_optimizer)
        print(f"head only   epoch {epoch + 1}  loss {loss:.4f}  train acc {100 * accuracy:.1f}%")

    # Stage 2: unfreeze everything and train briefly with a small learning rate.
    model.requires_grad_(True)
    optimizer = ember.optim.AdamW(model.parameters(), lr=5e-4)
    for epoch in range(1 if quick else 2):
        model.train()
        loss, accuracy = run_epoch(model, train_loader, optimizer)
        print(f"full model  epoch {epoch + 1}  loss {loss:.4f}  train acc {100 * accuracy:.1f}%")

    model.eval()
    test_loss, test_accuracy = run_epoch(model, test_loader)
    print(f"even/odd test accuracy {100 * test_accuracy:.1f}% (test loss {test_loss:.4f})")
    ember.save({"model": model.state_dict(), "config": {"model": {**checkpoint["config"]["model"], "num_classes": 2}},
                "epoch": 0, "normalization": checkpoint["normalization"], "classes": ["even", "odd"]}, args.output)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
