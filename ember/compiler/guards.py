"""Guards: what a compiled graph assumed, checked at every call before it is replayed.

The cache key (``signature``) covers the arguments: each tensor's shape, dtype, requires_grad and which
earlier argument it aliases; Python scalars by value; other objects (modules, optimizers) by identity;
plus grad mode and the default dtype. After a key matches, the entry's extra guards check what the
function reads without receiving it: the Python attributes of every module it called (``training``,
dropout's ``p`` ...) and the globals and closure variables its code names. ``describe_change`` says, in
words, why a call did not match (the recompile reason).

>>> import ember
>>> key, tensors = signature(((ember.ones(2, 3), 0.5), {}))
>>> key[0]
('tuple', (('tuple', (('tensor', (2, 3), 'float32', False, -1), ('float', 0.5))), ('dict', ())))
>>> describe_change(key, signature(((ember.ones(4, 3), 0.5), {}))[0])
'args[0] shape (2, 3) -> (4, 3)'
"""

from __future__ import annotations

from ember import dtypes as _dtypes
from ember.autograd.grad_mode import STATE
from ember.tensor import Tensor

__all__ = ["signature", "describe_change", "code_guards", "check_code_guards"]

_SCALARS = (int, float, bool, complex, str, type(None))


def signature(tree):
    """``(key, tensors)``: the hashable cache key of an argument tree and its tensors in order."""
    tensors = []
    arrays = {}
    key = _walk(tree, tensors, arrays)
    return (key, STATE.enabled, _dtypes.get_default_dtype().name), tensors


def _walk(value, tensors, arrays):
    if isinstance(value, Tensor):
        alias = arrays.get(id(value._data), -1)
        arrays.setdefault(id(value._data), len(tensors))
        tensors.append(value)
        return ("tensor", value._data.shape, value._dtype.name, value._requires_grad, alias)
    cls = type(value)
    if cls in _SCALARS:
        return (cls.__name__, value)
    if cls is tuple or cls is list:
        return (cls.__name__, tuple(_walk(v, tensors, arrays) for v in value))
    if cls is dict:
        return ("dict", tuple((k, _walk(v, tensors, arrays)) for k, v in value.items()))
    return ("object", cls.__name__, id(value))


def describe_change(old, new, path="args") -> str:
    """A short sentence naming the first difference between two keys (``None`` if equal)."""
    if old == new:
        return None
    if isinstance(old, tuple) and len(old) == 3 and not isinstance(old[0], str) and path == "args":
        if old[1] != new[1]:
            return f"grad mode {'enabled' if old[1] else 'disabled'} -> {'enabled' if new[1] else 'disabled'}"
        if old[2] != new[2]:
            return f"default dtype {old[2]} -> {new[2]}"
        (args_old, kwargs_old), (args_new, kwargs_new) = old[0][1], new[0][1]
        return (describe_change(args_old, args_new, "args") or describe_change(kwargs_old, kwargs_new, "kwargs"))
    if old[0] != new[0]:
        return f"{path} changed type {old[0]} -> {new[0]}"
    kind = old[0]
    if kind == "tensor":
        for index, name in ((1, "shape"), (2, "dtype"), (3, "requires_grad"), (4, "aliasing with an earlier argument")):
            if old[index] != new[index]:
                return f"{path} {name} {old[index]} -> {new[index]}"
    if kind in ("tuple", "list"):
        if len(old[1]) != len(new[1]):
            return f"{path} length {len(old[1])} -> {len(new[1])}"
        for i, (a, b) in enumerate(zip(old[1], new[1])):
            found = describe_change(a, b, f"{path}[{i}]")
            if found:
                return found
    if kind == "dict":
        old_keys, new_keys = [k for k, _ in old[1]], [k for k, _ in new[1]]
        if old_keys != new_keys:
            return f"{path} keys {old_keys} -> {new_keys}"
        for (k, a), (_, b) in zip(old[1], new[1]):
            found = describe_change(a, b, f"{path}[{k!r}]")
            if found:
                return found
    if kind == "object":
        return f"{path} is a different {old[1]} object"
    return f"{path} value {old[1]!r} -> {new[1]!r}"


def code_guards(fn) -> tuple:
    """The globals and closure variables ``fn``'s code names, as guarded values: scalars by value, tensors by
    (identity, shape, dtype), anything else by identity."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    found = []
    module_globals = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if name in module_globals:
            found.append((f"global {name!r}", _guard_value(module_globals[name])))
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            found.append((f"closure variable {name!r}", _guard_value(cell.cell_contents)))
        except ValueError:
            continue
    return tuple(found)


def _guard_value(value):
    cls = type(value)
    if cls in _SCALARS:
        return (cls.__name__, value)
    if isinstance(value, Tensor):
        return ("tensor", id(value), value._data.shape, value._dtype.name)
    return ("object", id(value))


def check_code_guards(fn, expected) -> str:
    """``None`` when ``fn``'s globals/closure still hold the expected values, else what changed."""
    current = code_guards(fn)
    if current == expected:
        return None
    for (name, old), (_, new) in zip(expected, current):
        if old != new:
            if old[0] == "object" or new[0] != old[0]:
                return f"{name} now refers to a different object"
            if old[0] == "tensor":
                return f"{name} now refers to a different tensor"
            return f"{name} changed {old[1]!r} -> {new[1]!r}"
    return "the function's globals changed"
