"""Hook plumbing: removable handles, the dicts hooks live in, and hooks on tensors' gradients.

Every ``register_*hook`` in Ember (tensors, graph nodes, modules, optimizers) stores its hook in a dict
under a fresh id and returns a :class:`RemovableHandle` that deletes that entry again.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> handle = x.register_hook(lambda g: g * 10)
>>> (x * 1).sum().backward(); x.grad
tensor([10., 10.])
>>> handle.remove(); x.grad = None
>>> (x * 1).sum().backward(); x.grad
tensor([1., 1.])
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = ["RemovableHandle", "add_hook", "hook_on", "apply_hooks", "register_tensor_hook", "retain_grad"]


class RemovableHandle:
    """Returned by ``register_hook`` and friends; ``remove()`` unregisters the hook.

    >>> hooks = _HookDict()
    >>> handle = add_hook(hooks, print)
    >>> len(hooks), handle.remove(), len(hooks)
    (1, None, 0)
    """

    _next_id = 0

    def __init__(self, hooks_dict):
        # Weak, so that a handle kept by the user does not keep a module's or a node's hooks alive.
        self._hooks_ref = weakref.ref(hooks_dict) if hooks_dict is not None else None
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        hooks = self._hooks_ref() if self._hooks_ref is not None else None
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(dict):
    """A dict that can be weakly referenced by handles.

    Pickled modules name it; ``ember.autograd.engine._HookDict`` (where it lived before) still resolves.
    """

    __slots__ = ("__weakref__",)


def add_hook(hooks: _HookDict, fn, prepend: bool = False) -> RemovableHandle:
    """Store ``fn`` in ``hooks`` (after the others, or before them with ``prepend``) and return its handle.

    >>> hooks = _HookDict(); _ = add_hook(hooks, "first"); _ = add_hook(hooks, "second", prepend=True)
    >>> list(hooks.values())
    ['second', 'first']
    """
    handle = RemovableHandle(hooks)
    if prepend:
        others = list(hooks.items())
        hooks.clear()
        hooks[handle.id] = fn
        hooks.update(others)
    else:
        hooks[handle.id] = fn
    return handle


def hook_on(owner, attribute: str, fn) -> RemovableHandle:
    """Add ``fn`` to the hook dict ``owner.<attribute>`` (made on first use) and return its handle.

    >>> node = (ember.ones(1, requires_grad=True) * 2).grad_fn
    >>> handle = hook_on(node, "post_hooks", print); len(node.post_hooks)
    1
    """
    hooks = getattr(owner, attribute)
    if hooks is None:
        hooks = _HookDict()
        setattr(owner, attribute, hooks)
    return add_hook(hooks, fn)


def apply_hooks(hooks: _HookDict, value):
    """Pass ``value`` through each hook in turn; a hook that returns None leaves it as it is.

    >>> hooks = _HookDict(); _ = add_hook(hooks, lambda v: v + 1); _ = add_hook(hooks, lambda v: None)
    >>> apply_hooks(hooks, 1)
    2
    """
    for hook in list(hooks.values()):
        new = hook(value)
        if new is not None:
            value = new
    return value


def register_tensor_hook(t, hook) -> RemovableHandle:
    """``Tensor.register_hook``: ``hook(grad)`` runs when ``t``'s gradient is computed; its return replaces it.

    A leaf keeps its hooks itself (its AccumulateGrad runs them); a non-leaf's hooks go to its grad_fn,
    keyed by which of the node's outputs ``t`` is.

    >>> x = ember.ones(2, requires_grad=True); y = x * 2
    >>> _ = register_tensor_hook(y, lambda g: g * 3)
    >>> y.sum().backward(); x.grad
    tensor([6., 6.])
    """
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is None:
        return hook_on(t, "_hooks", hook)
    node = t.grad_fn
    if node.tensor_pre_hooks is None:
        node.tensor_pre_hooks = {}
    return add_hook(node.tensor_pre_hooks.setdefault(t._output_nr, _HookDict()), hook)


def retain_grad(t) -> None:
    """``Tensor.retain_grad``: keep the gradient that reaches non-leaf ``t`` in ``t.grad``.

    >>> x = ember.ones(2, requires_grad=True); y = x * 2
    >>> retain_grad(y); y.sum().backward(); y.grad
    tensor([1., 1.])
    """
    if not t._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t.grad_fn is None or t._retains_grad:
        return
    t._retains_grad = True
    ref = weakref.ref(t)  # the hook lives on the graph, which must not keep the tensor alive

    def keep(grad):
        target = ref()
        if target is None:
            return None
        from ember.tensor import from_array
        if target.grad is None:
            target.grad = from_array(np.array(grad._data, copy=True)) if not grad._requires_grad else grad
        else:
            target.grad = target.grad + grad
        return None

    register_tensor_hook(t, keep)
