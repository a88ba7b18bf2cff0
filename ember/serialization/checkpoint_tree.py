"""How ``ember.save`` lays a nested object out as a safetensors file, and how ``ember.load`` rebuilds it.

Every tensor becomes a safetensors entry named by its path in the nesting (``"model.fc.weight"``). The
nesting itself is a JSON tree stored in the header's ``__metadata__["ember.checkpoint"]``; JSON numbers,
strings, booleans and null stand for themselves, and tagged arrays for everything else:

- ``["t", i]``: tensor object ``i`` of the ``tensors`` table, whose rows are ``[entry name, requires_grad,
  "tensor" | "parameter"]``. The same object saved twice is one row (tied weights come back as one object);
  two objects over exactly the same memory (``w`` and ``w.detach()``) are two rows naming one entry and
  come back sharing memory. Other views of a bigger tensor are written as their own contiguous data.
- ``["dict", [[key, value], ...]]``, ``["odict", [[key, value], ...], attributes]``, ``["list", [...]]``,
  ``["tuple", [...]]``: containers (keys may be any node: an optimizer state's int keys stay ints).
- ``["ref", n]``: the n-th container met so far (pre-order), so shared containers stay shared.
- ``["float", "nan" | "inf" | "-inf"]``: floats JSON can't spell.
- ``["pickle", i]``: item ``i`` of a list pickled into the ``U8`` entry named by ``"pickle"``, for every other
  object (a Module, a NumPy array, a set, a custom class), with the tensors inside it as persistent ids
  ``("ember.tensor", i)`` into the same table.

>>> from ember.serialization.checkpoint_tree import encode
>>> layout = encode({"step": 3, "w": ember.ones(2)}, __import__("pickle"), 2)
>>> layout.tree, layout.tensors, [name for name, _ in layout.entries]
(['dict', [['step', 3], ['w', ['t', 0]]]], [['w', False, 'tensor']], ['w'])
"""

from __future__ import annotations

import collections
import io
import math
import pickle
from typing import NamedTuple

import numpy as np

from ember.serialization.restricted_pickle import RestrictedUnpickler, UnpicklingError

__all__ = ["encode", "decode", "Layout", "METADATA_KEY", "FORMAT_VERSION"]

METADATA_KEY = "ember.checkpoint"
FORMAT_VERSION = 1
PICKLE_ENTRY = "__ember_pickle__"
RESERVED_NAMES = ("__metadata__",)

_CONTAINER_TAGS = ("dict", "odict", "list", "tuple")


class Layout(NamedTuple):
    """What ``ember.save`` writes: the tree, the tensor table, and the ``(name, ndarray)`` entries.

    >>> encode([1, 2]).tree
    ['list', [1, 2]]
    """

    tree: object
    tensors: list
    entries: list
    pickle_name: str | None


def _key_text(key) -> str:
    if isinstance(key, (str, int, float)):
        return str(key)
    return type(key).__name__


