"""``ember train``: train a small CNN (or MLP) on the shipped digits, an MNIST folder or an array file.

Prints a progress bar (on a terminal) and one line per epoch, then the test accuracy, and saves a checkpoint
after every epoch, so an interrupted run continues with ``--resume``. The checkpoint holds everything
``ember eval`` and ``ember predict`` need: the model config and weights, the optimizer state, the epoch, and
the normalisation of the inputs.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.safetensors")
>>> main(["--model", "mlp", "--epochs", "1", "--quiet", "--output", path])  # doctest: +ELLIPSIS
test accuracy ...% (.../360) after 1 epoch
saved checkpoint to ...tiny.safetensors
0
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time


import ember
from ember.cli.common import (CHECKPOINT_FORMAT, CLIError, accuracy_and_loss, debug_option, load_split, model_from_checkpoint,
                              non_negative_int, normalization_of, normalize, parse_command_line, positive_float, positive_int,
                              read_checkpoint, run_command, save_checkpoint)
from ember.cli.models import MODEL_NAMES, build_model, default_config

__all__ = ["add_arguments", "run", "main", "DEFAULTS", "OPTIMIZERS", "learning_rate_at", "saved_optimizer_name"]

# Defaults measured to reach >= 97% test accuracy on the digits for seeds 0..4 (see tests/cli/test_train_accuracy.py).
DEFAULTS = {"model": "cnn", "epochs": 10, "batch_size": 32, "optimizer": "adam", "seed": 0, "data": "digits",
            "lr_schedule": "cosine"}
# Optimizer name -> (default learning rate, extra keyword arguments).
OPTIMIZERS = {"adam": (3e-3, {}), "adamw": (3e-3, {"weight_decay": 0.01}), "sgd": (5e-2, {"momentum": 0.9})}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``ember train``'s options to ``parser``. Unset options are None so ``--resume`` can tell them apart.

    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--epochs", "3"]).epochs
    3
    """
    parser.add_argument("--model", choices=MODEL_NAMES, help=f"the network to train (default: {DEFAULTS['model']})")
    parser.add_argument("--epochs", type=positive_int, help=f"total epochs (default: {DEFAULTS['epochs']})")
    parser.add_argument("--batch-size", type=positive_int, help=f"training batch size (default: {DEFAULTS['batch_size']})")
    parser.add_argument("--lr", type=positive_float,
                        help="peak learning rate (default: " + ", ".join(f"{lr:g} for {name}" for name, (lr, _) in OPTIMIZERS.items())
                        + ")")
    parser.add_argument("--lr-schedule", choices=("cosine", "constant"),
                        help="cosine: decay the learning rate to 0 over the epochs (default); constant: keep it")
    parser.add_argument("--optimizer", choices=tuple(OPTIMIZERS), help=f"default: {DEFAULTS['optimizer']}")
    parser.add_argument("--seed", type=int, help=f"seeds the initial weights and the shuffling (default: {DEFAULTS['seed']})")
    parser.add_argument("--data", help="'digits' (the data shipped with Ember, default), a folder with the MNIST IDX files, "
                                       "or a .npz/.npy/.csv file of samples and labels")
    parser.add_argument("--output", metavar="PATH", help="where to save the checkpoint (default: ember-<data>.safetensors in "
                                                         "the current folder; with --resume, the resumed file)")
    parser.add_argument("--resume", metavar="CHECKPOINT",
                        help="continue a run from its checkpoint (model, optimizer and epoch) up to --epochs")
    parser.add_argument("--num-workers", type=non_negative_int, default=0, help="DataLoader worker processes (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it is off anyway when output is not a terminal)")
    parser.add_argument("--quiet", action="store_true", help="print only the final accuracy and the checkpoint's path")


def learning_rate_at(epoch: int, epochs: int, peak: float, schedule: str) -> float:
    """The learning rate of 0-based ``epoch`` out of ``epochs``: constant, or cosine-decayed from ``peak``.

    A pure function of the epoch, so a resumed run uses exactly the rates the uninterrupted one would.

    >>> [round(learning_rate_at(e, 4, 1.0, "cosine"), 3) for e in range(4)]
    [1.0, 0.854, 0.5, 0.146]
    """
    if schedule == "constant":
        return peak
    return peak * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def _make_optimizer(name: str, parameters, lr: float):
    _, extra = OPTIMIZERS[name]
    classes = {"adam": ember.optim.Adam, "adamw": ember.optim.AdamW, "sgd": ember.optim.SGD}
    return classes[name](parameters, lr=lr, **extra)


def _default_output(data: str) -> str:
    if data == "digits":
        return "ember-digits.safetensors"
    stem = os.path.basename(os.path.normpath(data)).split(".")[0] or "data"
    return f"ember-{stem}.safetensors"


