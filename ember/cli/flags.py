"""``ember flags``: every ``EMBER_*`` environment switch with its value here, its default and what it does.

``ember flags --markdown`` prints README's "Environment variables" table instead (it is generated from
:mod:`ember.flags`; ``tests/test_flags.py`` fails when the two differ).

>>> import argparse
>>> run(argparse.Namespace(markdown=False))  # doctest: +ELLIPSIS
EMBER_DEBUG=... (default 0): ...
0
"""

from __future__ import annotations

import argparse

from ember import flags

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--markdown``: print README's table instead of the values.

    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> parser.parse_args(["--markdown"]).markdown
    True
    """
    parser.add_argument("--markdown", action="store_true", help="print the README table of the switches")


def run(args) -> int:
    """Print the switches (or their table); returns 0.

    >>> run(argparse.Namespace(markdown=True))  # doctest: +ELLIPSIS
    | variable | default | effect |
    ...
    0
    """
    if args.markdown:
        print(flags.markdown_table())
        return 0
    for flag in flags.ALL:
        print(f"{flag.name}={flag.value()} (default {flag.default or 'unset'}): {flag.doc.replace('`', '')}")
    return 0
