"""Layer parity against torch: copy a torch module's state into the Ember twin, run both, compare.

Every layer test builds the layer in both libraries with the same constructor arguments and calls
``check_layer_parity``; it checks state_dict keys/shapes, repr, outputs, and the gradients of inputs
and parameters, in train and eval mode.
"""

from __future__ import annotations

import numpy as np
import torch

import ember


def to_ember(value, requires_grad=False):
    """A torch tensor (or nested tuple/list of them) as Ember tensors with the same values and dtype."""
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu()
        if array.dtype == torch.bfloat16:
            out = ember.tensor(array.float().numpy()).to(ember.bfloat16)
        else:
            out = ember.tensor(array.numpy().copy())
        if requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(value, (tuple, list)):
        return type(value)(to_ember(v, requires_grad) for v in value)
    return value


def to_torch(value, requires_grad=False):
    """An Ember tensor (or nested tuple/list of them) as torch tensors with the same values and dtype."""
    if isinstance(value, ember.Tensor):
        detached = value.detach()
        if detached.dtype == ember.bfloat16:
            out = torch.tensor(detached.float().numpy()).to(torch.bfloat16)
        else:
            out = torch.from_numpy(np.array(detached.numpy(), copy=True))
        if requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(value, (tuple, list)):
        return type(value)(to_torch(v, requires_grad) for v in value)
    return value


def copy_torch_state(ember_module, torch_module, strict=True):
    """Load ``torch_module``'s state_dict into ``ember_module`` (the way a user ports a checkpoint)."""
    state = {k: to_ember(v) for k, v in torch_module.state_dict().items()}
    return ember_module.load_state_dict(state, strict=strict)


def assert_close(ember_value, torch_value, rtol=1.3e-6, atol=1e-5, what="value"):
    """Compare an Ember result with torch's: same type structure, shape, dtype name and values."""
    if torch_value is None or ember_value is None:
        assert ember_value is None and torch_value is None, f"{what}: ember {ember_value!r} vs torch {torch_value!r}"
        return
    if isinstance(torch_value, (tuple, list)):
        assert isinstance(ember_value, (tuple, list)) and len(ember_value) == len(torch_value), \
            f"{what}: ember {type(ember_value)} vs torch {type(torch_value)} of length {len(torch_value)}"
        for i, (e, t) in enumerate(zip(ember_value, torch_value)):
            assert_close(e, t, rtol, atol, f"{what}[{i}]")
        return
    if not isinstance(torch_value, torch.Tensor):
        assert ember_value == torch_value, f"{what}: ember {ember_value!r} vs torch {torch_value!r}"
        return
    assert isinstance(ember_value, ember.Tensor), f"{what}: ember returned {type(ember_value)}"
    assert tuple(ember_value.shape) == tuple(torch_value.shape), \
        f"{what}: ember shape {tuple(ember_value.shape)} vs torch {tuple(torch_value.shape)}"
    assert str(ember_value.dtype).split(".")[-1] == str(torch_value.dtype).split(".")[-1], \
        f"{what}: ember dtype {ember_value.dtype} vs torch {torch_value.dtype}"
    expected = torch_value.detach().float().numpy() if torch_value.dtype == torch.bfloat16 else torch_value.detach().numpy()
    actual = ember_value.detach().float().numpy() if ember_value.dtype == ember.bfloat16 else ember_value.detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _flatten_tensors(value):
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten_tensors(v)]
    return []


def check_layer_parity(ember_module, torch_module, *inputs, modes=("train", "eval"), rtol=1.3e-6, atol=1e-5,
                       check_repr=True, grad_inputs=True, copy_state=True, seed=None, forward=None):
    """Compare an Ember layer with its torch twin on ``inputs`` (torch tensors, or nested tuples of them).

    ``forward(module, *inputs)`` overrides how the module is called (default ``module(*inputs)``).
    ``seed``: when set, both libraries are seeded identically before each forward (only meaningful
    for layers whose randomness matches torch draw-for-draw; dropout layers are compared in eval mode).
    Returns the (ember, torch) outputs of the last mode.
    """
    if copy_state:
        copy_torch_state(ember_module, torch_module)
    ember_state, torch_state = ember_module.state_dict(), torch_module.state_dict()
    assert list(ember_state) == list(torch_state), f"state_dict keys: ember {list(ember_state)} vs torch {list(torch_state)}"
    for key in torch_state:
        assert tuple(ember_state[key].shape) == tuple(torch_state[key].shape), \
            f"{key}: ember shape {tuple(ember_state[key].shape)} vs torch {tuple(torch_state[key].shape)}"
    if check_repr:
        assert repr(ember_module) == repr(torch_module)
    call = forward or (lambda module, *args: module(*args))
    result = None
    for mode in modes:
        ember_module.train(mode == "train")
        torch_module.train(mode == "train")
        torch_inputs = tuple(_clone_for_grad(x, grad_inputs) for x in inputs)
        ember_inputs = tuple(_ember_twin(x, grad_inputs) for x in inputs)
        if seed is not None:
            torch.manual_seed(seed)
            ember.manual_seed(seed)
        torch_out = call(torch_module, *torch_inputs)
        ember_out = call(ember_module, *ember_inputs)
        assert_close(ember_out, torch_out, rtol, atol, f"{mode} output")
        torch_outs = [t for t in _flatten_tensors(torch_out) if t.requires_grad]
        ember_outs = [t for t in _flatten_tensors(ember_out) if t.requires_grad]
        if torch_outs:
            assert len(ember_outs) == len(torch_outs), f"{mode}: {len(ember_outs)} ember outputs need grad, torch {len(torch_outs)}"
            weights = [torch.linspace(-1, 1, t.numel(), dtype=t.dtype).reshape(t.shape) for t in torch_outs]
            torch.autograd.backward(torch_outs, weights)
            ember.autograd.backward(ember_outs, [to_ember(w) for w in weights])
            for i, (e, t) in enumerate(zip(_flatten_tensors(ember_inputs), _flatten_tensors(torch_inputs))):
                if t.requires_grad:
                    assert_close(e.grad, t.grad, rtol, atol, f"{mode} grad of input {i}")
            ember_params = dict(ember_module.named_parameters())
            for name, p in torch_module.named_parameters():
                assert_close(ember_params[name].grad, p.grad, rtol, atol, f"{mode} grad of {name}")
            ember_module.zero_grad()
            torch_module.zero_grad()
        for name, buf in torch_module.named_buffers():
            assert_close(dict(ember_module.named_buffers())[name], buf, rtol, atol, f"{mode} buffer {name}")
        result = (ember_out, torch_out)
    return result


def _clone_for_grad(x, grad_inputs):
    if isinstance(x, torch.Tensor):
        x = x.detach().clone()
        if grad_inputs and x.is_floating_point():
            x.requires_grad_(True)
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(_clone_for_grad(v, grad_inputs) for v in x)
    return x


def _ember_twin(x, grad_inputs):
    if isinstance(x, torch.Tensor):
        return to_ember(x, requires_grad=grad_inputs and x.is_floating_point())
    if isinstance(x, (tuple, list)):
        return type(x)(_ember_twin(v, grad_inputs) for v in x)
    return x