class _Encoder:
    def __init__(self, pickle_module, pickle_protocol):
        from ember.tensor import Tensor
        self.tensor_class = Tensor
        self.plain_tensor_types = {Tensor}
        self.pickle_module = pickle_module
        self.pickle_protocol = pickle_protocol
        self.tensor_rows = []
        self.tensor_index = {}
        self.entry_by_memory = {}
        self.entries = []
        self.used_names = set(RESERVED_NAMES)
        self.container_index = {}
        self.container_count = 0
        self.open_tuples = set()
        self.opaque = []
        self.opaque_index = {}
        self.keep_alive = []
        self.parameter_class = None

    def unique_name(self, path) -> str:
        name = ".".join(path) or "tensor"
        candidate, n = name, 1
        while candidate in self.used_names:
            candidate = f"{name}.{n}"
            n += 1
        self.used_names.add(candidate)
        return candidate

    def tensor_kind(self, tensor):
        cls = type(tensor)
        if cls is self.tensor_class:
            return "tensor"
        if self.parameter_class is None:
            from ember.nn import parameter
            self.parameter_class = parameter
        if cls is self.parameter_class.Parameter:
            return "parameter"
        if cls is self.parameter_class.Buffer:
            return "tensor"
        return None

    def tensor(self, tensor, path) -> int:
        index = self.tensor_index.get(id(tensor))
        if index is not None:
            return index
        array = tensor._data
        memory_key = None
        if array.size:
            memory_key = (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype)
        name = self.entry_by_memory.get(memory_key) if memory_key else None
        if name is None:
            name = self.unique_name(path)
            self.entries.append((name, array))
            if memory_key:
                self.entry_by_memory[memory_key] = name
        index = len(self.tensor_rows)
        self.tensor_rows.append([name, bool(tensor.requires_grad), self.tensor_kind(tensor)])
        self.tensor_index[id(tensor)] = index
        self.keep_alive.append(tensor)
        return index

    def node(self, obj, path):
        cls = obj.__class__
        if obj is None or cls is bool or cls is int or cls is str:
            return obj
        if cls is float:
            return obj if math.isfinite(obj) else ["float", repr(obj)]
        if isinstance(obj, self.tensor_class) and self.tensor_kind(obj) is not None:
            return ["t", self.tensor(obj, path)]
        if cls in (dict, collections.OrderedDict, list, tuple):
            return self.container(obj, cls, path)
        index = self.opaque_index.get(id(obj))
        if index is None:
            index = len(self.opaque)
            self.opaque.append(obj)
            self.opaque_index[id(obj)] = index
        return ["pickle", index]

    def container(self, obj, cls, path):
        index = self.container_index.get(id(obj))
        if index is not None:
            if id(obj) in self.open_tuples:
                raise ValueError("ember.save: can't save a tuple that contains itself (through a list or dict)")
            return ["ref", index]
        self.container_index[id(obj)] = self.container_count
        self.container_count += 1
        if cls is tuple or cls is list:
            if cls is tuple:
                self.open_tuples.add(id(obj))
            items = [self.node(item, path + [str(i)]) for i, item in enumerate(obj)]
            self.open_tuples.discard(id(obj))
            return ["tuple" if cls is tuple else "list", items]
        items = [[self.node(key, path + [_key_text(key)]), self.node(value, path + [_key_text(key)])]
                 for key, value in obj.items()]
        if cls is dict:
            return ["dict", items]
        attributes = self.node(dict(obj.__dict__), path + ["__dict__"]) if obj.__dict__ else None
        return ["odict", items, attributes]

    def pickle_opaque(self):
        if not self.opaque:
            return None
        encoder = self
        tensor_class = self.tensor_class

        class Pickler(self.pickle_module.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, tensor_class) and encoder.tensor_kind(obj) is not None:
                    return ("ember.tensor", encoder.tensor(obj, ["pickled", str(len(encoder.tensor_rows))]))
                return None

        buffer = io.BytesIO()
        Pickler(buffer, protocol=self.pickle_protocol).dump(self.opaque)
        name = self.unique_name([PICKLE_ENTRY])
        self.entries.append((name, np.frombuffer(buffer.getbuffer(), np.uint8)))
        return name


def encode(obj, pickle_module=pickle, pickle_protocol=2) -> Layout:
    """Lay ``obj`` out for a safetensors file (see the module docstring).

    >>> encode((ember.zeros(1), float("nan"))).tree
    ['tuple', [['t', 0], ['float', 'nan']]]
    """
    encoder = _Encoder(pickle_module, pickle_protocol)
    tree = encoder.node(obj, [])
    pickle_name = encoder.pickle_opaque()
    return Layout(tree, encoder.tensor_rows, encoder.entries, pickle_name)


def _ember_globals() -> dict:
    from ember import dtypes
    from ember.device import device
    from ember.size import Size
    return {"ember.size.Size": Size, "ember.dtypes._dtype_by_name": dtypes._dtype_by_name, "ember.device.device": device}


