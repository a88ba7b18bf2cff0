"""Reading PyTorch checkpoints (``torch.save``'s zip format) without torch and without running their code.

A ``torch.save`` file is a zip archive: ``<prefix>/data.pkl`` is a pickle whose tensors refer (through
persistent ids) to storages stored as raw bytes in ``<prefix>/data/<key>``; ``<prefix>/byteorder`` says
"little" or "big". The pickle is read by an allow-list unpickler in which torch's globals
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ``torch.Size``, ``torch.float16`` ...) name
Ember's equivalents; any other global is refused. Tensors that share a storage in the file share memory
after loading (each is a NumPy view of its storage array), as in PyTorch.

>>> import io, zipfile
>>> from ember.serialization import torch_zip
>>> torch_zip.is_torch_zip(io.BytesIO(b"PK\\x03\\x04..."))
True
"""

from __future__ import annotations

import io
import math
import pickle
import struct
import zipfile

import numpy as np

from ember import dtypes as _dtypes
from ember.serialization.restricted_pickle import RestrictedUnpickler, UnpicklingError
from ember.serialization.safetensors_format import corrupt, fix_bool_bytes, readinto_exact

__all__ = ["is_torch_zip", "load_torch_zip", "TORCH_GLOBALS"]

_TORCH_DTYPE_NAMES = {"float64": _dtypes.float64, "float32": _dtypes.float32, "float16": _dtypes.float16,
                      "bfloat16": _dtypes.bfloat16, "int64": _dtypes.int64, "int32": _dtypes.int32,
                      "int16": _dtypes.int16, "int8": _dtypes.int8, "uint8": _dtypes.uint8, "bool": _dtypes.bool}
_STORAGE_DTYPES = {"Double": "float64", "Float": "float32", "Half": "float16", "BFloat16": "bfloat16",
                   "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8", "Bool": "bool"}
_UNSUPPORTED_STORAGES = ("ComplexDouble", "ComplexFloat", "QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4")
_UNSUPPORTED_DTYPES = ("complex32", "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn",
                       "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
                       "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4",
                       "bits4x2", "cfloat", "cdouble", "chalf") + tuple(f"int{i}" for i in range(1, 8)) \
    + tuple(f"uint{i}" for i in range(1, 8))


class StorageType:
    """Stands for a torch storage class (``torch.FloatStorage`` ...) named in a checkpoint's pickle.

    >>> TORCH_GLOBALS["torch.HalfStorage"].dtype
    ember.float16
    """

    __slots__ = ("torch_name", "dtype")

    def __init__(self, torch_name, dtype):
        self.torch_name = torch_name
        self.dtype = dtype

    def __repr__(self):
        return f"<storage type {self.torch_name}>"


class UnsupportedDtype:
    """Stands for a torch dtype Ember lacks (``torch.complex64`` ...); using it raises a clear error.

    >>> str(UnsupportedDtype("torch.uint16").error())[:47]
    'the checkpoint uses dtype torch.uint16, which E'
    """

    __slots__ = ("torch_name",)

    def __init__(self, torch_name):
        self.torch_name = torch_name

    def error(self) -> UnpicklingError:
        return UnpicklingError(f"the checkpoint uses dtype {self.torch_name}, which Ember does not support "
                               f"(supported: {', '.join('torch.' + n for n in _TORCH_DTYPE_NAMES)})")

    def __repr__(self):
        return self.torch_name


def _check_state_names(obj, state):
    for name in state:
        if not isinstance(name, str) or name.startswith("__") or hasattr(type(obj), name) or name in (
                "_data", "_dtype", "_base", "_version", "_view_of", "_hooks"):
            raise UnpicklingError(f"refusing to set attribute {name!r} of a tensor from the checkpoint's state")


def _set_state(obj, state):
    """Set a tensor's Python attributes from the pickled state (``torch._utils._set_obj_state``)."""
    if not state:
        return obj
    dict_state, slots_state = state if isinstance(state, tuple) else (state, None)
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict):
                raise UnpicklingError(f"a tensor's pickled state must be a dict, got {type(part).__name__}")
            _check_state_names(obj, part)
            for name, value in part.items():
                setattr(obj, name, value)
    return obj


