"""Checkpoints: ``ember.save`` and ``ember.load``, as ``torch.save`` and ``torch.load``.

``ember.save`` writes a safetensors file: any safetensors reader (``safetensors.numpy.load_file``, Hugging
Face tools) sees the tensors under their nesting path (``"model.fc.weight"``); the nesting (dict vs
OrderedDict, tuple vs list, int keys, numbers, strings) is kept in the header's metadata so ``ember.load``
returns exactly what was saved. Writes to a path are atomic: a crash mid-save leaves the previous file.

``ember.load`` reads those files, plain safetensors files (also sharded, through their
``*.safetensors.index.json``), and PyTorch's ``torch.save`` checkpoints, without torch and without running
code from the file: with ``weights_only=True`` (the default) only tensors and plain data are rebuilt and any
other pickled class or function is refused unless allowed with :func:`add_safe_globals`.

>>> import io
>>> buffer = io.BytesIO()
>>> ember.save({"weight": ember.ones(2, 2), "epoch": 3}, buffer)
>>> _ = buffer.seek(0)
>>> ember.load(buffer)
{'weight': tensor([[1., 1.],
        [1., 1.]]), 'epoch': 3}
"""

from __future__ import annotations

import io
import json
import os
import pickle
import secrets
import struct

import numpy as np

from ember.errors import op_error
from ember.serialization import safetensors_format
from ember.serialization.checkpoint_tree import FORMAT_VERSION, METADATA_KEY, decode, encode
from ember.serialization.restricted_pickle import (UnpicklingError, add_safe_globals, clear_safe_globals,
                                                   get_safe_globals, safe_globals)
from ember.serialization.safetensors_format import corrupt

