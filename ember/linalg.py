"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace.

The functions live in their op families (``ember/ops/decompositions.py``; the norms in ``ember/ops/reduce.py``);
this module gathers them under the names ``torch.linalg`` uses.

>>> import ember
>>> A = ember.tensor([[4.0, 2.0], [2.0, 3.0]])
>>> ember.linalg.det(A)
tensor(8.)
>>> ember.linalg.solve(A, ember.tensor([6.0, 5.0]))
tensor([1., 1.])
>>> ember.linalg.norm(ember.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

from ember.ops import decompositions as _family
from ember.ops import reduce as _reduce
from ember.ops import registry as _registry

LinAlgError = _family.LinAlgError
matmul = _family.matmul
inv = _family.inv
inv_ex = _family.inv_ex
solve = _family.solve
solve_triangular = _family.solve_triangular
det = _family.det
slogdet = _family.linalg_slogdet
cholesky = _family.linalg_cholesky
cholesky_ex = _family.cholesky_ex
qr = _family.linalg_qr
svd = _family.linalg_svd
svdvals = _family.svdvals
eigh = _family.eigh
eigvalsh = _family.eigvalsh
pinv = _family.pinv
matrix_rank = _family.matrix_rank
matrix_power = _family.matrix_power
lstsq = _family.lstsq
vecdot = _family.vecdot
cross = _family.linalg_cross
multi_dot = _family.multi_dot
solve_ex = _family.solve_ex
cond = _family.cond
diagonal = _family.diagonal

__all__ = ["LinAlgError", "matmul", "inv", "inv_ex", "solve", "solve_triangular", "det", "slogdet", "cholesky",
           "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_rank", "matrix_power", "lstsq",
           "vecdot", "cross", "multi_dot", "norm", "solve_ex", "cond", "diagonal"]

# The norms are written with the other reductions; take whichever of them that family provides.
globals().update(getattr(_reduce, "LINALG", {}))
__all__ += [name for name in getattr(_reduce, "LINALG", {}) if name not in __all__]
# ... and every function an op definition places in the linalg namespace ("linalg.inv" in its names)
globals().update(_registry.NAMESPACES["linalg"])
__all__ += [name for name in _registry.NAMESPACES["linalg"] if name not in __all__]


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """Vector or matrix norm, chosen as ``torch.linalg.norm`` does: with ``dim`` an int (or ``A`` 1-D) a vector
    norm, with ``dim`` a pair (or ``A`` 2-D and ``ord`` given) a matrix norm, and with neither ``ord`` nor ``dim``
    the 2-norm of all elements.

    >>> ember.linalg.norm(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    from ember.errors import op_error
    vector_norm, matrix_norm = globals().get("vector_norm"), globals().get("matrix_norm")
    if vector_norm is None or matrix_norm is None:
        raise op_error(NotImplementedError, "linalg.norm", "the vector and matrix norms are not available")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
        raise op_error(RuntimeError, "linalg.norm", f"If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    ndim = A.dim()
    if ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    if ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    raise op_error(RuntimeError, "linalg.norm", f"If dim is not specified but ord is, the input must be 1D or 2D. Got "
                   f"{ndim}D.")


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
