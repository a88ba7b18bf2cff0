"""The ``ember`` command line (``python -m ember``)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    """Entry point of the ``ember`` console command."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "help"
    if command == "train":
        try:
            from ember.cli import train
        except ImportError:
            print("ember train: the training job is not built yet (issue 4). Ember's core is installed; "
                  "try `python -c 'import ember; print(ember.__version__)'`.", file=sys.stderr)
            return 2
        return train.main(argv[1:])
    if command in ("--version", "version"):
        import ember
        print(ember.__version__)
        return 0
    print("usage: ember {train,version}")
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main())
