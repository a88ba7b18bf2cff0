"""The safetensors file format: an 8-byte little-endian header length, a JSON header, then the tensor bytes.

The header maps each tensor's name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the
byte buffer after the header) and may hold ``"__metadata__": {str: str}``. Reading checks every claim of the
header against the file's size before allocating anything, so a corrupt or hostile file gives a clear error.

>>> import io
>>> from ember.serialization import safetensors_format
>>> buffer = io.BytesIO()
>>> safetensors_format.write(buffer, [("w", np.arange(3, dtype=np.float32))], {"format": "pt"})
>>> _ = buffer.seek(0)
>>> entries, metadata, _ = safetensors_format.read_header(buffer, len(buffer.getvalue()), "<bytes>")
>>> entries[0].name, entries[0].dtype, entries[0].shape, metadata
('w', 'F32', (3,), {'format': 'pt'})
"""

from __future__ import annotations

import json
import math
import struct
import sys
from typing import NamedTuple

import ml_dtypes
import numpy as np

from ember.errors import op_error

__all__ = ["write", "read_header", "read_arrays", "Entry", "DTYPE_TO_NUMPY", "NUMPY_TO_DTYPE"]

DTYPE_TO_NUMPY = {
    "F64": np.dtype(np.float64), "F32": np.dtype(np.float32), "F16": np.dtype(np.float16),
    "BF16": np.dtype(ml_dtypes.bfloat16), "I64": np.dtype(np.int64), "I32": np.dtype(np.int32),
    "I16": np.dtype(np.int16), "I8": np.dtype(np.int8), "U8": np.dtype(np.uint8), "BOOL": np.dtype(np.bool_),
}
NUMPY_TO_DTYPE = {numpy_dtype: name for name, numpy_dtype in DTYPE_TO_NUMPY.items()}

# The safetensors library refuses headers above 100 MB; so do we, before reading one.
MAX_HEADER_BYTES = 100_000_000
WRITE_CHUNK_BYTES = 1 << 24


class Entry(NamedTuple):
    """One tensor of a safetensors header: name, dtype code, shape and byte range in the data buffer.

    >>> Entry("w", "F32", (2,), 0, 8).end
    8
    """

    name: str
    dtype: str
    shape: tuple
    begin: int
    end: int


def corrupt(source: str, message: str, exc_type=RuntimeError) -> Exception:
    """The error for a checkpoint that is not what it claims: names the file and what is wrong.

    >>> str(corrupt("a.pt", "the file is empty")).splitlines()[0]
    'ember.load: a.pt: the file is empty'
    """
    return op_error(exc_type, "ember.load", f"{source}: {message}")


def read_exact(f, count: int, source: str, what: str) -> bytes:
    data = f.read(count)
    if len(data) != count:
        raise corrupt(source, f"the file ends inside the {what} ({len(data)} of {count} bytes): it is truncated")
    return data


def readinto_exact(f, buffer: np.ndarray, source: str, what: str) -> None:
    """Fill the uint8 array ``buffer`` from ``f``."""
    view = memoryview(buffer)
    filled = 0
    while filled < len(view):
        count = f.readinto(view[filled:])
        if not count:
            raise corrupt(source, f"the file ends inside {what} ({filled} of {len(view)} bytes): it is truncated")
        filled += count


def write_bytes(f, data: np.ndarray) -> None:
    """Write a uint8 array in chunks (a checkpoint's tensors can be larger than one ``write`` should take)."""
    view = memoryview(data)
    for start in range(0, len(view), WRITE_CHUNK_BYTES):
        f.write(view[start:start + WRITE_CHUNK_BYTES])


def as_bytes(array: np.ndarray) -> np.ndarray:
    """The array's elements as C-ordered little-endian bytes (a copy only if it is not contiguous)."""
    array = np.ascontiguousarray(array)
    if sys.byteorder != "little" and array.itemsize > 1:
        array = array.byteswap()
    return array.reshape(-1).view(np.uint8)