def _as_ints(values, what):
    if not isinstance(values, (tuple, list)) or not all(type(v) is int and v >= 0 for v in values):
        raise UnpicklingError(f"a tensor's {what} must be a tuple of non-negative ints, got {values!r:.200}")
    return tuple(values)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None, dtype=None):
    from ember.tensor import Tensor, from_array
    if not isinstance(storage, Tensor) or storage._data.ndim != 1:
        raise UnpicklingError(f"a tensor must be rebuilt from a storage, got {type(storage).__name__}")
    size, stride = _as_ints(size, "size"), _as_ints(stride, "stride")
    if len(size) != len(stride) or type(storage_offset) is not int or storage_offset < 0:
        raise UnpicklingError(f"bad tensor layout: size {size}, stride {stride}, offset {storage_offset!r}")
    base = storage._data
    if dtype is not None:  # _rebuild_tensor_v3: an untyped (byte) storage read as ``dtype``
        if base.nbytes % dtype.itemsize:
            raise UnpicklingError(f"a storage of {base.nbytes} bytes can't hold whole {dtype} elements")
        base = fix_bool_bytes(base.view(np.uint8).view(dtype.numpy_dtype))
    if math.prod(size) == 0:
        array = np.empty(size, base.dtype)
    else:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= base.size:
            raise UnpicklingError(f"a tensor of size {list(size)}, stride {list(stride)} at offset {storage_offset} "
                                  f"reaches element {last} of a storage of {base.size} elements")
        # A view whose base is the storage array (so storage_offset() and memory sharing work as in torch).
        itemsize = base.itemsize
        array = np.ndarray(size, base.dtype, buffer=base, offset=storage_offset * itemsize,
                           strides=tuple(s * itemsize for s in stride))
    tensor = from_array(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    if isinstance(dtype, UnsupportedDtype):
        raise dtype.error()
    if not isinstance(dtype, _dtypes.dtype):
        raise UnpicklingError(f"_rebuild_tensor_v3 expects a dtype, got {dtype!r:.100}")
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata, dtype)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _parameter_class():
    from ember.nn.parameter import Parameter
    return Parameter


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    from ember.tensor import Tensor
    if not isinstance(data, Tensor):
        raise UnpicklingError(f"a Parameter must be rebuilt from a tensor, got {type(data).__name__}")
    return _parameter_class()(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


_REBUILD_FUNCTIONS = (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_tensor, _rebuild_parameter,
                      _rebuild_parameter_with_state)


class _TensorType:
    """Stands for ``torch.Tensor`` / ``torch.nn.Parameter`` as the ``new_type`` of ``_rebuild_from_type_v2``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise UnpicklingError(f"ember.load can't construct {self.name} directly from a checkpoint")


_TENSOR_TYPE = _TensorType("torch.Tensor")
_PARAMETER_TYPE = _TensorType("torch.nn.parameter.Parameter")


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILD_FUNCTIONS or new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE):
        raise UnpicklingError(f"_rebuild_from_type_v2 may only rebuild tensors or Parameters, got {func!r:.100}, "
                              f"{new_type!r:.100}")
    result = func(*args)
    parameter = _parameter_class()
    if new_type is _PARAMETER_TYPE and not isinstance(result, parameter):
        result = parameter(result, result.requires_grad)
    return _set_state(result, state)


def _torch_device(*args):
    from ember.device import device
    return device(*args)


def _torch_size(sizes=()):
    from ember.size import Size
    return Size(sizes)


def _build_torch_globals() -> dict:
    table = {
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.Tensor": _TENSOR_TYPE, "torch._tensor.Tensor": _TENSOR_TYPE,
        "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
        "torch.device": _torch_device,
        "torch.Size": _torch_size,
        "torch.storage.UntypedStorage": StorageType("torch.UntypedStorage", _dtypes.uint8),
        "torch.UntypedStorage": StorageType("torch.UntypedStorage", _dtypes.uint8),
        "torch.storage.TypedStorage": StorageType("torch.TypedStorage", None),
        "torch.TypedStorage": StorageType("torch.TypedStorage", None),
    }
    for prefix, name in _STORAGE_DTYPES.items():
        table[f"torch.{prefix}Storage"] = StorageType(f"torch.{prefix}Storage", _TORCH_DTYPE_NAMES[name])
    for prefix in _UNSUPPORTED_STORAGES:
        table[f"torch.{prefix}Storage"] = StorageType(f"torch.{prefix}Storage", None)
    for name, dtype in _TORCH_DTYPE_NAMES.items():
        table[f"torch.{name}"] = dtype
    for name in _UNSUPPORTED_DTYPES:
        table[f"torch.{name}"] = UnsupportedDtype(f"torch.{name}")
    return table


TORCH_GLOBALS = _build_torch_globals()


def is_torch_zip(f) -> bool:
    """Whether the stream starts like a zip archive (it is left where it was).

    >>> is_torch_zip(io.BytesIO(b"{}"))
    False
    """
    position = f.tell()
    magic = f.read(4)
    f.seek(position)
    return magic == b"PK\x03\x04"


def _refuse_torch_global(source):
    def refuse(full_name):
        if full_name.startswith("torch._utils._rebuild_"):
            return UnpicklingError(
                f"ember.load refuses to load global '{full_name}' from {source}: Ember can't rebuild this kind of "
                f"tensor (sparse, quantized, meta, nested and other special tensors are not supported); in PyTorch, "
                f"convert them to dense CPU tensors (.to_dense(), .dequantize(), .cpu()) before torch.save.")
        return UnpicklingError(
            f"ember.load refuses to load global '{full_name}' from {source}: Ember reads the tensors, Parameters, "
            f"storages, dtypes, devices and sizes of PyTorch checkpoints, not other torch objects such as a whole "
            f"nn.Module. In PyTorch, save model.state_dict() (or optimizer.state_dict()) instead.")
    return refuse


def _find_pickle(archive, source):
    names = archive.namelist()
    if any(n.endswith("/constants.pkl") or "/code/__torch__/" in n for n in names):
        raise corrupt(source, "this is a TorchScript archive (torch.jit.save), which Ember can't run; save the "
                              "model's state_dict() with torch.save and load that")
    candidates = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1
                  and n.rsplit("/", 1)[-1] == "data.pkl"]
    if not candidates:
        raise corrupt(source, "this zip archive has no data.pkl record, so it is not a torch.save checkpoint "
                              f"(records: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''})")
    first_prefix = names[0].split("/", 1)[0] + "/" if "/" in names[0] else ""
    preferred = [n for n in candidates if n == first_prefix + "data.pkl"]
    name = (preferred or candidates)[0]
    return name, name[:-len("data.pkl")]


def _record_offset(file, info: zipfile.ZipInfo) -> int:
    """Byte position of a stored record's data in the archive (after its local header)."""
    file.seek(info.header_offset)
    local = file.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for record {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_length + extra_length


def _check_record_size(info: zipfile.ZipInfo, archive_size: int, source: str) -> None:
    """Refuse records whose claimed size can't be true, before allocating memory for them."""
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size or info.header_offset + info.file_size > archive_size:
            raise corrupt(source, f"record {info.filename} claims {info.file_size} bytes, more than the archive holds")
    elif info.file_size > 1100 * max(info.compress_size, 1):  # deflate can't compress by more than ~1032x
        raise corrupt(source, f"record {info.filename} claims an impossible compression ratio")


def load_torch_zip(file, source: str, location_mapper, weights_only: bool, mapped=None, encoding="ASCII"):
    """Load the object saved by ``torch.save`` in the zip archive ``file`` (a seekable binary stream).

    ``mapped``: a copy-on-write ``np.memmap`` of the whole file, for ``mmap=True`` (the stored records
    are then views of it).

    >>> import io, pickle, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("archive/data.pkl", pickle.dumps({"epoch": 3}, protocol=2))
    >>> load_torch_zip(buffer, "<bytes>", lambda storage, location: storage, weights_only=True)
    {'epoch': 3}
    """
    from ember.tensor import from_array
    archive_size = file.seek(0, io.SEEK_END)
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
        pickle_name, prefix = _find_pickle(archive, source)
        _check_record_size(archive.getinfo(pickle_name), archive_size, source)
        data_pickle = archive.read(pickle_name)
        byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace") \
            if prefix + "byteorder" in archive.NameToInfo else "little"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as error:
        raise corrupt(source, f"not a readable zip archive (a torch.save checkpoint): {error}") from None
    if byteorder not in ("little", "big"):
        raise corrupt(source, f"the byteorder record says {byteorder!r:.40}, expected 'little' or 'big'")
    storages = {}

    def read_storage(key, dtype, numel):
        info = archive.NameToInfo.get(f"{prefix}data/{key}")
        if info is None:
            raise corrupt(source, f"the pickle refers to storage {key!r} but the archive has no record "
                                  f"{prefix}data/{key}")
        nbytes = numel * dtype.itemsize
        if info.file_size != nbytes:
            raise corrupt(source, f"record {info.filename} holds {info.file_size} bytes but the pickle describes a "
                                  f"storage of {numel} {dtype} elements ({nbytes} bytes)")
        _check_record_size(info, archive_size, source)
        try:
            if mapped is not None and info.compress_type == zipfile.ZIP_STORED and nbytes:
                start = _record_offset(file, info)
                if start + nbytes > mapped.size:
                    raise zipfile.BadZipFile(f"record {info.filename} reaches past the end of the file")
                raw = np.ndarray((nbytes,), np.uint8, buffer=mapped, offset=start)
            else:
                raw = np.empty(nbytes, np.uint8)
                with archive.open(info) as stream:
                    readinto_exact(stream, raw, source, f"record {info.filename}")
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise corrupt(source, f"record {info.filename} can't be read: {error}") from None
        array = raw.view(dtype.numpy_dtype)
        if byteorder == "big" and dtype.itemsize > 1:
            array = array.byteswap()
        return fix_bool_bytes(array)

    def persistent_load(pid):
        if not isinstance(pid, tuple) or len(pid) != 5:
            raise UnpicklingError(f"unexpected persistent id {pid!r:.200} (only storages are allowed)")
        typename, storage_type, key, location, numel = pid
        if isinstance(typename, bytes):
            typename = typename.decode("ascii", "replace")
        if typename != "storage":
            raise UnpicklingError(f"only persistent_load of storages is allowed, got {typename!r:.100}")
        if not isinstance(storage_type, StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or type(numel) is not int or numel < 0:
            raise UnpicklingError(f"malformed storage id {pid!r:.200}")
        dtype = storage_type.dtype
        if dtype is None:
            raise UnpicklingError(f"storage type {storage_type.torch_name} is not supported by Ember")
        if key in storages:
            storage = storages[key]
            if storage.dtype is not dtype:
                raise UnpicklingError(f"storage {key!r} is used with two dtypes ({storage.dtype}, {dtype})")
            return storage
        storage = location_mapper(from_array(read_storage(key, dtype, numel)), location)
        storages[key] = storage
        return storage

    unpickler = RestrictedUnpickler(io.BytesIO(data_pickle), TORCH_GLOBALS, source=source, weights_only=weights_only,
                                    persistent_load=persistent_load, refused_prefixes=("torch.",),
                                    refuse=_refuse_torch_global(source), encoding=encoding)
    try:
        return unpickler.load()
    except UnpicklingError as error:
        if source in str(error):
            raise
        raise UnpicklingError(f"ember.load: {source}: {error}") from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError, KeyError,
            RecursionError, struct.error) as error:
        raise UnpicklingError(f"ember.load: {source}: the checkpoint's pickle ({pickle_name}) is corrupt or was not "
                              f"written by torch.save: {type(error).__name__}: {error}") from error
