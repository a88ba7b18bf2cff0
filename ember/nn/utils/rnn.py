"""Variable-length sequences for recurrent layers (``torch.nn.utils.rnn``): padding and packing.

A :class:`PackedSequence` holds the steps of a batch of sequences sorted by decreasing length, step after
step: ``data`` has the rows of time step 0 (one per sequence), then those of step 1 (one per sequence
still running), and so on; ``batch_sizes[t]`` says how many rows step ``t`` has. Recurrent layers take it
directly and skip the padding.

>>> import ember
>>> from ember.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> packed = pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5]), ember.tensor([6])])
>>> packed
PackedSequence(data=tensor([1, 4, 6, 2, 5, 3]), batch_sizes=tensor([3, 2, 1]), sorted_indices=None, unsorted_indices=None)
>>> pad_packed_sequence(packed, batch_first=True)
(tensor([[1, 2, 3],
        [4, 5, 0],
        [6, 0, 0]]), tensor([3, 2, 1]))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ember.errors import op_error
from ember.ops import recurrent as _ops
from ember.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _int64(values) -> Tensor:
    import ember
    return ember.tensor(np.asarray(values, dtype=np.int64))


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences: ``(data, batch_sizes, sorted_indices, unsorted_indices)``.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand. ``sorted_indices`` maps
    the packed (length-sorted) order to the caller's batch order; ``unsorted_indices`` is its inverse.

    >>> p = PackedSequence(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([2, 1]))
    >>> p.batch_sizes, p.to(ember.float64).data.dtype
    (tensor([2, 1]), ember.float64)
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """Convert ``data`` like ``Tensor.to``; returns ``self`` when nothing changes (``batch_sizes`` stays int64).

        >>> p = PackedSequence(ember.tensor([1.0, 2.0]), ember.tensor([1, 1]))
        >>> p.to(ember.float32) is p
        True
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs) -> "PackedSequence":
        return self.to(*args, **kwargs)

    def cuda(self, *args, **kwargs) -> "PackedSequence":
        return self.to("cuda", *args, **kwargs)

    def pin_memory(self) -> "PackedSequence":
        return self

    def double(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.float64)

    def float(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.float32)

    def half(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.float16)

    def long(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.int64)

    def int(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.int32)

    def short(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.int16)

    def char(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.int8)

    def byte(self) -> "PackedSequence":
        import ember
        return self.to(dtype=ember.uint8)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (None stays None).

    >>> invert_permutation(ember.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    order = permutation._data.astype(np.int64, copy=False)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=np.int64)
    return _int64(inverse)


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        array = lengths._data
        if array.ndim != 1:
            raise op_error(RuntimeError, "pack_padded_sequence", f"'lengths' argument should be a 1D CPU int64 tensor, "
                           f"but got {array.ndim}D tensor")
        return array.astype(np.int64)
    array = np.asarray(lengths)
    if array.ndim != 1:
        raise op_error(RuntimeError, "pack_padded_sequence", f"'lengths' argument should be a 1D list of ints, but got "
                       f"shape {list(array.shape)}")
    return array.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
                         ) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (or ``(B, T, *)`` with ``batch_first``) given each sequence's length.

    With ``enforce_sorted=True`` the lengths must be decreasing; otherwise the batch is sorted here and
    the permutation recorded in ``sorted_indices``.

    >>> x = ember.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    >>> packed = pack_padded_sequence(x, [2, 1, 3], batch_first=True, enforce_sorted=False)
    >>> packed.data, packed.batch_sizes
    (tensor([4, 1, 3, 5, 2, 6]), tensor([3, 2, 1]))
    >>> packed.sorted_indices, packed.unsorted_indices
    (tensor([2, 0, 1]), tensor([1, 2, 0]))
    """
    name = "pack_padded_sequence"
    lengths = _lengths_array(lengths)
    if input.dim() < 2:
        raise op_error(RuntimeError, name, f"expected a padded input of at least 2 dims (T, B, *), got shape "
                       f"{list(input.shape)}")
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _int64(order)
        input = input.index_select(batch_dim, sorted_indices)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lengths.size != batch:
        raise op_error(RuntimeError, name, f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                       f"(batch_size={batch})")
    if batch and lengths.min() <= 0:
        raise op_error(RuntimeError, name, "Length of all samples has to be greater than 0, but found an element in "
                       "'lengths' that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise op_error(RuntimeError, name, "`lengths` array must be sorted in decreasing order when `enforce_sorted` "
                       "is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                       "sidestep this requirement if you do not need ONNX exportability.")
    if batch and lengths[0] > steps:
        raise op_error(RuntimeError, name, f"the longest length {int(lengths[0])} exceeds the {steps} time steps of the "
                       f"padded input of shape {list(input.shape)}")
    longest = int(lengths[0]) if batch else 0
    batch_sizes = (lengths[None, :] > np.arange(longest)[:, None]).sum(1)
    rows = _ops.packed_row_indices(batch_sizes, batch, batch_first, steps)
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _int64(rows))
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` in the original batch order.

    ``total_length`` pads the time dim to that many steps (at least the longest sequence).

    >>> packed = pack_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0])])
    >>> pad_packed_sequence(packed, total_length=3, padding_value=-1)
    (tensor([[ 1.,  3.],
            [ 2., -1.],
            [-1., -1.]]), tensor([2, 1]))
    """
    import ember
    batch_sizes = sequence.batch_sizes._data.astype(np.int64, copy=False)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise op_error(ValueError, "pad_packed_sequence", "Expected total_length to be at least the length of the "
                           f"longest sequence in input, but got total_length={total_length} and max sequence length "
                           f"being {steps}")
        steps = total_length
    data = sequence.data
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    count = data.shape[0]
    rows = _ops.packed_row_indices(batch_sizes, batch, batch_first, steps)
    gather = np.full(steps * batch, count, dtype=np.int64)
    gather[rows] = np.arange(count)
    trailing = tuple(data.shape[1:])
    filler = ember.full((1,) + trailing, padding_value, dtype=data.dtype)
    padded = ember.cat([data, filler], 0).index_select(0, _int64(gather))
    padded = padded.reshape(((batch, steps) if batch_first else (steps, batch)) + trailing)
    lengths = (batch_sizes[:, None] > np.arange(batch)[None, :]).sum(0)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted._data]
    return padded, _int64(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
                 ) -> Tensor:
    """Stack sequences ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``), padding to the longest.

    >>> pad_sequence([ember.tensor([1, 2]), ember.tensor([3, 4, 5])], batch_first=True, padding_side="left")
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    name = "pad_sequence"
    if not isinstance(sequences, Iterable):
        raise op_error(RuntimeError, name, f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                       f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise op_error(RuntimeError, name, "received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise op_error(RuntimeError, name, f"Expected padding_side to be one of left or right, but got {padding_side}.")
    trailing = None
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise op_error(TypeError, name, f"expected a sequence of Tensors, but element {i} is {type(s).__name__}")
        if s.dim() == 0:
            raise op_error(RuntimeError, name, f"sequence {i} is a 0-d tensor; each sequence needs a length dim (L, *)")
        if trailing is None:
            trailing = tuple(s.shape[1:])
        elif tuple(s.shape[1:]) != trailing:
            raise op_error(RuntimeError, name, f"all sequences must have the same trailing dims: sequence 0 has shape "
                           f"{list(sequences[0].shape)} but sequence {i} has {list(s.shape)}")
    return _ops.pad_sequence_op(sequences, batch_first, padding_value, padding_side)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (a list of ``(L_i, *)`` tensors).

    >>> padded = pad_sequence([ember.ones(3), ember.ones(2)])
    >>> [s.shape for s in unpad_sequence(padded, ember.tensor([3, 2]))]
    [ember.Size([3]), ember.Size([2])]
    """
    batch_dim = 0 if batch_first else 1
    sizes = lengths._data.tolist() if isinstance(lengths, Tensor) else list(lengths)
    if len(sizes) != padded_sequences.shape[batch_dim]:
        raise op_error(ValueError, "unpad_sequence", f"got {len(sizes)} lengths for a batch of "
                       f"{padded_sequences.shape[batch_dim]} sequences (padded shape {list(padded_sequences.shape)})")
    return [padded_sequences.select(batch_dim, b)[:int(length)].clone() for b, length in enumerate(sizes)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (decreasing lengths unless ``enforce_sorted=False``).

    >>> pack_sequence([ember.tensor([1, 2]), ember.tensor([3, 4, 5])], enforce_sorted=False).data
    tensor([3, 1, 4, 2, 5])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences in a :class:`PackedSequence`, in the original order.

    >>> unpack_sequence(pack_sequence([ember.tensor([1, 2]), ember.tensor([3])]))
    [tensor([1, 2]), tensor([3])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