def write(f, arrays, metadata: dict | None, write_bytes=write_bytes) -> None:
    """Write ``arrays`` (a list of ``(name, ndarray)``) and ``metadata`` as a safetensors file to ``f``.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write(buffer, [("x", np.zeros(2, np.int8))], None)
    >>> buffer.getvalue()[8:61]
    b'{"x":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}'
    """
    header = {}
    offset = 0
    for name, array in arrays:
        if array.dtype not in NUMPY_TO_DTYPE:
            raise TypeError(f"ember.save: tensor {name!r} has dtype {array.dtype}, which safetensors can't store")
        nbytes = array.size * array.itemsize
        header[name] = {"dtype": NUMPY_TO_DTYPE[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keeps the buffer 8-byte aligned, as the safetensors library does
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for _, array in arrays:
        write_bytes(f, as_bytes(array))


def _pairs_without_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _is_count(value) -> bool:
    return type(value) is int and value >= 0


def read_header(f, size: int, source: str):
    """Read and check a header from ``f`` (at the file's start; ``size`` bytes long).

    Returns ``(entries, metadata, data_start)``; ``entries`` in header order, ``data_start`` the byte
    position of the buffer. Offsets must tile the buffer exactly (no gaps, overlaps, or bytes past it).

    >>> import io
    >>> try:
    ...     read_header(io.BytesIO(bytes([255] * 8) + b"{}"), 10, "bad.safetensors")
    ... except RuntimeError as error:
    ...     print(str(error).splitlines()[0][:79])
    ember.load: bad.safetensors: the safetensors header claims 18446744073709551615
    """
    if size < 8:
        raise corrupt(source, f"the file is {size} bytes long, too short for a safetensors file "
                              f"(which starts with an 8-byte header length)")
    header_length = struct.unpack("<Q", read_exact(f, 8, source, "header length"))[0]
    if header_length > size - 8:
        raise corrupt(source, f"the safetensors header claims {header_length} bytes but only {size - 8} bytes follow "
                              f"the length field: the file is truncated or not a safetensors file")
    if header_length > MAX_HEADER_BYTES:
        raise corrupt(source, f"the safetensors header claims {header_length} bytes, more than the "
                              f"{MAX_HEADER_BYTES}-byte limit")
    text = read_exact(f, header_length, source, "safetensors header")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_pairs_without_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise corrupt(source, f"the safetensors header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise corrupt(source, f"the safetensors header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(v, str) for v in metadata.values())):
        raise corrupt(source, "the safetensors header's __metadata__ must map strings to strings")
    buffer_size = size - 8 - header_length
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise corrupt(source, f"tensor {name!r}: a header entry needs exactly 'dtype', 'shape' and "
                                  f"'data_offsets', got {info!r:.200}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPE_TO_NUMPY:
            raise corrupt(source, f"tensor {name!r} has dtype {dtype!r}, which Ember does not support "
                                  f"(supported: {', '.join(DTYPE_TO_NUMPY)})")
        if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
            raise corrupt(source, f"tensor {name!r}: shape must be a list of non-negative integers, got {shape!r:.200}")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets) \
                or offsets[0] > offsets[1]:
            raise corrupt(source, f"tensor {name!r}: data_offsets must be [begin, end] with 0 <= begin <= end, "
                                  f"got {offsets!r:.200}")
        needed = math.prod(shape) * DTYPE_TO_NUMPY[dtype].itemsize
        if offsets[1] - offsets[0] != needed:
            raise corrupt(source, f"tensor {name!r}: data_offsets {offsets} span {offsets[1] - offsets[0]} bytes but "
                                  f"dtype {dtype} and shape {shape} need {needed} bytes")
        if offsets[1] > buffer_size:
            raise corrupt(source, f"tensor {name!r}: data_offsets {offsets} reach past the end of the data "
                                  f"({buffer_size} bytes): the file is truncated or the header is wrong")
        entries.append(Entry(name, dtype, tuple(shape), offsets[0], offsets[1]))
    expected, previous = 0, None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if entry.begin < expected:
            raise corrupt(source, f"tensors {previous.name!r} {[previous.begin, previous.end]} and {entry.name!r} "
                                  f"{[entry.begin, entry.end]} overlap in the safetensors data")
        if entry.begin > expected:
            raise corrupt(source, f"bytes {expected}..{entry.begin} of the safetensors data belong to no tensor "
                                  f"(before {entry.name!r}): the header is wrong")
        expected, previous = entry.end, entry
    if expected != buffer_size:
        raise corrupt(source, f"the safetensors header describes {expected} bytes of data but the file holds "
                              f"{buffer_size}: the file is truncated, has trailing bytes, or the header is wrong")
    return entries, metadata, 8 + header_length


def fix_bool_bytes(array: np.ndarray) -> np.ndarray:
    """NumPy bools must be 0 or 1; a file may hold other bytes (PyTorch reads any non-zero byte as True)."""
    if array.dtype == np.bool_ and array.size:
        raw = array.reshape(-1).view(np.uint8)
        if raw.max() > 1:
            np.not_equal(raw, 0, out=array.reshape(-1))
    return array


def read_arrays(f, entries, data_start: int, source: str, mapped=None) -> dict:
    """The arrays of ``entries`` by name: read from ``f`` (positioned at ``data_start``) or views of ``mapped``.

    ``mapped`` is a copy-on-write ``np.memmap`` of the whole file (``mmap=True``).

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write(buffer, [("x", np.arange(3, dtype=np.int16))], None)
    >>> _ = buffer.seek(0)
    >>> entries, _, start = read_header(buffer, len(buffer.getvalue()), "<bytes>")
    >>> read_arrays(buffer, entries, start, "<bytes>")
    {'x': array([0, 1, 2], dtype=int16)}
    """
    arrays = {}
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        numpy_dtype = DTYPE_TO_NUMPY[entry.dtype]
        if mapped is not None and entry.end > entry.begin:
            array = np.ndarray(entry.shape, numpy_dtype, buffer=mapped, offset=data_start + entry.begin)
        else:
            raw = np.empty(entry.end - entry.begin, np.uint8)
            if mapped is None:
                readinto_exact(f, raw, source, f"tensor {entry.name!r}")
            array = raw.view(numpy_dtype).reshape(entry.shape)
        if sys.byteorder != "little" and array.itemsize > 1:
            array = array.byteswap()
        arrays[entry.name] = fix_bool_bytes(array)
    return {entry.name: arrays[entry.name] for entry in entries}
