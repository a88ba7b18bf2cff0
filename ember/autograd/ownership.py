"""Whether a gradient is referenced by nothing but its caller, so that it may become ``.grad`` uncopied.

PyTorch's rule: a leaf's first gradient becomes its ``.grad`` without a copy when nothing else can see it
(and is copied otherwise, so that ``.grad`` never shares memory with another tensor: a later in-place
clip or ``zero_`` would write through to it). CPython's reference counts tell.

>>> import ember
>>> def adopt(g):                  # as AccumulateGrad.accumulate receives a gradient
...     return sole_owner(g)
>>> kept = ember.ones(2)
>>> adopt(ember.ones(2)), adopt(kept), adopt(ember.ones(2).expand(3, 2))
(True, False, False)
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["sole_owner"]


def _references_of_argument(value):
    return sys.getrefcount(value)


# What sys.getrefcount reports inside a function for an argument nothing else refers to (the parameter and
# getrefcount's own argument): measured, since it depends on the interpreter's calling convention.
_SOLE_ARGUMENT_REFERENCES = _references_of_argument([].__class__())


def sole_owner(g) -> bool:
    """Whether gradient ``g`` (an argument of the caller) and its array are referenced by nothing else.

    ``run_backward`` hands a leaf's gradient over without keeping it; any other holder (another edge the same
    tensor was sent along, a hook that kept it, a saved tensor, a view of its array) shows up as an extra
    reference, and then the gradient is copied instead. The array must be a dense C-ordered buffer it owns
    (or a view of all of a buffer that nothing else holds): see the module's example.
    """
    if sys.getrefcount(g) > _SOLE_ARGUMENT_REFERENCES + 1 or g._requires_grad:
        return False
    data = g._data
    # References to the array: g's slot, the local `data`, getrefcount's argument (read before `data.flags`,
    # which refers to the array too).
    if sys.getrefcount(data) > 3:
        return False
    base = data.base
    if base is not None:
        # A reshaped fresh result: fine when this view is all of its base and the only thing holding it
        # (references: the view, the local `base`, getrefcount's argument).
        if base.__class__ is not np.ndarray or sys.getrefcount(base) > 3 or base.base is not None \
                or base.nbytes != data.nbytes or not base.flags.owndata:
            return False
    flags = data.flags
    return flags.writeable and flags.c_contiguous and (base is not None or flags.owndata)
