"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict`` (``torch.nn``).

>>> import ember
>>> from ember import nn
>>> model = nn.Sequential(nn.Linear(2, 3), nn.Flatten(), nn.Linear(3, 1))
>>> model(ember.ones(4, 2)).shape
ember.Size([4, 1])
>>> blocks = nn.ModuleList([nn.Identity() for _ in range(3)])
>>> blocks
ModuleList(
  (0-2): 3 x Identity()
)
"""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections import abc as container_abcs
from itertools import chain, islice

from ember.errors import op_error
from ember.nn.module import Module, _addindent
from ember.nn.parameter import Parameter
from ember.tensor import Tensor

__all__ = ["Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


class Container(Module):
    """Deprecated: a Module whose keyword arguments become submodules (subclass ``Module`` instead).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     list(ember.nn.Container(a=ember.nn.Identity())._modules)
    ['a']
    """

    def __init__(self, **kwargs):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
                      "Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


def _abs_index(idx, size, owner):
    """``idx`` (any integer-like, possibly negative) as a non-negative position in ``range(size)``."""
    try:
        idx = operator.index(idx)
    except TypeError:
        raise op_error(TypeError, owner, f"indices must be integers or slices, not {type(idx).__name__}") from None
    if not -size <= idx < size:
        raise op_error(IndexError, owner, f"index {idx} is out of range (length {size})")
    return idx % size if size else idx


class Sequential(Module):
    """Run modules one after another, each on the previous one's output.

    Built from modules (named ``"0"``, ``"1"`` ...) or from an ``OrderedDict`` of named modules.

    >>> seq = ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Linear(4, 2))
    >>> seq(ember.ones(3, 2, 2)).shape
    ember.Size([3, 2])
    >>> seq[-1]
    Linear(in_features=4, out_features=2, bias=True)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _get_item_by_idx(self, iterator, idx):
        idx = _abs_index(idx, len(self), "Sequential")
        return next(islice(iterator, idx, None))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return self._get_item_by_idx(self._modules.values(), idx)

    def __setitem__(self, idx, module):
        key = self._get_item_by_idx(self._modules.keys(), idx)
        setattr(self, key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                delattr(self, key)
        else:
            delattr(self, self._get_item_by_idx(self._modules.keys(), idx))
        # Renumber so the names stay "0", "1", ... as torch does.
        self._modules = dict(zip([str(i) for i in range(len(self._modules))], self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise op_error(ValueError, "Sequential", f"add operator supports only objects of Sequential class, but "
                           f"{type(other)} is given.")
        combined = Sequential()
        for layer in chain(self, other):
            combined.append(layer)
        return combined

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise op_error(ValueError, "Sequential", f"add operator supports only objects of Sequential class, but "
                           f"{type(other)} is given.")
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def _check_factor(self, other):
        if not isinstance(other, int):
            raise op_error(TypeError, "Sequential", f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise op_error(ValueError, "Sequential", f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other):
        self._check_factor(other)
        combined = Sequential()
        offset = 0
        for _ in range(other):
            for module in self:
                combined.add_module(str(offset), module)
                offset += 1
        return combined

    def __rmul__(self, other):
        return self.__mul__(other)

    def __imul__(self, other):
        self._check_factor(other)
        original = list(self._modules.values())
        offset = len(original)
        for _ in range(other - 1):
            for i, module in enumerate(original):
                self.add_module(str(i + offset), module)
            offset += len(original)
        return self

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice).

        >>> seq = ember.nn.Sequential(ember.nn.Identity(), ember.nn.Flatten()); seq.pop(0), len(seq)
        (Identity(), 1)
        """
        value = self[key]
        del self[key]
        return value

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def append(self, module):
        """Add ``module`` at the end; returns the Sequential.

        >>> len(ember.nn.Sequential().append(ember.nn.Identity()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (negative counts from the end).

        >>> ember.nn.Sequential(ember.nn.Identity()).insert(0, ember.nn.Flatten())[0]
        Flatten(start_dim=1, end_dim=-1)
        """
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise op_error(IndexError, "Sequential.insert", f"Index out of range: {index} (length {n})")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self, sequential):
        """Append every module of an iterable; returns the Sequential.

        >>> len(ember.nn.Sequential().extend([ember.nn.Identity(), ember.nn.Identity()]))
        2
        """
        for layer in sequential:
            self.append(layer)
        return self


class ModuleList(Module):
    """A list of submodules, registered so their parameters belong to the owner (indexable like a list).

    >>> layers = ember.nn.ModuleList([ember.nn.Linear(2, 2) for _ in range(2)])
    >>> len(list(layers.parameters())), layers[-1].in_features
    (4, 2)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def _get_abs_string_index(self, idx):
        return str(_abs_index(idx, len(self), "ModuleList"))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[self._get_abs_string_index(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._get_abs_string_index(idx), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, self._get_abs_string_index(idx))
        self._modules = dict(zip([str(i) for i in range(len(self._modules))], self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def __repr__(self):
        # Runs of identical children print once, e.g. "(0-11): 12 x Block(...)", as torch does.
        reprs = [repr(item) for item in self]
        if not reprs:
            return self._get_name() + "()"
        runs = [[0, 0, reprs[0]]]
        for i, text in enumerate(reprs[1:], 1):
            if text == runs[-1][2]:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for start, end, text in runs:
            line = f"({start}): {text}" if start == end else f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (list semantics).

        >>> ml = ember.nn.ModuleList([ember.nn.Identity()]); ml.insert(0, ember.nn.Flatten()); ml[0]
        Flatten(start_dim=1, end_dim=-1)
        """
        n = len(self._modules)
        index = operator.index(index)
        if index < 0:
            index = max(index + n, 0)
        index = min(index, n)
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self, module):
        """Add ``module`` at the end; returns the ModuleList.

        >>> len(ember.nn.ModuleList().append(ember.nn.Identity()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key):
        """Remove and return the module at ``key``.

        >>> ember.nn.ModuleList([ember.nn.Identity()]).pop(-1)
        Identity()
        """
        value = self[key]
        del self[key]
        return value

    def extend(self, modules):
        """Append every module of an iterable; returns the ModuleList.

        >>> len(ember.nn.ModuleList().extend([ember.nn.Identity()] * 2))
        2
        """
        if not isinstance(modules, container_abcs.Iterable):
            raise op_error(TypeError, "ModuleList.extend", "ModuleList.extend should be called with an iterable, "
                           f"but got {type(modules).__name__}")
        offset = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(offset + i), module)
        return self


class ModuleDict(Module):
    """A dict of submodules with string keys, kept in insertion order.

    >>> heads = ember.nn.ModuleDict({"a": ember.nn.Identity(), "b": ember.nn.Flatten()})
    >>> list(heads.keys()), "a" in heads
    (['a', 'b'], True)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module.

        >>> d = ember.nn.ModuleDict({"a": ember.nn.Identity()}); d.clear(); len(d)
        0
        """
        self._modules.clear()

    def pop(self, key):
        """Remove and return the module under ``key``.

        >>> ember.nn.ModuleDict({"a": ember.nn.Identity()}).pop("a")
        Identity()
        """
        value = self[key]
        del self[key]
        return value

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(key, module) pairs."""
        return self._modules.items()

    def values(self):
        """The modules."""
        return self._modules.values()

    def update(self, modules):
        """Add modules from a mapping (insertion order kept) or an iterable of (key, module) pairs.

        >>> d = ember.nn.ModuleDict(); d.update([("x", ember.nn.Identity())]); list(d)
        ['x']
        """
        if not isinstance(modules, container_abcs.Iterable):
            raise op_error(TypeError, "ModuleDict.update", "ModuleDict.update should be called with an iterable of "
                           f"key/value pairs, but got {type(modules).__name__}")
        if isinstance(modules, (OrderedDict, ModuleDict, container_abcs.Mapping)):
            for key, module in modules.items():
                self[key] = module
            return
        for j, pair in enumerate(modules):
            if not isinstance(pair, container_abcs.Iterable):
                raise op_error(TypeError, "ModuleDict.update", f"ModuleDict update sequence element #{j} should be "
                               f"Iterable; is {type(pair).__name__}")
            if len(pair) != 2:
                raise op_error(ValueError, "ModuleDict.update", f"ModuleDict update sequence element #{j} has length "
                               f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]


def _describe_entry(p, type_text):
    if isinstance(p, Tensor):
        size_text = "x".join(str(size) for size in p.shape)
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        return f"{kind} containing: [{type_text(p)} of size {size_text}]"
    return f"Object of type: {type(p).__name__}"


class ParameterList(Module):
    """A list of parameters (plain tensors are wrapped in ``Parameter``); other objects are kept as they are.

    >>> params = ember.nn.ParameterList([ember.zeros(2), ember.ones(3)])
    >>> [tuple(p.shape) for p in params], isinstance(params[0], ember.nn.Parameter)
    ([(2,), (3,)], True)
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _get_abs_string_index(self, idx):
        return str(_abs_index(idx, len(self), "ParameterList"))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, self._get_abs_string_index(idx))

    def __setitem__(self, idx, param):
        # Every path that adds an entry ends here, so this is the one place plain tensors become Parameters.
        idx = self._get_abs_string_index(idx)
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, idx, param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add ``value`` at the end; returns the ParameterList.

        >>> len(ember.nn.ParameterList().append(ember.zeros(1)))
        1
        """
        new_idx = len(self)
        self._size += 1
        self[new_idx] = value
        return self

    def extend(self, values):
        """Append every value of an iterable (not a tensor); returns the ParameterList.

        >>> len(ember.nn.ParameterList().extend([ember.zeros(1), ember.zeros(2)]))
        2
        """
        if not isinstance(values, container_abcs.Iterable) or isinstance(values, Tensor):
            raise op_error(TypeError, "ParameterList.extend", "ParameterList.extend should be called with an "
                           f"iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe_entry(p, lambda t: t.dtype)}" for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise op_error(RuntimeError, "ParameterList", "ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters with string keys (plain tensors are wrapped in ``Parameter``).

    A plain ``dict`` given to the constructor or ``update`` is added in sorted key order, as torch does;
    an ``OrderedDict`` or another ParameterDict keeps its order.

    >>> pd = ember.nn.ParameterDict({"b": ember.zeros(1), "a": ember.ones(2)})
    >>> list(pd), [n for n, _ in pd.named_parameters()]
    (['a', 'b'], ['a', 'b'])
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def _key_to_attr(self, key):
        if not isinstance(key, str):
            raise op_error(TypeError, "ParameterDict", "Index given to ParameterDict cannot be used as a key as it "
                           f"is not a string (type is '{type(key).__name__}').")
        return key

    def __getitem__(self, key):
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key, value):
        # Every path that adds an entry ends here, so this is the one place plain tensors become Parameters.
        self._keys[key] = None
        attr = self._key_to_attr(key)
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, attr, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def copy(self):
        """A new ParameterDict holding the same parameters.

        >>> pd = ember.nn.ParameterDict({"a": ember.zeros(1)}); pd.copy()["a"] is pd["a"]
        True
        """
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def __contains__(self, key):
        return key in self._keys

    def setdefault(self, key, default=None):
        """``self[key]``, first setting it to ``default`` if absent.

        >>> ember.nn.ParameterDict().setdefault("a", ember.zeros(1)).shape
        ember.Size([1])
        """
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        """Remove every entry."""
        for k in self._keys.copy():
            del self[k]

    def pop(self, key):
        """Remove and return the entry under ``key``.

        >>> ember.nn.ParameterDict({"a": ember.zeros(1)}).pop("a").shape
        ember.Size([1])
        """
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last inserted (key, value) pair.

        >>> ember.nn.ParameterDict({"a": ember.zeros(1)}).popitem()[0]
        'a'
        """
        key, _ = self._keys.popitem()
        self._keys[key] = None
        value = self[key]
        del self[key]
        return key, value

    def get(self, key, default=None):
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys`` all mapped to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """(key, value) pairs."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """The values."""
        return (self[k] for k in self._keys)

    def update(self, parameters):
        """Add entries from a mapping or an iterable of (key, value) pairs (plain dicts in sorted key order).

        >>> pd = ember.nn.ParameterDict(); pd.update([("w", ember.zeros(2))]); list(pd)
        ['w']
        """
        if not isinstance(parameters, container_abcs.Iterable):
            raise op_error(TypeError, "ParameterDict.update", "ParametersDict.update should be called with an "
                           f"iterable of key/value pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for key, parameter in parameters.items():
                self[key] = parameter
        elif isinstance(parameters, container_abcs.Mapping):
            for key, parameter in sorted(parameters.items()):
                self[key] = parameter
        else:
            for j, pair in enumerate(parameters):
                if not isinstance(pair, container_abcs.Iterable):
                    raise op_error(TypeError, "ParameterDict.update", f"ParameterDict update sequence element #{j} "
                                   f"should be Iterable; is {type(pair).__name__}")
                if len(pair) != 2:
                    raise op_error(ValueError, "ParameterDict.update", f"ParameterDict update sequence element #{j} "
                                   f"has length {len(pair)}; 2 is required")
                self[pair[0]] = pair[1]

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe_entry(p, lambda t: t.type())}" for k, p in self.items())

    def __call__(self, input):
        raise op_error(RuntimeError, "ParameterDict", "ParameterDict should not be called.")

    def __or__(self, other):
        combined = self.copy()
        combined.update(other)
        return combined

    def __ror__(self, other):
        combined = other.copy()
        combined.update(self)
        return combined

    def __ior__(self, other):
        self.update(other)
        return self