def saved_optimizer_name(checkpoint: dict):
    """The optimizer a checkpoint's run used (None if it does not say); its state is loaded only into the same kind.

    >>> saved_optimizer_name({"config": {"optimizer": {"name": "sgd", "lr": 0.05}}})
    'sgd'
    """
    return checkpoint.get("config", {}).get("optimizer", {}).get("name")


def _settings(args, checkpoint) -> dict:
    """The run's settings: explicit options, else the resumed checkpoint's, else the defaults."""
    saved = dict(checkpoint["config"]) if checkpoint else {}
    saved_optimizer = saved.get("optimizer", {})
    settings = {}
    for key in ("epochs", "batch_size", "seed", "data", "lr_schedule"):
        explicit = getattr(args, key)
        settings[key] = explicit if explicit is not None else saved.get(key, DEFAULTS[key])
    settings["optimizer"] = args.optimizer or saved_optimizer.get("name", DEFAULTS["optimizer"])
    if checkpoint and saved_optimizer.get("name") and settings["optimizer"] != saved_optimizer["name"]:
        raise CLIError(f"--optimizer {settings['optimizer']}: the checkpoint was trained with {saved_optimizer.get('name')}; "
                       "resume with the same optimizer")
    if checkpoint and args.model and args.model != saved["model"]["name"]:
        raise CLIError(f"--model {args.model}: the checkpoint holds a {saved['model']['name']} model; resume it without --model")
    settings["model"] = saved["model"]["name"] if checkpoint else (args.model or DEFAULTS["model"])
    settings["lr"] = args.lr or saved_optimizer.get("lr") or OPTIMIZERS[settings["optimizer"]][0]
    return settings


