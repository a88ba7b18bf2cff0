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

__all__ = [  # noqa: F822 (the types are made on first use by __getattr__)
    "structseq", "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
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

# Each type is built on first use (31 namedtuples cost milliseconds at ``import ember``).
_FIELDS = {
    "max": _SELECTED,
    "min": _SELECTED,
    "sort": _SELECTED,
    "topk": _SELECTED,
    "kthvalue": _SELECTED,
    "median": _SELECTED,
    "nanmedian": _SELECTED,
    "mode": _SELECTED,
    "cummax": _SELECTED,
    "cummin": _SELECTED,
    "aminmax": ("min", "max"),
    "frexp": ("mantissa", "exponent"),
    "histogram": ("hist", "bin_edges"),
    "geqrf": ("a", "tau"),
    "slogdet": ("sign", "logabsdet"),
    "qr": ("Q", "R"),
    "svd": ("U", "S", "V"),
    "lu_unpack": ("P", "L", "U"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "linalg_svd": ("U", "S", "Vh"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_qr": ("Q", "R"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lu": ("P", "L", "U"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_solve_ex": ("result", "info"),
}


def __getattr__(name):
    fields = _FIELDS.get(name)
    if fields is None:
        raise AttributeError(f"module 'ember.return_types' has no attribute {name!r}")
    made = globals()[name] = structseq(name, fields)
    return made


def __dir__():
    return sorted(set(globals()) | set(_FIELDS))
