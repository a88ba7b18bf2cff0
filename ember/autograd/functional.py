"""Higher-level derivatives: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``
(as ``torch.autograd.functional``), built on reverse mode.

>>> import ember
>>> from ember.autograd.functional import jacobian, hessian
>>> jacobian(lambda x: x ** 2, ember.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
>>> hessian(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

from ember.autograd.differentiate import grad as _grad
from ember.autograd.grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg_name, fn_name):
    from ember.tensor import Tensor
    if isinstance(x, Tensor):
        return True, (x,)
    if not isinstance(x, (tuple, list)) or not all(isinstance(t, Tensor) for t in x):
        raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                        f"the value given is of type {type(x).__name__}.")
    return False, tuple(x)


def _prepare_inputs(inputs, create_graph):
    return tuple(t.detach().requires_grad_(True) if not (create_graph and t._requires_grad) else t.view_as(t)
                 for t in inputs)


def _zeros_for(t):
    from ember.ops.creation import zeros_like
    return zeros_like(t)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn_name):
    wanted = [o for o in outputs if o._requires_grad]
    seeds = [g for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if not wanted:
        if strict:
            raise RuntimeError(f"The output of the user-provided function given to {fn_name} is independent of "
                               "its inputs. This is not allowed in strict mode.")
        return tuple(_zeros_for(t) for t in inputs)
    result = _grad(wanted, inputs, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True)
    out = []
    for i, (g, t) in enumerate(zip(result, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function given to {fn_name} is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = _zeros_for(t)
        out.append(g)
    return tuple(out)


def _finish(value, create_graph):
    if isinstance(value, tuple):
        return tuple(_finish(v, create_graph) for v in value)
    return value if create_graph else value.detach()


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: a vector-Jacobian product.

    >>> from ember.autograd.functional import vjp
    >>> vjp(lambda x: x * 3, ember.ones(2), ember.tensor([1.0, 2.0]))[1]
    tensor([3., 6.])
    """
    from ember.ops.creation import ones_like
    single_in, ins = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        ins = _prepare_inputs(ins, create_graph)
        out = func(*ins)
        single_out, outs = _as_tuple(out, "outputs of the user-provided function", "vjp")
        if v is None:
            if len(outs) != 1 or outs[0]._data.size != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            vs = (ones_like(outs[0]),)
        else:
            vs = _as_tuple(v, "v", "vjp")[1]
            _check_shapes(vs, outs, "v", "outputs")
        grads = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outputs = _finish(outs[0] if single_out else outs, create_graph)
    return outputs, _finish(grads[0] if single_in else grads, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: a Jacobian-vector product (by the double-vjp trick).

    >>> from ember.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, ember.tensor([1.0, 3.0]), ember.ones(2))[1]
    tensor([2., 6.])
    """
    from ember.ops.creation import ones_like, zeros_like
    single_in, ins = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        vs = (ones_like(ins[0]),)
    else:
        vs = _as_tuple(v, "v", "jvp")[1]
        _check_shapes(vs, ins, "v", "inputs")
    with enable_grad():
        ins = _prepare_inputs(ins, create_graph)
        out = func(*ins)
        single_out, outs = _as_tuple(out, "outputs of the user-provided function", "jvp")
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        grads = _grads(outs, ins, dummies, True, strict, "jvp")
        differentiable = [(g, vv) for g, vv in zip(grads, vs) if g._requires_grad]
        if not differentiable:
            result = tuple(zeros_like(o) for o in outs)
        else:
            result = _grad([g for g, _ in differentiable], dummies, [vv for _, vv in differentiable],
                           retain_graph=True, create_graph=create_graph, allow_unused=True)
            result = tuple(zeros_like(o) if r is None else r for r, o in zip(result, outs))
    outputs = _finish(outs[0] if single_out else outs, create_graph)
    return outputs, _finish(result[0] if single_out else result, create_graph)


def _check_shapes(vs, refs, v_name, ref_name):
    if len(vs) != len(refs):
        raise RuntimeError(f"{v_name} has {len(vs)} tensors but {ref_name} has {len(refs)}")
    for i, (a, b) in enumerate(zip(vs, refs)):
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"Mismatch in size between {v_name}[{i}] {tuple(a._data.shape)} and "
                               f"{ref_name}[{i}] {tuple(b._data.shape)}")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``, shaped ``output.shape + input.shape`` (tuples nest as torch).

    >>> from ember.autograd.functional import jacobian
    >>> jacobian(lambda x: x.sum() * x, ember.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    from ember.ops.creation import zeros, zeros_like
    from ember.ops.movement import Reshape
    single_in, ins = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare_inputs(ins, create_graph)
        out = func(*ins)
        single_out, outs = _as_tuple(out, "outputs of the user-provided function", "jacobian")
        blocks = []  # blocks[i][j]: d out_i / d in_j
        for o in outs:
            rows = [[] for _ in ins]
            flat = o.reshape(-1)
            for k in range(flat._data.size):
                if o._requires_grad:
                    seed = zeros_like(flat)
                    seed._data[k] = 1
                    gs = _grad([flat], ins, [seed], retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(ins)
                for j, (g, t) in enumerate(zip(gs, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError("Output of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        g = zeros_like(t)
                    rows[j].append(g)
            block = []
            for j, t in enumerate(ins):
                if rows[j]:
                    from ember.ops.movement import Stack
                    stacked = Stack.function(rows[j], 0)
                else:
                    stacked = zeros((0,) + tuple(t._data.shape), dtype=t._dtype)
                block.append(Reshape.function(stacked, tuple(o._data.shape) + tuple(t._data.shape)))
            blocks.append(tuple(block))
    if single_out and single_in:
        result = blocks[0][0]
    elif single_out:
        result = blocks[0]
    elif single_in:
        result = tuple(b[0] for b in blocks)
    else:
        result = tuple(blocks)
    return _finish(result, create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function, shaped ``input.shape + input.shape``.

    >>> from ember.autograd.functional import hessian
    >>> hessian(lambda x: (x[0] * x[1]), ember.tensor([1.0, 2.0]))
    tensor([[0., 1.],
            [1., 0.]])
    """
    single_in, ins = _as_tuple(inputs, "inputs", "hessian")

    def checked(*args):
        out = func(*args)
        if not hasattr(out, "_data") or out._data.size != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with one element")
        return out.reshape(())

    def gradient(*args):
        return jacobian(checked, args[0] if single_in else args, create_graph=True, strict=strict)

    return jacobian(gradient, ins[0] if single_in else ins, create_graph=create_graph, strict=strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``.

    >>> from ember.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))[1]
    tensor([ 6., 12.])
    """
    single_in, ins = _as_tuple(inputs, "inputs", "vhp")
    vs = _as_tuple(v, "v", "vhp")[1] if v is not None else None
    with enable_grad():
        ins = _prepare_inputs(ins, True)
        out = func(*ins)
        if not hasattr(out, "_data") or out._data.size != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with one element")
        first = _grad([out], ins, None, retain_graph=True, create_graph=True, allow_unused=True)
        first = tuple(g if g is not None else _zeros_for(t) for g, t in zip(first, ins))
        if vs is None:
            if len(ins) != 1 or ins[0]._data.size != 1:
                raise RuntimeError("The vector v can only be None if the input is a single Tensor with one element")
            from ember.ops.creation import ones_like
            vs = (ones_like(ins[0]),)
        _check_shapes(vs, ins, "v", "inputs")
        needed = [(g, vv) for g, vv in zip(first, vs) if g._requires_grad]
        if needed:
            second = _grad([g for g, _ in needed], ins, [vv for _, vv in needed], retain_graph=True,
                           create_graph=create_graph, allow_unused=True)
            second = tuple(s if s is not None else _zeros_for(t) for s, t in zip(second, ins))
        else:
            second = tuple(_zeros_for(t) for t in ins)
    return _finish(out, create_graph), _finish(second[0] if single_in else second, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``; H is symmetric for twice-differentiable functions, so this equals vhp.

    >>> from ember.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))[1]
    tensor([ 6., 12.])
    """
    return vhp(func, inputs, v, create_graph, strict)
