"""The ``ember`` command line (also ``python -m ember``): ``train``, ``eval``, ``predict``, ``info``, ``flags``,
``version``.

User errors (a missing or corrupt checkpoint, a wrong data path, inputs of the wrong shape) print one line on
stderr and exit with code 2; ``--debug`` shows the traceback instead.

>>> from ember.__main__ import main
>>> main(["version"])  # doctest: +ELLIPSIS
0.1...
0
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]

_DESCRIPTION = "Ember: a deep learning framework with PyTorch's API, built on NumPy."
_EPILOG = """examples:
  ember train                                   train a CNN on the digits shipped with Ember (about 98% test accuracy)
  ember train --model mlp --epochs 5 --output runs/mlp.safetensors
  ember train --resume runs/mlp.safetensors --epochs 8
  ember eval ember-digits.safetensors           loss, accuracy, per-class accuracy and confusion matrix
  ember predict ember-digits.safetensors samples.npy --top-k 3
  ember info                                    versions, BLAS, threads, optional extras
  ember flags                                   the EMBER_* environment switches, their values and defaults"""


def _run_version(args) -> int:
    import ember
    print(ember.__version__)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser with its subcommands.

    >>> build_parser().parse_args(["eval", "model.safetensors"]).command
    'eval'
    """
    from ember.cli import evaluate, flags, info, predict, train
    from ember.cli.common import debug_option

    debug = debug_option()
    parser = argparse.ArgumentParser(prog="ember", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print Ember's version and exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    subcommands = parser.add_subparsers(dest="command", metavar="{train,eval,predict,info,flags,version}")
    commands = [("train", train, "train a model on the shipped digits, an MNIST folder or an array file"),
                ("eval", evaluate, "evaluate a checkpoint: loss, accuracy, per-class accuracy, confusion matrix"),
                ("predict", predict, "predict the classes of samples (.npy/.npz/.csv) or images with a checkpoint"),
                ("info", info, "Ember, Python, NumPy/BLAS versions, threads, optional extras, CPU"),
                ("flags", flags, "the EMBER_* environment switches: value here, default, effect")]
    for name, module, summary in commands:
        command = subcommands.add_parser(name, parents=[debug], help=summary, description=module.__doc__.split("\n\n")[0])
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    subcommands.add_parser("version", parents=[debug], help="print Ember's version").set_defaults(run=_run_version)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``ember`` console command; returns the exit code (0 ok, 2 user error).

    >>> main(["eval", "no-such-checkpoint.safetensors"])  # prints one error line on stderr
    2
    """
    from ember.cli.common import parse_command_line, run_command
    parser = build_parser()
    args = parse_command_line(parser, sys.argv[1:] if argv is None else list(argv))
    if isinstance(args, int):
        return args
    if args.version:
        return _run_version(args)
    if args.command is None:
        parser.print_help()
        return 0
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
