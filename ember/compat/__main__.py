"""``python -m ember.compat script.py args...``: run an unmodified PyTorch script on Ember."""

from __future__ import annotations

import os
import runpy
import sys

from ember.compat import install


def main(argv=None) -> int:
    """Run ``argv[0]`` (a script path, or ``-m module``) as ``__main__`` with ``import torch`` resolving to Ember."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ember.compat SCRIPT.py [ARGS...]  |  python -m ember.compat -m MODULE [ARGS...]\n"
              "Runs a PyTorch script with `import torch` resolving to Ember.")
        return 0 if argv else 2
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print("python -m ember.compat -m: a module name is required", file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
