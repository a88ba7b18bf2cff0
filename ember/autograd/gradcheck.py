"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck``, as in ``torch.autograd``.

Analytical Jacobians (one backward pass per output element) are compared with central finite
differences (two forward passes per input element), in the inputs' dtype (use float64).

>>> import ember
>>> x = ember.tensor([0.3, -1.2], dtype=ember.float64, requires_grad=True)
>>> ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if not isinstance(x, list) else tuple(x)


def _differentiable_outputs(outputs):
    return [o for o in outputs if o is not None and o._dtype.is_floating_point and o._requires_grad]


def _numerical_jacobian(fn, inputs, eps):
    """Columns: d(flat outputs)/d(input element), by central differences."""
    # Forward passes record graphs: gradgradcheck's function differentiates inside.
    columns = []
    for t in inputs:
        if t is None or not getattr(t, "_requires_grad", False):
            columns.append(None)
            continue
        data = t._data
        jac = []
        for i in range(data.size):
            idx = np.unravel_index(i, data.shape)  # works for non-contiguous views too
            orig = data[idx].item()
            data[idx] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _float_outputs(fn(*inputs))]
            data[idx] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _float_outputs(fn(*inputs))]
            data[idx] = orig
            jac.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                       if plus else np.zeros(0))
        n_out = sum(o._data.size for o in _float_outputs(fn(*inputs)))
        columns.append(np.stack(jac, axis=1) if jac else np.zeros((n_out, 0)))
    return columns


def _float_outputs(outputs):
    return [o for o in _as_tuple(outputs) if o is not None and o._dtype.is_floating_point]


def _analytical_jacobian(outputs, inputs):
    from ember.autograd.differentiate import grad
    from ember.tensor import from_array
    outs = _differentiable_outputs(_as_tuple(outputs))
    sizes = [o._data.size for o in outs]
    total = sum(sizes)
    wrt = [t for t in inputs if t is not None and getattr(t, "_requires_grad", False)]
    jacs = [np.zeros((total, t._data.size)) for t in wrt]
    row = 0
    for k, o in enumerate(outs):
        for j in range(o._data.size):
            seeds = [from_array(np.zeros(x._data.shape, dtype=x._data.dtype)) for x in outs]
            seeds[k]._data.reshape(-1)[j] = 1
            grads = grad(outs, wrt, grad_outputs=seeds, retain_graph=True, allow_unused=True)
            for col, g in enumerate(grads):
                if g is not None:
                    jacs[col][row] = g._data.astype(np.float64).reshape(-1)
            row += 1
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **_ignored) -> bool:
    """Check ``func``'s gradients against finite differences; True, or raises ``GradcheckError``.

    >>> x = ember.rand(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradcheck(lambda t: t.exp(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    for t in inputs:
        if getattr(t, "_requires_grad", False) and t._dtype.name != "float64":
            import warnings
            warnings.warn(f"gradcheck input of dtype {t._dtype} is not float64: precision may fail the check",
                          stacklevel=2)
    outputs = func(*inputs)
    wrt = [t for t in inputs if getattr(t, "_requires_grad", False)]
    if not _differentiable_outputs(_as_tuple(outputs)):
        if any(o is not None and o._dtype.is_floating_point for o in _as_tuple(outputs)) and wrt:
            raise GradcheckError("gradcheck: no output requires grad although inputs do")
        return True
    analytical = _analytical_jacobian(outputs, inputs)
    numerical = [c for c in _numerical_jacobian(func, inputs, eps) if c is not None]
    for i, (a, n) in enumerate(zip(analytical, numerical)):
        if a.shape != n.shape or not np.allclose(a, n, atol=atol, rtol=rtol):
            message = (f"Jacobian mismatch for output 0 with respect to input {i},\n"
                       f"numerical:{n}\nanalytical:{a}\n")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, grad_outputs) -> input gradients.

    >>> x = ember.rand(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    from ember.autograd.differentiate import grad
    from ember.tensor import from_array
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(from_array(rng.standard_normal(o._data.shape).astype(o._data.dtype)).requires_grad_()
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)
    wrt_mask = [getattr(t, "_requires_grad", False) for t in inputs]

    def first_derivative(*all_inputs):
        ins, gos = all_inputs[:n_inputs], all_inputs[n_inputs:]
        outs = _differentiable_outputs(_as_tuple(func(*ins)))
        wrt = [t for t, m in zip(ins, wrt_mask) if m]
        grads = grad(outs, wrt, grad_outputs=gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
