"""``repr(tensor)`` in PyTorch's format (the logic of torch/_tensor_str.py, on NumPy arrays).

The output matches PyTorch character for character, with ``ember.`` in place of ``torch.`` in dtype
suffixes.

>>> import ember
>>> ember.tensor([[0.5, 1.0], [2.0, 1e-5]])
tensor([[5.0000e-01, 1.0000e+00],
        [2.0000e+00, 1.0000e-05]])
>>> ember.set_printoptions(precision=2); ember.tensor([1/3]); ember.set_printoptions(precision=4)
tensor([0.33])
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]


class _PrintOptions:
    """The print options (a plain class: ``dataclasses`` costs milliseconds at ``import ember``)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision, self.threshold, self.edgeitems, self.linewidth, self.sci_mode = 4, 1000, 3, 80, None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions`` (``profile`` is "default", "short" or "full").

    >>> ember.set_printoptions(threshold=5); ember.arange(10)
    tensor([0, 1, 2,  ..., 7, 8, 9])
    >>> ember.set_printoptions(profile="default"); ember.arange(10)
    tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    if profile is not None:
        profiles = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}
        if profile in profiles:
            PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = profiles[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict that ``set_printoptions(**options)`` accepts.

    >>> ember.formatting.get_printoptions()["precision"]
    4
    """
    return {name: getattr(PRINT_OPTS, name) for name in _PrintOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change print options inside a ``with`` block only.

    >>> with ember.formatting.printoptions(precision=1):
    ...     print(ember.tensor([0.25, 1.5]))
    tensor([0.2, 1.5])
    """
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses the number format (int mode, fixed or scientific) and the column width for all elements."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        flat = flat.astype(np.float64)
        with np.errstate(invalid="ignore"):
            finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        absolute = np.abs(finite)
        lo, hi = float(absolute.min()), float(absolute.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        p = PRINT_OPTS.precision
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        values_list = finite.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{p}e}") for v in values_list)
        elif self.int_mode:
            # a trailing "." marks float dtype in int mode; +1 makes room for it
            self.max_width = max(len(f"{v:.0f}") + 1 for v in values_list)
        else:
            self.max_width = max(len(f"{v:.{p}f}") for v in values_list)

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTS.precision
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _vector_str(arr, indent, summarize, formatter):
    element_length = formatter.width() + 2
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        data = [formatter.format(v) for v in arr[:e].tolist()] + [" ..."] + \
               [formatter.format(v) for v in arr[-e:].tolist()]
    else:
        data = [formatter.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(arr, indent, summarize, formatter):
    dim = arr.ndim
    if dim == 0:
        return formatter.format(arr.item())
    if dim == 1:
        return _vector_str(arr, indent, summarize, formatter)
    e = PRINT_OPTS.edgeitems
    if summarize and arr.shape[0] > 2 * e:
        rows = list(range(e)) + [None] + list(range(arr.shape[0] - e, arr.shape[0]))
    else:
        rows = range(arr.shape[0])
    slices = ["..." if i is None else _tensor_str_with_formatter(arr[i], indent + 1, summarize, formatter)
              for i in rows]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized(arr):
    """The elements a summarized print shows (the formatter sizes its columns from these only)."""
    e = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return np.concatenate((arr[:e], arr[-e:])) if arr.shape[0] > 2 * e else arr
    if not e:
        return np.empty((0,) * arr.ndim, dtype=arr.dtype)
    if arr.shape[0] > 2 * e:
        parts = [_summarized(arr[i]) for i in list(range(e)) + list(range(arr.shape[0] - e, arr.shape[0]))]
    else:
        parts = [_summarized(x) for x in arr]
    return np.stack(parts)


def _tensor_str(arr, indent, floating):
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTS.threshold
    formatter = _Formatter(_summarized(arr) if summarize else arr, floating)
    return _tensor_str_with_formatter(arr, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    out = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            out.append(", " + suffix)
            last_line_len += len(suffix) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t, prefix=None) -> str:
    """PyTorch's ``repr`` of a tensor (``prefix`` replaces ``"tensor("``)."""
    from ember import dtypes
    arr = t._data
    if t._dtype is dtypes.bfloat16:
        arr = arr.astype(np.float32)
    if prefix is None:
        prefix = t._repr_prefix()
    indent = len(prefix)
    suffixes = []
    dtype = t._dtype
    default_dtype = dtypes.get_default_dtype()
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype is not default_dtype:
            suffixes.append(f"dtype=ember.{dtype.name}")
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype not in (default_dtype, dtypes.int64, dtypes.bool):
            suffixes.append(f"dtype=ember.{dtype.name}")
        tensor_str = _tensor_str(arr, indent, dtype.is_floating_point)
    if t.grad_fn is not None:
        name = t.grad_fn.name() if hasattr(t.grad_fn, "name") else type(t.grad_fn).__name__
        suffixes.append(f"grad_fn=<{name.rsplit('::', 1)[-1]}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)
