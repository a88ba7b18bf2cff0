"""Named result tuples, as ``torch.return_types``: they index and unpack like tuples and name their fields.

>>> import ember
>>> result = ember.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
>>> result.values, result.indices
(tensor([5., 7.]), tensor([1, 0]))
>>> values, indices = result
>>> isinstance(result, tuple), result[1] is result.indices
(True, True)
"""

from __future__ import annotations

import collections

__all__ = ["structseq", "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
           "cummin", "aminmax", "frexp", "histogram", "geqrf", "slogdet", "qr", "svd", "lu_unpack", "triangular_solve",
           "linalg_svd", "linalg_slogdet", "linalg_qr", "linalg_eig", "linalg_eigh", "linalg_lu", "linalg_lu_factor",
           "linalg_lu_factor_ex", "linalg_lstsq", "linalg_inv_ex", "linalg_cholesky_ex", "linalg_solve_ex"]


def structseq(name: str, fields) -> type:
    """A tuple subclass called ``name`` with one read-only attribute per field, printed as PyTorch does.

    >>> Pair = ember.return_types.structseq("pair", ("first", "second"))
    >>> Pair((1, 2)).second
    2
    """
    base = collections.namedtuple(name, fields)

    def __new__(cls, values=None, *args, **kwargs):
        # Built like torch's structseq from one sequence, or like a namedtuple from the fields.
        if args or kwargs or values is None:
            return base.__new__(cls, *((values,) if values is not None else ()), *args, **kwargs)
        return base.__new__(cls, *values)

    def __repr__(self):
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"ember.return_types.{name}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))

    cls = type(name, (base,), {"__slots__": (), "__new__": __new__, "__repr__": __repr__, "__reduce__": __reduce__,
                               "_make": classmethod(lambda c, values: c(tuple(values)))})
    cls.__module__ = __name__
    cls.__qualname__ = name
    return cls


_SELECTED = ("values", "indices")

max = structseq("max", _SELECTED)
min = structseq("min", _SELECTED)
sort = structseq("sort", _SELECTED)
topk = structseq("topk", _SELECTED)
kthvalue = structseq("kthvalue", _SELECTED)
median = structseq("median", _SELECTED)
nanmedian = structseq("nanmedian", _SELECTED)
mode = structseq("mode", _SELECTED)
cummax = structseq("cummax", _SELECTED)
cummin = structseq("cummin", _SELECTED)
aminmax = structseq("aminmax", ("min", "max"))
frexp = structseq("frexp", ("mantissa", "exponent"))
histogram = structseq("histogram", ("hist", "bin_edges"))
geqrf = structseq("geqrf", ("a", "tau"))
slogdet = structseq("slogdet", ("sign", "logabsdet"))
qr = structseq("qr", ("Q", "R"))
svd = structseq("svd", ("U", "S", "V"))
lu_unpack = structseq("lu_unpack", ("P", "L", "U"))
triangular_solve = structseq("triangular_solve", ("solution", "cloned_coefficient"))
linalg_svd = structseq("linalg_svd", ("U", "S", "Vh"))
linalg_slogdet = structseq("linalg_slogdet", ("sign", "logabsdet"))
linalg_qr = structseq("linalg_qr", ("Q", "R"))
linalg_eig = structseq("linalg_eig", ("eigenvalues", "eigenvectors"))
linalg_eigh = structseq("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_lu = structseq("linalg_lu", ("P", "L", "U"))
linalg_lu_factor = structseq("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = structseq("linalg_lu_factor_ex", ("LU", "pivots", "info"))
linalg_lstsq = structseq("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_inv_ex = structseq("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex = structseq("linalg_cholesky_ex", ("L", "info"))
linalg_solve_ex = structseq("linalg_solve_ex", ("result", "info"))
