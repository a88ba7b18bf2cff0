"""Autograd semantics against PyTorch: retain_graph, accumulation, hooks, create_graph, custom Functions,
functional derivatives, anomaly detection, grad modes and error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def pair(values, requires_grad=True, dtype=np.float64):
    arr = np.asarray(values, dtype=dtype)
    return (ember.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad))


def close(e, t, **kw):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-8, **kw)


def test_second_backward_without_retain_graph_raises_torch_error():
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    xe, xt = pair([1.0, -2.0, 0.5])
    for x in (xe, xt):
        y = (x * x.exp()).sum()
        y.backward(retain_graph=True)
        y.backward()
    close(xe.grad, xt.grad)


def test_gradient_accumulates_over_uses_and_calls():
    xe, xt = pair([[1.0, 2.0], [3.0, 4.0]])
    for x in (xe, xt):
        (x * 3 + x * x).sum().backward()
        (x * 2).sum().backward()
    close(xe.grad, xt.grad)


def test_leaf_grad_is_not_shared_between_leaves():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)  # an in-place clip of one gradient must not change the other
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_broadcast_gradient_is_reduced_to_input_shape():
    ae, at = pair(np.arange(6.0).reshape(2, 3))
    be, bt = pair([10.0, 20.0, 30.0])
    ce, ct = pair(2.0)
    for a, b, c in ((ae, be, ce), (at, bt, ct)):
        ((a * b + c) ** 2).sum().backward()
    for e, t in ((ae, at), (be, bt), (ce, ct)):
        close(e.grad, t.grad)
        assert tuple(e.grad.shape) == tuple(t.grad.shape)


def test_create_graph_gives_second_and_third_derivatives():
    xe, xt = pair([0.7, -1.3])
    results = []
    for lib, x in ((ember, xe), (torch, xt)):
        y = (x ** 4 * lib.exp(x)).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (ggg,) = lib.autograd.grad(gg.sum(), x)
        results.append((g, gg, ggg))
    for e, t in zip(*results):
        close(e, t)


def test_gradient_penalty_style_double_backward_updates_leaf():
    we, wt = pair([[0.5, -0.2], [0.1, 0.3]])
    xe, xt = pair([[1.0, 2.0]])
    for lib, w, x in ((ember, we, xe), (torch, wt, xt)):
        out = (x @ w).exp().sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        ((gx ** 2).sum()).backward()
    close(we.grad, wt.grad)


def test_tensor_hooks_modify_gradients_and_can_be_removed():
    xe, xt = pair([1.0, 2.0])
    for x in (xe, xt):
        y = x * 3
        handle = y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 1)
        y.sum().backward(retain_graph=True)
        handle.remove()
        y.sum().backward()
    close(xe.grad, xt.grad)


def test_node_hooks_change_gradients_and_backward_goes_on_past_them():
    # A node's post hook (grad_inputs, grad_outputs) and pre hook (grad_outputs), with nodes both before and
    # after the hooked one, with and without ember.compile's execution hook installed.
    from ember import execution_hook

    xe, xt = pair([1.0, -2.0, 0.5])
    for watching in (False, True):
        grads = []
        for x in (xe, xt):
            x.grad = None
            y = (x * 2).exp()
            z = y * 3
            z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 2, grad_inputs[1]))
            y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] + 1,))
            if watching and x is xe:
                with execution_hook.installed(execution_hook.Hook()):
                    z.sum().backward()
            else:
                z.sum().backward()
            grads.append(x.grad)
        close(*grads)


def test_retain_grad_on_intermediate():
    xe, xt = pair([1.0, 2.0])
    ys = []
    for x in (xe, xt):
        y = x * x
        y.retain_grad()
        (y * 3).sum().backward()
        ys.append(y)
    close(ys[0].grad, ys[1].grad)
    assert ys[0].retains_grad


def test_grad_allow_unused_and_error():
    for lib in (ember, torch):
        x = lib.tensor([1.0], requires_grad=True)
        z = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            lib.autograd.grad((x * 2).sum(), [x, z])
        gx, gz = lib.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
        assert gz is None and gx.item() == 2.0


def test_backward_of_non_scalar_needs_gradient():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            (x * 2).backward()


def test_backward_on_tensor_without_grad_raises():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.tensor([1.0]).sum().backward()


def test_backward_with_inputs_accumulates_only_there():
    xe, xt = pair([1.0, 2.0])
    ye, yt = pair([3.0, 4.0])
    for x, y in ((xe, ye), (xt, yt)):
        (x * y).sum().backward(inputs=[x])
    close(xe.grad, xt.grad)
    assert ye.grad is None and yt.grad is None


def test_grad_modes_as_context_managers_and_decorators():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    @ember.inference_mode()
    def g(t):
        assert ember.is_inference_mode_enabled()
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert ember.is_grad_enabled() and not ember.is_inference_mode_enabled()
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2]).requires_grad_()
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False
    assert not y.is_leaf and x.is_leaf and y.grad_fn.name() == "MulBackward0"


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)  # allowed, as in PyTorch (optimizer updates)
    assert x.tolist() == [2.0, 2.0]


def test_modifying_a_saved_tensor_raises_version_error():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_on_non_leaf_keeps_correct_gradient():
    xe, xt = pair([0.5, -1.0, 2.0])
    for x in (xe, xt):
        y = x * 2
        y.mul_(x)  # backward needs the old y: PyTorch keeps a copy of it, and so does Ember
        y.add_(1)
        y.sum().backward()
    close(xe.grad, xt.grad)


def test_inplace_reading_itself_gives_the_true_gradient():
    # PyTorch raises for y.mul_(y); Ember computes the right answer, d/dx (2x)^2 = 8x.
    x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(y)
    y.sum().backward()
    assert x.grad.tolist() == [4.0, -8.0, 16.0]


def test_setitem_on_intermediate_routes_gradients():
    xe, xt = pair(np.arange(6.0).reshape(2, 3))
    ze, zt = pair([7.0, 8.0])
    for x, z in ((xe, ze), (xt, zt)):
        y = x * 1.5
        y[0, :2] = z * 3
        (y * y).sum().backward()
    close(xe.grad, xt.grad)
    close(ze.grad, zt.grad)


class _CubeEmber(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, power):
        ctx.save_for_backward(x)
        ctx.power = power
        return x ** power

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.power * x ** (ctx.power - 1), None


class _CubeTorch(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, power):
        ctx.save_for_backward(x)
        ctx.power = power
        return x ** power

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.power * x ** (ctx.power - 1), None


def test_custom_function_matches_torch_including_double_backward():
    xe, xt = pair([1.5, -0.5])
    ge = ember.autograd.grad(_CubeEmber.apply(xe, 3).sum(), xe, create_graph=True)[0]
    gt = torch.autograd.grad(_CubeTorch.apply(xt, 3).sum(), xt, create_graph=True)[0]
    close(ge, gt)
    close(ember.autograd.grad(ge.sum(), xe)[0], torch.autograd.grad(gt.sum(), xt)[0])
    assert _CubeEmber.apply(xe, 3).grad_fn.name() == "_CubeEmberBackward"


def test_custom_function_needs_input_grad_and_non_differentiable_outputs():
    seen = {}

    class SortWithIndex(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            order = np.argsort(x.numpy(force=True))
            ctx.mark_non_differentiable
            idx = ember.tensor(order)
            ctx.save_for_backward(idx)
            ctx.mark_non_differentiable(idx)
            return x[idx] + y, idx

        @staticmethod
        def backward(ctx, grad, grad_idx):
            seen["needs"] = ctx.needs_input_grad
            (idx,) = ctx.saved_tensors
            out = ember.zeros_like(grad)
            out[idx] = grad
            return out, None

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    y = ember.tensor([0.0, 0.0, 0.0])
    values, idx = SortWithIndex.apply(x, y)
    assert not idx.requires_grad and values.requires_grad
    (values * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert seen["needs"] == (True, False)
    assert x.grad.tolist() == [3.0, 1.0, 2.0]


def test_custom_function_mark_dirty():
    class AddOneInPlace(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = AddOneInPlace.apply(b)
    assert c is b and b.tolist() == [3.0, 5.0]
    (c * c).sum().backward()
    assert a.grad.tolist() == [12.0, 20.0]


def test_functional_jacobian_hessian_vjp_jvp_match_torch():
    def fe(x, y):
        return ember.exp(x) * y.sum(), x * y

    def ft(x, y):
        return torch.exp(x) * y.sum(), x * y

    x = np.array([0.1, -0.4, 0.3])
    y = np.array([1.5, 2.0, -1.0])
    je = ember.autograd.functional.jacobian(fe, (ember.tensor(x), ember.tensor(y)))
    jt = torch.autograd.functional.jacobian(ft, (torch.tensor(x), torch.tensor(y)))
    for re_, rt in zip(je, jt):
        for e, t in zip(re_, rt):
            close(e, t)

    def se(x):
        return (x ** 3 * x.sum()).sum()

    def st(x):
        return (x ** 3 * x.sum()).sum()

    close(ember.autograd.functional.hessian(se, ember.tensor(x)), torch.autograd.functional.hessian(st, torch.tensor(x)))
    v = np.array([1.0, -2.0, 0.5])
    for name in ("vjp", "jvp", "hvp", "vhp"):
        e_fn = getattr(ember.autograd.functional, name)
        t_fn = getattr(torch.autograd.functional, name)
        func_e, func_t = (se, st) if name in ("hvp", "vhp") else ((lambda t: t.exp() * 2), (lambda t: t.exp() * 2))
        oe, ve = e_fn(func_e, ember.tensor(x), ember.tensor(v))
        ot, vt = t_fn(func_t, torch.tensor(x), torch.tensor(v))
        close(oe, ot)
        close(ve, vt)


def test_detect_anomaly_names_forward_op_and_user_line():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with ember.autograd.detect_anomaly():
            y = ember.sqrt(x)  # the line the error must point at
            loss = (y * 0).sum()
            with pytest.raises(RuntimeError) as info:
                loss.backward()
    message = str(info.value)
    assert "SqrtBackward0" in message and "nan" in message
    assert "test_autograd.py" in message and "y = ember.sqrt(x)" in message


def test_shape_error_names_op_shapes_and_user_line():
    with pytest.raises(RuntimeError) as info:
        ember.ones(2, 3) * ember.ones(4, 2)  # the user's line
    message = str(info.value)
    assert message.startswith("mul: ")
    assert "(2, 3)" in message and "(4, 2)" in message
    assert "test_autograd.py" in message and "ember.ones(2, 3) * ember.ones(4, 2)" in message


def test_gradcheck_detects_wrong_gradient():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = ember.tensor([0.5, 1.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_grad_fn_graph_surface():
    x = ember.ones(2, requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (mul_node, _), = y.grad_fn.next_functions
    assert mul_node.name() == "MulBackward0"
    accumulate = mul_node.next_functions[0][0]
    assert accumulate.variable is x
