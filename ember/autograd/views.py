"""Views and in-place writes in the graph (PyTorch's rules).

A view (``x[1:3]``, ``x.t()``, ``x.view(4)`` ...) shares its base's memory and version counter, and keeps a
:class:`ViewRecord` of how it was taken (made by :func:`link_view`, which the dispatcher calls for every op
declared ``view = True``). With that record:

- :func:`check_inplace_allowed` refuses the in-place writes whose gradient would be wrong or ambiguous;
- :func:`rebase_history`, after a write into a view, gives the base a ``CopySlices`` node: the base's old
  gradient everywhere but in the view, the written value's gradient in it;
- :meth:`ViewRecord.refresh` rebuilds a view's grad_fn from its base when the shared memory was written
  since that grad_fn was recorded (the engine's ``edge_of`` calls it).

>>> import ember
>>> x = ember.ones(4, requires_grad=True)
>>> y = x * 1
>>> _ = y[1:3].mul_(5)
>>> y.grad_fn
<CopySlicesBackward0 object at ...>
>>> y.sum().backward(); x.grad
tensor([1., 5., 5., 1.])
"""

from __future__ import annotations

import numpy as np

from ember.autograd.engine import Node, _camel, edge_of
from ember.autograd.grad_mode import STATE
from ember.errors import op_error

__all__ = ["ViewRecord", "link_view", "check_inplace_allowed", "rebase_history"]

# Bound once: link_view runs for every view op, and these lookups are a measurable part of it. Both operands of
# may_share_memory are ndarrays, so its __array_function__ dispatch (a third of its cost) can be skipped.
_may_share_memory = getattr(np.may_share_memory, "_implementation", np.may_share_memory)
_new_object = object.__new__


class ViewRecord:
    """How a view was taken: ``op(source, *operands, **attrs)``, then ``[output_index]`` when the op
    returns several views (``unbind``, ``split`` ...; None otherwise).

    ``version`` is the shared memory's version when the view's grad_fn was last recorded;
    ``created_with_grad`` whether grad mode was on when the view was taken. :func:`link_view` makes it.

    >>> x = ember.zeros(2, 3)
    >>> record = x[1]._view_of
    >>> record.source is x, record.op, record.version, record.created_with_grad
    (True, <op getitem (index)>, 0, True)
    """

    # source_array: the source's array when the view was taken; an in-place view op on the source (t_,
    # squeeze_ ...) gives it another, and replay then goes back to this one's layout first
    __slots__ = ("source", "op", "operands", "attrs", "output_index", "version", "created_with_grad", "source_array")

    def __repr__(self):
        return f"<ViewRecord {self.op.name} of a {list(self.source._data.shape)} tensor at version {self.version}>"

    def refresh(self, view):
        """Rebuild ``view``'s grad_fn from its base after the shared memory was modified in place.

        PyTorch regenerates a view's history lazily when its version counter moved since the history was
        recorded; without this, a view taken before ``base.mul_(2)`` would backpropagate through the old
        values.

        >>> base = ember.ones(3, requires_grad=True) * 1
        >>> view = base[:2]; recorded = view.grad_fn
        >>> _ = base.mul_(2)
        >>> view._view_of.refresh(view); view.grad_fn is recorded, view.grad_fn.next_functions[0][0] is base.grad_fn
        (False, True)
        """
        self.version = view._version.value
        base = view._base
        if base is None or not base._requires_grad or not self.created_with_grad:
            return
        previous = STATE.enabled
        STATE.enabled = True
        try:
            fresh = replay(base, view_chain(view))
        finally:
            STATE.enabled = previous
        view.grad_fn = fresh.grad_fn
        view._output_nr = fresh._output_nr
        view._requires_grad = fresh._requires_grad


def link_view(result, source, op, args, attrs, output_index):
    """Share ``source``'s version counter with ``result`` and record how it was taken, when ``result`` is
    a view of ``source``'s memory (``args``: the op's operands, ``source`` first).

    >>> x = ember.zeros(3); y = ember.ones(3)
    >>> link_view(y, x, None, (x,), None, None); y._view_of, y._base is None
    (None, True)
    """
    data = result._data
    if data.size:
        if not _may_share_memory(data, source._data):
            return
    elif data.base is None:
        return
    version = result._version = source._version
    base = source._base
    result._base = source if base is None else base
    # Filled here rather than by an __init__: calling the class would cost twice the rest of this function.
    record = result._view_of = _new_object(ViewRecord)
    record.source = source
    record.source_array = source._data
    record.op = op
    record.operands = args[1:]
    record.attrs = attrs
    record.output_index = output_index
    record.version = version.value
    record.created_with_grad = STATE.enabled


def view_chain(t):
    """The ``(op, operands, attrs, output_index, layout)`` steps that take ``t`` from its base, base first;
    ``layout`` is None, or the ``(shape, strides, offset)`` in elements of the step's source when the view was
    taken, if an in-place view op (``t_``, ``squeeze_`` ...) has changed it since.

    >>> x = ember.zeros(2, 3)
    >>> [step[0].name for step in view_chain(x[1][:2])]
    ['getitem', 'getitem']
    """
    chain = []
    record = t._view_of
    while record is not None:
        source = record.source
        layout = None if source._data is record.source_array else _layout(record.source_array, source._data)
        chain.append((record.op, record.operands, record.attrs, record.output_index, layout))
        record = source._view_of
    chain.reverse()
    return chain