def run(args) -> int:
    """Run ``ember train`` with parsed ``args`` (see :func:`add_arguments`); returns the exit code. User errors
    raise :class:`~ember.cli.common.CLIError`, which ``ember``'s ``main`` prints as one line (exit code 2).

    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["--data", "no-such-file.npz"]))
    Traceback (most recent call last):
    ...
    ember.cli.common.CLIError: --data no-such-file.npz: no such file or folder; give 'digits', ...
    """
    checkpoint = read_checkpoint(args.resume) if args.resume else None
    settings = _settings(args, checkpoint)
    say = (lambda *parts: None) if args.quiet else print
    train = load_split(settings["data"], train=True)
    num_classes = checkpoint["config"]["model"]["num_classes"] if checkpoint else train.num_classes
    test = load_split(settings["data"], train=False, num_classes=num_classes)
    if test.input_shape != train.input_shape:
        raise CLIError(f"--data {settings['data']}: training images are {train.input_shape} but test images "
                       f"{test.input_shape}")
    output = args.output or (args.resume if checkpoint else _default_output(settings["data"]))
    if os.path.isdir(output):
        output = os.path.join(output, _default_output(settings["data"]))

    ember.manual_seed(settings["seed"])
    if checkpoint:
        model = model_from_checkpoint(checkpoint, args.resume)
        if checkpoint["config"]["model"]["input_shape"] != train.input_shape:
            raise CLIError(f"--data {settings['data']}: images are {train.input_shape} but the checkpoint's model takes "
                           f"{checkpoint['config']['model']['input_shape']}")
        model_config = checkpoint["config"]["model"]
        normalization = checkpoint["normalization"]
        start_epoch = int(checkpoint["epoch"])
    else:
        try:
            model_config = default_config(settings["model"], train.input_shape, num_classes)
            model = build_model(model_config)
        except ValueError as error:
            raise CLIError(f"--model {settings['model']}: {error}") from error
        normalization = normalization_of(train.images, train.raw_max)
        start_epoch = 0
    optimizer = _make_optimizer(settings["optimizer"], model.parameters(), settings["lr"])
    if checkpoint and checkpoint.get("optimizer") is not None and saved_optimizer_name(checkpoint) == settings["optimizer"]:
        try:
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (KeyError, ValueError, TypeError, RuntimeError) as error:
            raise CLIError(f"checkpoint {args.resume}: its optimizer state does not fit ({error})") from error

    train_images, test_images = normalize(train.images, normalization), normalize(test.images, normalization)
    epochs, batch_size = settings["epochs"], settings["batch_size"]
    if start_epoch >= epochs:
        say(f"{args.resume} is already at epoch {start_epoch} of {epochs}; pass --epochs N with N > {start_epoch} "
            "to train further")
        accuracy, _, predictions = accuracy_and_loss(model, test_images, test.labels)
        print(f"test accuracy {100 * accuracy:.1f}% ({int((predictions == test.labels).sum())}/{len(test.labels)}) "
              f"at epoch {start_epoch}")
        return 0

    from ember.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset
    dataset = TensorDataset(ember.from_numpy(train_images), ember.from_numpy(train.labels))
    shuffle_generator = ember.Generator()
    # Whole batches are fetched with one indexing call (batch_size=None + a BatchSampler): no per-sample collation.
    loader = DataLoader(dataset, batch_size=None, num_workers=args.num_workers,
                        sampler=BatchSampler(RandomSampler(dataset, generator=shuffle_generator), batch_size, drop_last=False))
    show_progress = not (args.quiet or args.no_progress) and sys.stdout.isatty() and sys.stderr.isatty()
    parameter_count = sum(parameter.numel() for parameter in model.parameters())
    resumed = f", resuming {args.resume} after epoch {start_epoch}" if checkpoint else ""
    say(f"training {settings['model']} ({parameter_count:,} parameters) on {train.description}: {len(train.labels)} "
        f"training / {len(test.labels)} test images; {settings['optimizer']} lr {settings['lr']:g} ({settings['lr_schedule']}), "
        f"batch {batch_size}, {epochs} epoch{'s' if epochs != 1 else ''}{resumed}")
    say(f"checkpoint: {os.path.abspath(output)} (saved after every epoch)")

    config = {"model": model_config, "optimizer": {"name": settings["optimizer"], "lr": settings["lr"]},
              "lr_schedule": settings["lr_schedule"], "epochs": epochs, "batch_size": batch_size, "seed": settings["seed"],
              "data": settings["data"] if settings["data"] == "digits" else os.path.abspath(settings["data"])}
    started = time.perf_counter()
    saved = {}
    try:
        test_accuracy = _train_epochs(model, optimizer, loader, shuffle_generator, settings, start_epoch, show_progress,
                                      test_images, test.labels, output, config, normalization, say, saved)
    except KeyboardInterrupt:
        print(f"interrupted; {output} holds epoch {saved['epoch']} (continue with --resume {output})" if saved
              else "interrupted before an epoch finished; this run saved nothing", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    trained = epochs - start_epoch
    correct_test = int(round(test_accuracy * len(test.labels)))
    print(f"test accuracy {100 * test_accuracy:.1f}% ({correct_test}/{len(test.labels)}) after {epochs} epoch"
          f"{'s' if epochs != 1 else ''}" + ("" if args.quiet else f" ({trained} trained in {elapsed:.1f} s)"))
    print(f"saved checkpoint to {output}")
    return 0


def _train_epochs(model, optimizer, loader, shuffle_generator, settings, start_epoch, show_progress, test_images,
                  test_labels, output, config, normalization, say, saved: dict) -> float:
    """Train from ``start_epoch`` to the last epoch, saving a checkpoint after each (``saved["epoch"]`` records the
    last one written); returns the final test accuracy."""
    epochs = settings["epochs"]
    test_accuracy = 0.0
    for epoch in range(start_epoch, epochs):
        epoch_started = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(epoch, epochs, settings["lr"], settings["lr_schedule"])
        # Seeded per epoch, so resuming after epoch k shuffles exactly as the uninterrupted run did.
        shuffle_generator.manual_seed(settings["seed"] * 100_003 + epoch)
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        with _progress_bar(len(loader), f"epoch {epoch + 1}/{epochs}", show_progress) as bar:
            for images, labels in loader:
                logits = model(images)
                loss = ember.nn.functional.cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                count = labels.shape[0]
                loss_sum += loss.item() * count
                correct += int((logits.argmax(1) == labels).sum())
                seen += count
                bar.update(1)
                bar.set_postfix_str(f"loss {loss_sum / seen:.4f}", refresh=False)
        test_accuracy, test_loss, _ = accuracy_and_loss(model, test_images, test_labels)
        metrics = {"loss": loss_sum / seen, "train_accuracy": correct / seen, "test_accuracy": test_accuracy,
                   "test_loss": test_loss}
        save_checkpoint(output, {"format": CHECKPOINT_FORMAT, "ember_version": ember.__version__, "model": model.state_dict(),
                                 "optimizer": optimizer.state_dict(), "epoch": epoch + 1, "config": config,
                                 "normalization": normalization, "metrics": metrics})
        saved["epoch"] = epoch + 1
        say(f"epoch {epoch + 1}/{epochs}  loss {metrics['loss']:.4f}  train acc {100 * metrics['train_accuracy']:.1f}%  "
            f"test acc {100 * test_accuracy:.1f}%  ({time.perf_counter() - epoch_started:.1f} s)")
    return test_accuracy


class _progress_bar:
    """A tqdm bar over an epoch's batches, or a stand-in with the same methods when progress is off."""

    def __init__(self, total: int, description: str, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=description, unit="batch", leave=False, dynamic_ncols=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=refresh)


def main(argv=None) -> int:
    """``ember train`` with its own argument list (as ``ember train ARGV...``); returns the exit code.

    >>> main(["--data", "no-such-file.npz"])  # the one-line error goes to stderr
    2
    """
    parser = argparse.ArgumentParser(prog="ember train", parents=[debug_option()], description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.set_defaults(run=run, command="train", debug=False)
    args = parse_command_line(parser, sys.argv[1:] if argv is None else list(argv))
    return args if isinstance(args, int) else run_command(args)