__all__ = ["save", "load", "UnpicklingError", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

_TORCH_LEGACY_MAGIC = b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"  # LONG1 of torch's legacy-format magic number


# ----------------------------------------------------------------------------------------------- saving
def _is_path(f) -> bool:
    return isinstance(f, (str, bytes, os.PathLike))


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows, where directories can't be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomically(path: str, write) -> None:
    """Write a new file next to ``path`` and rename it over ``path`` only once it is complete and on disk."""
    path = os.path.realpath(path)  # write through a symlink, as open(path, "wb") would
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise op_error(RuntimeError, "ember.save", f"parent directory {directory} does not exist")
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` (a tensor, or dicts/lists/tuples of tensors and plain values) to a path or binary file.

    The file is a valid safetensors file. Tensors keep their dtype, shape and values (non-contiguous ones
    are written contiguously); ``requires_grad`` and Parameter-ness are kept. A tensor saved twice (tied
    weights) is written once and loads as one object; tensors over exactly the same memory load sharing
    memory, but a view of part of a bigger tensor is written as its own data and loads as an independent
    tensor (PyTorch would keep it a view of the shared storage). Other objects (a Module, a NumPy array,
    a custom class) are pickled with ``pickle_module`` into the file; loading them needs
    ``weights_only=False`` or :func:`add_safe_globals`. Saving to a path is atomic: the data goes to a
    temporary file in the same folder, is flushed and fsynced, then renamed over the target, so a crash
    mid-save leaves any previous checkpoint intact. A file object is written directly.
    ``_use_new_zipfile_serialization`` and ``_disable_byteorder_record`` are accepted for compatibility
    and ignored.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> model = ember.nn.Linear(2, 1)
    >>> ember.save({"model": model.state_dict(), "step": 10}, buffer)
    >>> _ = buffer.seek(0)
    >>> loaded = ember.load(buffer)
    >>> sorted(loaded["model"]), loaded["step"]
    (['bias', 'weight'], 10)
    """
    layout = encode(obj, pickle_module, pickle_protocol)
    description = {"version": FORMAT_VERSION, "tree": layout.tree, "tensors": layout.tensors,
                   "pickle": layout.pickle_name}
    metadata = {"format": "pt", METADATA_KEY: json.dumps(description, separators=(",", ":"))}

    def write(stream):
        safetensors_format.write(stream, layout.entries, metadata, write_bytes=_write_bytes)

    if _is_path(f):
        _write_atomically(os.fsdecode(f), write)
    elif hasattr(f, "write"):
        write(f)
    else:
        raise op_error(TypeError, "ember.save", f"f must be a path (str or os.PathLike) or a binary file object with write(), "
                        f"got {type(f).__name__}")


def _write_bytes(f, data) -> None:
    # Indirection so a test can slow the writer down and kill the process mid-save.
    safetensors_format.write_bytes(f, data)


# ----------------------------------------------------------------------------------------------- map_location
def _target_device(value, where: str):
    from ember.device import device
    try:
        target = device(value) if isinstance(value, (str, device)) else device(str(value))
    except (RuntimeError, TypeError) as error:
        raise op_error(RuntimeError, "ember.load", f"map_location {where}{value!r} is not a device: {error}") from None
    if target.type != "cpu":
        raise op_error(RuntimeError, "ember.load", f"map_location {where}{value!r} asks for device '{target}', but Ember has only "
                           f"the CPU; use map_location='cpu' (or None)")
    return target


class _LocationMapper:
    """Applies ``map_location`` to each storage: everything ends on the CPU, which is all Ember has.

    Storages saved from another device (e.g. ``cuda:0``) load onto the CPU when ``map_location`` is None.
    """

    def __init__(self, map_location):
        from ember.device import device
        self.map_location = map_location
        if map_location is None:
            self.kind = "none"
        elif isinstance(map_location, dict):
            self.kind = "dict"
            for source, target in map_location.items():
                _target_device(target, f"[{source!r}] = ")
        elif isinstance(map_location, (str, device)) or hasattr(map_location, "type") and not callable(map_location):
            self.kind = "device"
            _target_device(map_location, "")
        elif callable(map_location):
            self.kind = "callable"
        else:
            raise op_error(TypeError, "ember.load", f"map_location must be None, a device, a string, a dict or a callable, "
                            f"got {type(map_location).__name__}")

    def __call__(self, storage, location: str):
        if self.kind != "callable":
            return storage
        from ember.tensor import Tensor
        result = self.map_location(storage, location)
        if result is None:
            return storage
        if isinstance(result, Tensor):
            if result.dtype is not storage.dtype or result.shape != storage.shape:
                raise op_error(RuntimeError, "ember.load", f"map_location returned a tensor of {result.dtype} {list(result.shape)} "
                                   f"for a storage of {storage.dtype} {list(storage.shape)}")
            return result
        _target_device(result, "returned ")
        return storage


# ----------------------------------------------------------------------------------------------- loading
def _open_input(f, mmap: bool):
    """``(stream, size, source, path, close)`` for a path or a binary file object."""
    if _is_path(f):
        path = os.fsdecode(f)
        if os.path.isdir(path):
            raise op_error(IsADirectoryError, "ember.load", f"{path} is a directory, not a checkpoint file")
        stream = open(path, "rb")
        return stream, os.fstat(stream.fileno()).st_size, path, path, True
    if mmap:
        raise op_error(ValueError, "ember.load", "mmap=True needs f to be a file path, not a file object")
    if not hasattr(f, "read"):
        raise op_error(TypeError, "ember.load", f"f must be a path (str or os.PathLike) or a binary file object, got "
                        f"{type(f).__name__}")
    source = getattr(f, "name", None)
    source = f"file {source}" if isinstance(source, str) else f"<{type(f).__name__}>"
    if isinstance(f, io.TextIOBase):
        raise op_error(TypeError, "ember.load", f"{source} is opened in text mode; open it with 'rb'")
    seekable = getattr(f, "seekable", lambda: False)()
    if seekable:
        start = f.tell()
        size = f.seek(0, io.SEEK_END) - start
        f.seek(start)
        if start == 0:
            return f, size, source, None, False
        f = io.BytesIO(f.read())  # zip offsets are relative to the archive's start
        return f, size, source, None, False
    data = bytearray()
    while chunk := f.read(1 << 24):
        if isinstance(chunk, str):
            raise op_error(TypeError, "ember.load", f"{source} is opened in text mode; open it with 'rb'")
        data += chunk
    return io.BytesIO(data), len(data), source, None, False


def _sharded_index(path: str, stream, source: str, mmap_requested, load_one):
    try:
        index = json.loads(stream.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise corrupt(source, f"this JSON file is not a valid shard index ({error})") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise corrupt(source, "a shard index (model.safetensors.index.json) needs a 'weight_map' of names to files")
    if path is None:
        raise op_error(ValueError, "ember.load", f"{source} is a shard index; pass its path so the shards can be found")
    directory = os.path.dirname(os.path.abspath(path))
    result = {}
    for shard in dict.fromkeys(weight_map.values()):
        if os.path.isabs(shard) or ".." in shard.replace("\\", "/").split("/"):
            raise corrupt(source, f"shard {shard!r} must be a file name inside the index's folder")
        loaded = load_one(os.path.join(directory, shard), mmap_requested)
        if not isinstance(loaded, dict):
            raise corrupt(source, f"shard {shard} holds a {type(loaded).__name__}, not a dict of tensors")
        result.update(loaded)
    missing = [name for name in weight_map if name not in result]
    if missing:
        raise corrupt(source, f"tensors {missing[:5]} listed in the index are missing from their shards")
    return {name: result[name] for name in weight_map} | {k: v for k, v in result.items() if k not in weight_map}


def _load_safetensors(stream, size, source, path, mapper, weights_only, mmap, pickle_module, encoding):
    entries, metadata, data_start = safetensors_format.read_header(stream, size, source)
    mapped = np.memmap(path, dtype=np.uint8, mode="c") if mmap and size else None
    arrays = safetensors_format.read_arrays(stream, entries, data_start, source, mapped)
    description = (metadata or {}).get(METADATA_KEY)
    if description is None:
        from ember.tensor import from_array
        return {name: mapper(from_array(array), "cpu") for name, array in arrays.items()}
    try:
        description = json.loads(description)
    except (ValueError, RecursionError) as error:
        raise corrupt(source, f"the ember.checkpoint metadata is not valid JSON ({error})") from None
    if not isinstance(description, dict) or description.get("version") != FORMAT_VERSION:
        version = description.get("version") if isinstance(description, dict) else None
        raise corrupt(source, f"the checkpoint has ember format version {version!r}; this Ember reads version "
                              f"{FORMAT_VERSION} (was it written by a newer Ember?)")
    return decode(description, arrays, source, mapper, weights_only, pickle_module, encoding)


def _load_one(f, mapper, weights_only, mmap, pickle_module, encoding):
    stream, size, source, path, close = _open_input(f, mmap)
    try:
        start = stream.tell()
        head = stream.read(16)
        stream.seek(start)
        if head[:4] == b"PK\x03\x04":
            from ember.serialization.torch_zip import load_torch_zip
            mapped = np.memmap(path, dtype=np.uint8, mode="c") if mmap else None
            return load_torch_zip(stream, source, mapper, weights_only, mapped, encoding)
        if head[:1] == b"\x80" and _TORCH_LEGACY_MAGIC in head:
            raise corrupt(source, "this is a PyTorch checkpoint in the legacy (pre-1.6, non-zip) format, which Ember "
                                  "does not read; re-save it in PyTorch with torch.save(torch.load(path), path) "
                                  "(the default zip format)")
        # A safetensors file has "{" at byte 8; its first 8 bytes are a length that fits in the file, while
        # the first 8 bytes of JSON text read as a length far beyond any file's size.
        looks_safetensors = len(head) >= 9 and head[8:9] == b"{"
        if looks_safetensors and struct.unpack("<Q", head[:8])[0] <= size - 8:
            return _load_safetensors(stream, size, source, path, mapper, weights_only, mmap, pickle_module, encoding)
        if head.lstrip()[:1] == b"{":
            return _sharded_index(path, stream, source, mmap,
                                  lambda shard, mm: _load_one(shard, mapper, weights_only, mm, pickle_module, encoding))
        if looks_safetensors:
            return _load_safetensors(stream, size, source, path, mapper, weights_only, mmap, pickle_module, encoding)
        if not head:
            raise corrupt(source, "the file is empty")
        raise corrupt(source, f"not a checkpoint Ember can read (starts with {head[:16]!r}): expected a safetensors "
                              f"file (ember.save), a torch.save zip archive, or a *.safetensors.index.json")
    finally:
        if close:
            stream.close()


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what :func:`save` (or ``torch.save``, or a safetensors writer) wrote, as ``torch.load``.

    ``f``: a path or a binary file object; a ``*.safetensors.index.json`` path loads and merges its shards.
    PyTorch checkpoints (``.pt``/``.pth``/``.bin`` written by ``torch.save``) load without torch: tensors
    sharing a storage in the file share memory, Parameters stay Parameters, dtypes and devices map to
    Ember's. ``weights_only`` (None means True, as in torch >= 2.6, unless ``pickle_module`` is given):
    only tensors and plain data are rebuilt; other pickled globals raise :class:`UnpicklingError` naming
    them, unless allowed with :func:`add_safe_globals` / :func:`safe_globals`. ``weights_only=False``
    unpickles anything (only for files you trust: a pickle can run code). ``map_location``: None, "cpu",
    a device, a dict or a callable ``(storage, location)``; storages saved on another device load onto
    the CPU (Ember has only the CPU, so asking for "cuda" is an error). ``mmap=True`` (needs a path) maps
    the file copy-on-write instead of reading it: tensors are loaded from disk on first touch.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> ember.save([ember.tensor([1, 2]), (3.5, None)], buffer)
    >>> _ = buffer.seek(0)
    >>> ember.load(buffer, map_location="cpu")
    [tensor([1, 2]), (3.5, None)]
    """
    encoding = pickle_load_args.pop("encoding", "ASCII")
    if pickle_load_args:
        raise op_error(TypeError, "ember.load", f"unexpected keyword arguments {sorted(pickle_load_args)} (only encoding= is "
                        f"passed to the unpickler)")
    if weights_only is None:
        weights_only = pickle_module is None
    elif weights_only and pickle_module is not None:
        raise op_error(RuntimeError, "ember.load", "can not safely load weights when an explicit pickle_module is specified; "
                           "pass weights_only=False to use it")
    mapper = _LocationMapper(map_location)
    return _load_one(f, mapper, bool(weights_only), bool(mmap), pickle_module, encoding)
