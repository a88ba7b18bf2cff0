"""Row scatter-add in C (scatter_rows.c): ``out[indices[i]] += rows[i]``, the backward of an embedding lookup.

NumPy has no fast form of it: ``np.add.at`` handles one row per index, and sorting the indices to sum equal
rows with ``np.add.reduceat`` still walks the rows along the slow axis (3.8 ms for 2048 rows of 256 floats,
the GPT and LSTM benchmarks' token embedding; 0.2 ms with this loop). The loop adds each row into its target
in index order: a sequential sum, the bits ``np.add.at`` gives (the sorted NumPy path, which eager mode takes
without the kernel, sums in another order, within float32 rounding of it).

Eager mode and ``ember.compile`` use it when the ``compile`` extra is installed (``EMBER_FUSED_INDEX=0`` or
``EMBER_FUSED_KERNELS=0`` opt out); :func:`index_add_rows` returns ``None`` when it does not apply (not float32
rows, not C-contiguous).

>>> import numpy as np
>>> out = index_add_rows(np.array([1, 0, 1]), np.ones((3, 2), np.float32), 2)
>>> out is None or out.tolist() == [[1.0, 1.0], [2.0, 2.0]]
True
"""

from __future__ import annotations

import numpy as np

from ember import flags
from ember.kernels.loader import EagerLibrary, pointer

__all__ = ["index_add_rows"]

_EAGER = EagerLibrary("scatter_rows", flags.FUSED_INDEX)
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path
_F32 = np.dtype(np.float32)


def index_add_rows(indices, rows, num_rows):
    """A new (num_rows, width) float32 array of the summed ``rows`` (valid int64 ``indices``), or None."""
    if rows.dtype != _F32 or rows.ndim != 2 or not rows.flags.c_contiguous or not _EAGER.enabled():
        return None
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    if indices.size != rows.shape[0] or (indices.size and (indices.min() < 0 or indices.max() >= num_rows)):
        return None  # the C loop writes where the indices say: only valid ones reach it
    out = np.zeros((num_rows, rows.shape[1]), _F32)
    _STATE["lib"].ember_index_add_rows(pointer(indices, "int64_t[]"), pointer(rows), pointer(out), indices.size,
                                       rows.shape[1])
    return out
