"""Every ``EMBER_*`` environment switch, declared once with its default and what it does.

Code reads a switch through its :class:`Flag` (``flags.FUSED_POOL.enabled()``, ``flags.CACHE_DIR.value()``),
never through ``os.environ`` directly, so this file is the one list of them; README's "Environment variables"
table is generated from it (``python -m ember flags --markdown``). A flag reads the environment each time it is
asked (tests set variables with ``monkeypatch.setenv``); callers that ask on every op keep the answer themselves.
An empty variable counts as unset.

>>> from ember import flags
>>> flags.FUSED_POOL.name, flags.FUSED_POOL.default
('EMBER_FUSED_POOL', '1')
>>> switch = Flag("EMBER_EXAMPLE_SWITCH", default="1", doc="an example switch")
>>> switch.enabled()
True
>>> os.environ["EMBER_EXAMPLE_SWITCH"] = "0"
>>> switch.enabled(), switch.value()
(False, '0')
>>> del os.environ["EMBER_EXAMPLE_SWITCH"]
>>> print(markdown_table().splitlines()[0])
| variable | default | effect |
"""

from __future__ import annotations

import os

__all__ = ["Flag", "ALL", "markdown_table", "DEBUG", "CACHE_DIR", "FUSED_KERNELS", "FUSED_OPTIM", "FUSED_RNN",
           "FUSED_GELU", "FUSED_ROWWISE", "FUSED_CONV", "FUSED_INDEX", "FUSED_POOL", "MALLOC_TUNING", "OP_TABLES",
           "EXAMPLES_QUICK"]


class Flag:
    """One ``EMBER_*`` environment variable: its ``name``, the ``default`` used when it is unset or empty, and
    ``doc``, one line saying what it does.

    >>> Flag("EMBER_EXAMPLE_SWITCH", default="0", doc="an example switch").enabled()
    False
    """

    __slots__ = ("name", "default", "doc")

    def __init__(self, name: str, default: str, doc: str):
        self.name = name
        self.default = default
        self.doc = doc

    def value(self) -> str:
        """The variable's value now, or the default when it is unset or empty.

        >>> Flag("EMBER_EXAMPLE_PATH", default="/tmp/example", doc="an example path").value()
        '/tmp/example'
        """
        return os.environ.get(self.name) or self.default

    def enabled(self) -> bool:
        """Whether the switch is on now: any value but ``0``.

        >>> Flag("EMBER_EXAMPLE_SWITCH", default="1", doc="an example switch").enabled()
        True
        """
        return self.value() != "0"

    def __repr__(self) -> str:
        return f"Flag({self.name!r}, default={self.default!r})"


DEBUG = Flag("EMBER_DEBUG", default="0",
             doc="`1`: `ember.compile` prints each captured graph, the graph after each pass, its memory plan, "
                 "recompiles and graph breaks")
CACHE_DIR = Flag("EMBER_CACHE_DIR", default="~/.cache/ember/kernels", doc="where compiled C kernels are cached")
FUSED_KERNELS = Flag("EMBER_FUSED_KERNELS", default="1",
                     doc="`0`: eager mode never uses the C kernels (the `EMBER_FUSED_*` below turn off one family)")
FUSED_OPTIM = Flag("EMBER_FUSED_OPTIM", default="1", doc="`0`: eager SGD/Adam/AdamW run their NumPy update")
FUSED_RNN = Flag("EMBER_FUSED_RNN", default="1", doc="`0`: eager LSTM layers run the NumPy cell")
FUSED_GELU = Flag("EMBER_FUSED_GELU", default="1", doc="`0`: eager tanh-GELU runs its NumPy passes")
FUSED_ROWWISE = Flag("EMBER_FUSED_ROWWISE", default="1",
                     doc="`0`: eager softmax, masked softmax and layer_norm run their NumPy passes")
FUSED_CONV = Flag("EMBER_FUSED_CONV", default="1", doc="`0`: eager convolutions build their im2col matrix in NumPy")
FUSED_INDEX = Flag("EMBER_FUSED_INDEX", default="1", doc="`0`: the embedding backward sums its rows in NumPy")
FUSED_POOL = Flag("EMBER_FUSED_POOL", default="1", doc="`0`: eager max pooling scans its windows in NumPy")
MALLOC_TUNING = Flag("EMBER_MALLOC_TUNING", default="1",
                     doc="`0`: leave glibc's allocator thresholds alone (by default freed arrays stay mapped for reuse)")
OP_TABLES = Flag("EMBER_OP_TABLES", default="",
                 doc="tests: run only these families of the op table (comma-separated, e.g. `table_reduce`)")
EXAMPLES_QUICK = Flag("EMBER_EXAMPLES_QUICK", default="0",
                      doc="`1`: the scripts in examples/ take their short run, as with `--quick`")

ALL = tuple(value for value in list(globals().values()) if isinstance(value, Flag))


def markdown_table() -> str:
    """README's "Environment variables" table: one row per flag, in declaration order.

    >>> markdown_table().splitlines()[2].startswith("| `EMBER_DEBUG` | `0` |")
    True
    """
    rows = ["| variable | default | effect |", "|---|---|---|"]
    for flag in ALL:
        default = f"`{flag.default}`" if flag.default else "(unset)"
        rows.append(f"| `{flag.name}` | {default} | {flag.doc} |")
    return "\n".join(rows)