class _Decoder:
    def __init__(self, arrays, tensor_rows, source, location_mapper):
        self.arrays = arrays
        self.tensor_rows = tensor_rows
        self.source = source
        self.location_mapper = location_mapper
        self.tensors = {}
        self.mapped_arrays = {}
        self.containers = []
        self.opaque = None

    def bad(self, message):
        from ember.serialization.safetensors_format import corrupt
        return corrupt(self.source, f"the ember.checkpoint metadata is corrupt: {message}")

    def storage(self, name):
        array = self.mapped_arrays.get(name)
        if array is None:
            if name not in self.arrays:
                raise self.bad(f"it names tensor {name!r}, which the file does not hold")
            from ember.tensor import from_array
            array = self.location_mapper(from_array(self.arrays[name]), "cpu")._data
            self.mapped_arrays[name] = array
            return array
        return array.view()

    def tensor(self, index):
        if type(index) is not int or not 0 <= index < len(self.tensor_rows):
            raise self.bad(f"tensor index {index!r:.50} is out of range")
        tensor = self.tensors.get(index)
        if tensor is not None:
            return tensor
        row = self.tensor_rows[index]
        if not isinstance(row, list) or len(row) != 3 or not isinstance(row[0], str) \
                or row[2] not in ("tensor", "parameter"):
            raise self.bad(f"tensor row {row!r:.100} is malformed")
        from ember.tensor import from_array
        name, requires_grad, kind = row
        tensor = from_array(self.storage(name))
        requires_grad = bool(requires_grad) and tensor.dtype.is_floating_point
        if kind == "parameter":
            from ember.nn.parameter import Parameter
            tensor = Parameter(tensor, requires_grad)
        elif requires_grad:
            tensor.requires_grad_(True)
        self.tensors[index] = tensor
        return tensor

    def node(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise self.bad(f"unexpected node {node!r:.100}")
        tag = node[0]
        if tag == "t" and len(node) == 2:
            return self.tensor(node[1])
        if tag in _CONTAINER_TAGS and len(node) in (2, 3) and isinstance(node[1], list):
            return self.container(tag, node)
        if tag == "ref" and len(node) == 2 and type(node[1]) is int and 0 <= node[1] < len(self.containers):
            found = self.containers[node[1]]
            if found is _OPEN_TUPLE:
                raise self.bad("a tuple refers to itself")
            return found
        if tag == "float" and len(node) == 2 and node[1] in ("nan", "inf", "-inf"):
            return float(node[1])
        if tag == "pickle" and len(node) == 2 and type(node[1]) is int and self.opaque is not None \
                and 0 <= node[1] < len(self.opaque):
            return self.opaque[node[1]]
        raise self.bad(f"unexpected node {node!r:.100}")

    def container(self, tag, node):
        index = len(self.containers)
        items = node[1]
        if tag == "tuple":
            self.containers.append(_OPEN_TUPLE)
            result = tuple(self.node(item) for item in items)
            self.containers[index] = result
            return result
        if tag == "list":
            result = []
            self.containers.append(result)
            result.extend(self.node(item) for item in items)
            return result
        result = {} if tag == "dict" else collections.OrderedDict()
        self.containers.append(result)
        for pair in items:
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.bad(f"a dict item must be a [key, value] pair, got {pair!r:.100}")
            key = self.node(pair[0])
            try:
                result[key] = self.node(pair[1])
            except TypeError:
                raise self.bad(f"dict key {key!r:.100} is not hashable") from None
        if tag == "odict" and len(node) == 3 and node[2] is not None:
            attributes = self.node(node[2])
            if not isinstance(attributes, dict) or not all(isinstance(k, str) and not k.startswith("__")
                                                           for k in attributes):
                raise self.bad("an OrderedDict's attributes must be a dict of names")
            result.__dict__.update(attributes)
        return result

    def unpickle(self, data, weights_only, pickle_module, encoding):
        def persistent_load(pid):
            if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "ember.tensor"):
                raise UnpicklingError(f"{self.source}: unexpected persistent id {pid!r:.100}")
            return self.tensor(pid[1])

        stream = io.BytesIO(data)
        if weights_only:
            unpickler = RestrictedUnpickler(stream, _ember_globals(), source=self.source, persistent_load=persistent_load,
                                            encoding=encoding)
        else:
            unpickler = (pickle_module or pickle).Unpickler(stream, encoding=encoding)
            unpickler.persistent_load = persistent_load
        try:
            opaque = unpickler.load()
        except UnpicklingError:
            raise
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError, IndexError, KeyError, RecursionError) as error:
            raise UnpicklingError(f"ember.load: {self.source}: the pickled objects in the checkpoint are corrupt: "
                                  f"{type(error).__name__}: {error}") from error
        if not isinstance(opaque, list):
            raise self.bad("the pickled objects must be a list")
        self.opaque = opaque


_OPEN_TUPLE = object()


def decode(description: dict, arrays: dict, source: str, location_mapper, weights_only=True, pickle_module=None,
           encoding="ASCII"):
    """Rebuild the saved object from the parsed ``ember.checkpoint`` metadata and the arrays by name.

    >>> layout = encode([ember.ones(1), 2])
    >>> decode({"tree": layout.tree, "tensors": layout.tensors}, dict(layout.entries), "<bytes>", lambda t, loc: t)
    [tensor([1.]), 2]
    """
    decoder = _Decoder(arrays, description.get("tensors"), source, location_mapper)
    if not isinstance(decoder.tensor_rows, list) or "tree" not in description:
        raise decoder.bad("it needs a 'tree' and a 'tensors' list")
    pickle_name = description.get("pickle")
    if pickle_name is not None:
        if pickle_name not in arrays or arrays[pickle_name].dtype != np.uint8:
            raise decoder.bad(f"the pickle entry {pickle_name!r:.100} is missing")
        decoder.unpickle(arrays[pickle_name].tobytes(), weights_only, pickle_module, encoding)
    try:
        return decoder.node(description["tree"])
    except RecursionError:
        raise decoder.bad("the tree is nested too deeply") from None