def _layout(old, current):
    """``old``'s (shape, strides, offset) in elements of the memory it shares with ``current`` (an in-place view op
    restrided it), or None when ``current`` is other memory (``.data = ...`` replaced it: the view is taken of
    the new values, as PyTorch does)."""
    root = current
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not np.may_share_memory(old, root):
        return None
    start = root.__array_interface__["data"][0]
    offset, remainder = divmod(old.__array_interface__["data"][0] - start, old.itemsize)
    if remainder or any(s % old.itemsize for s in old.strides):
        raise RuntimeError("a view was taken of a tensor whose memory has since been replaced; backward cannot "
                           "replay the view")
    return old.shape, tuple(s // old.itemsize for s in old.strides), offset


def replay(t, chain, any_layout=False):
    """Take the views of ``chain`` (from :func:`view_chain`) of ``t`` again.

    ``any_layout``: ``t`` may be broadcast or transposed where the original base was not (a gradient), so
    each op is replaced by its ``replay_op`` (``view`` by ``reshape``, which copies when it must).

    >>> x = ember.arange(6.0).reshape(2, 3)
    >>> replay(ember.zeros(2, 3), view_chain(x.t()[0]))
    tensor([0., 0.])
    """
    for op, operands, attrs, output_index, layout in chain:
        if layout is not None:
            if any_layout:  # t is not the memory the layout describes
                raise RuntimeError("an in-place write through a view whose base was restrided in place (t_, "
                                   "transpose_, squeeze_, unsqueeze_) after the view was taken is not supported; "
                                   "take the view again after restriding")
            t = t.as_strided(*layout)  # the source as it was when the view was taken (same memory)
        if any_layout:
            op = op.replay_op
        t = op(t, *operands, **(attrs or {}))
        if output_index is not None:
            t = t[output_index]
    return t


class _CopySlicesOp:
    """Backward of an in-place write through a view: the base's gradient, split at the view."""

    name = "copy_slices"
    kind = "opaque"

    @staticmethod
    def backward(ctx, grad):
        from ember.tensor import from_array
        mask_array = np.ones(ctx.base_shape, dtype=grad._data.dtype)
        previous = STATE.enabled
        STATE.enabled = False
        try:
            replay(from_array(mask_array), ctx.view_chain, any_layout=any(step[4] for step in ctx.view_chain))._data[...] = 0
        finally:
            STATE.enabled = previous
        grad_base = grad * from_array(mask_array) if ctx.next_edges[0] is not None else None
        grad_view = replay(grad, ctx.view_chain, any_layout=True)
        return grad_base, grad_view


def rebase_history(self, result):
    """After writing ``result`` into ``self`` in place, make ``self`` (and its base) carry the graph.

    >>> x = ember.ones(2, requires_grad=True); y = ember.zeros(2)
    >>> y.copy_(x * 3).grad_fn
    <CopyBackward0 object at ...>
    """
    base = self._base
    if base is None or self._view_of is None:
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
        return
    node = Node(_CopySlicesOp)
    node.view_chain = view_chain(self)
    node.base_shape = base._data.shape
    node.next_edges = (edge_of(base), edge_of(result))
    node.input_meta = ((base._data.shape, base._dtype), (result._data.shape, result._dtype))
    node.output_meta = ((base._data.shape, base._dtype),)
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    self._view_of.refresh(self)


def check_inplace_allowed(self, op_name: str):
    """Raise, naming ``op_name``, when writing into ``self`` in place is not allowed (PyTorch's rules).

    >>> try:
    ...     check_inplace_allowed(ember.ones(2, requires_grad=True), "add_")
    ... except RuntimeError as e:
    ...     print(str(e).splitlines()[0])
    add_: a leaf Variable that requires grad is being used in an in-place operation.
    """
    if STATE.enabled and self._requires_grad and self.grad_fn is None:
        raise op_error(RuntimeError, op_name, "a leaf Variable that requires grad is being used in an in-place "
                       "operation.")
    if STATE.enabled and self._base is not None and self._base._requires_grad and self._base.grad_fn is None:
        raise op_error(RuntimeError, op_name, "a view of a leaf Variable that requires grad is being used in an "
                       "in-place operation.")
    if not self._data.flags.writeable:
        raise op_error(RuntimeError, op_name, "unsupported operation: more than one element of the written-to tensor "
                       "refers to a single memory location. Please clone() the tensor before performing the operation.")
    if STATE.enabled and self._view_of is not None:
        message = view_inplace_error(self)
        if message:
            raise op_error(RuntimeError, op_name, message)


def view_inplace_error(view):
    """Why an in-place write through ``view`` is forbidden in grad mode (PyTorch's rules), or None.

    >>> x = ember.ones(4, requires_grad=True) * 1
    >>> view_inplace_error(x[:2]) is None, view_inplace_error(x.unbind()[0])[:29]
    (True, 'Output 0 of Unbind is a view ')
    """
    base = view._base
    record = view._view_of
    while record is not None:
        if not record.created_with_grad and base is not None and base._requires_grad:
            return ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                    "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                    "moving both the view and the inplace either both inside the no_grad block (if you don't want "
                    "the inplace to be tracked) or both outside (if you want the inplace to be tracked).")
        if record.output_index is not None and view._requires_grad:
            return (f"Output {record.output_index} of {_camel(record.op.name)} is a view and is being modified "
                    "inplace. This view is the output of a function that returns multiple views. Such functions "
                    "do not allow the output views to be modified inplace. You should replace the inplace "
                    "operation by an out-of-place one.")
        record = record.source._view_of
    return None
