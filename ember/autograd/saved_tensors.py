"""Tensors saved for backward, and the checks that they are still what forward saw.

A node keeps the operands (or outputs) its backward reads, with the version of each tensor's memory at
forward time. Reading them after an in-place write since, or after backward freed them, raises PyTorch's
errors instead of returning a wrong gradient.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> y = x * 1
>>> z = y * y          # MulBackward0 saves y
>>> y.add_(1)
tensor([2., 2.], grad_fn=<AddBackward0>)
>>> try:
...     z.sum().backward()
... except RuntimeError as e:
...     print(str(e)[:75])
one of the variables needed for gradient computation has been modified by a
"""

from __future__ import annotations

__all__ = ["RELEASED_MESSAGE", "check_versions", "unpack_inputs", "unpack_outputs", "version_message"]

RELEASED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward.")


def version_message(t, node, expected, output_nr=None) -> str:
    """PyTorch's error for saved tensor ``t`` of ``node``, written in place since forward saved it at
    version ``expected`` (``output_nr``: which of the node's outputs ``t`` is, for a saved output).

    >>> version_message(ember.zeros(2), None, 0).split("], ")[1][:40]
    'which is a leaf tensor, is at version 0;'
    """
    kind = f"output {output_nr} of {node.name()}" if output_nr is not None else (
        f"output {t._output_nr} of {t.grad_fn.name()}" if t.grad_fn is not None else "a leaf tensor")
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[torch.{t._dtype.torch_name} {list(t._data.shape)}], which is {kind}, is at version "
            f"{t._version.value}; expected version {expected} instead. Hint: the backtrace further above shows "
            "the operation that failed to compute its gradient. Enable anomaly detection with "
            "ember.autograd.set_detect_anomaly(True) to find the forward operation.")


def check_versions(node, tensors, versions) -> None:
    """Raise if a tensor ``node`` saved was written in place since (``versions``: one per tensor, None for
    what is not a tensor).

    >>> x = ember.ones(1); check_versions(None, (x, 2.0), (0, None))
    """
    for t, version in zip(tensors, versions):
        if version is not None and t._version.value != version:
            raise RuntimeError(version_message(t, node, version))


def unpack_inputs(node) -> tuple:
    """``node``'s saved operands (``ctx.inputs``), after checking that none was written in place since.

    >>> x = ember.ones(2, requires_grad=True); w = ember.full((2,), 3.0)
    >>> unpack_inputs((x * w).grad_fn)   # d(x*w)/dx reads w; no gradient for w, so x is not kept
    (None, tensor([3., 3.]))
    """
    if node.released:
        raise RuntimeError(RELEASED_MESSAGE)
    saved = node.saved_inputs
    if saved is None:
        raise RuntimeError(f"{node.name()} did not save its inputs (declare save = ('inputs',))")
    # check_versions, inlined: backward reads ctx.inputs once per node
    for t, version in zip(saved, node.saved_versions):
        if version is not None and t._version.value != version:
            raise RuntimeError(version_message(t, node, version))
    return saved


def unpack_outputs(node) -> tuple:
    """``node``'s saved outputs (``ctx.outputs``) as tensors that point back at it, after checking that none
    was written in place since.

    An output is saved as its array, version counter, version and base, not as the tensor: a tensor
    pointing at its own grad_fn would be a reference cycle that keeps the graph alive.

    >>> y = ember.ones(2, requires_grad=True).exp()
    >>> (out,) = unpack_outputs(y.grad_fn); out.grad_fn is y.grad_fn
    True
    """
    if node.released:
        raise RuntimeError(RELEASED_MESSAGE)
    if node.saved_outputs is None:
        raise RuntimeError(f"{node.name()} did not save its outputs (declare save = ('output',))")
    from ember.tensor import from_array
    rebuilt = []
    for i, entry in enumerate(node.saved_outputs):
        if entry is None:
            rebuilt.append(None)
            continue
        data, counter, version, base = entry
        t = from_array(data, requires_grad=data.dtype.kind == "f" or data.dtype.name == "bfloat16",
                  grad_fn=node, version=counter)
        t._output_nr = i
        t._base = base
        if counter.value != version:
            raise RuntimeError(version_message(t, node, version, output_nr=i))
        rebuilt.append(t)
    return tuple(rebuilt)
