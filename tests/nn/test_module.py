"""nn.Module semantics against torch.nn.Module: registration, iteration, state_dict, hooks, modes."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember


def build(lib):
    """The same small module tree in either library, without any layer classes."""
    nn = lib.nn

    class Leaf(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(n) * 2)
            self.bias = None
            self.register_buffer("running", lib.zeros(n))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)

        def forward(self, x):
            return x * self.weight + self.running

    class Tree(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Leaf(3)
            self.second = Leaf(3)
            self.shared = self.first  # a module registered twice is listed once
            self.scale = nn.Parameter(lib.tensor(0.5))

        def forward(self, x):
            return self.second(self.first(x)) * self.scale

    return Tree()


def test_registration_and_iteration_match_torch():
    e, t = build(ember), build(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="model", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="model", recurse=False)]


def test_load_state_dict_reports_missing_unexpected_and_shape_errors_like_torch():
    for lib in (ember, torch):
        m = build(lib)
        state = {k: v.clone() for k, v in m.state_dict().items()}
        del state["first.weight"]
        state["extra"] = lib.zeros(1)
        with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "first.weight"'):
            m.load_state_dict(state)
        with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
            m.load_state_dict(state)
        result = m.load_state_dict(state, strict=False)
        assert result.missing_keys == ["first.weight"] and result.unexpected_keys == ["extra"]
        state["second.weight"] = lib.zeros(4)
        with pytest.raises(RuntimeError, match=r"size mismatch for second.weight"):
            m.load_state_dict(state, strict=False)


def test_load_state_dict_copies_values_in_place_and_assign_replaces():
    m = build(ember)
    before = m.first.weight
    m.load_state_dict({k: ember.full_like(v, 7.0) for k, v in m.state_dict().items()})
    assert m.first.weight is before and m.first.weight.tolist() == [7.0, 7.0, 7.0]
    m.load_state_dict({k: ember.full_like(v, 3.0) for k, v in m.state_dict().items()}, assign=True)
    assert m.first.weight is not before and isinstance(m.first.weight, ember.nn.Parameter)
    assert m.first.weight.requires_grad


def test_load_torch_tensors_directly():
    e, t = build(ember), build(torch)
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_()
    e.load_state_dict(t.state_dict())
    x = np.random.rand(3).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_setattr_rules_match_torch():
    for lib in (ember, torch):
        m = build(lib)
        with pytest.raises(TypeError, match="cannot assign"):
            m.scale = lib.ones(1)  # a plain tensor cannot replace a parameter
        m.scale = None
        assert "scale" not in dict(m.named_parameters())
        m.running_alias = lib.zeros(1)
        assert "running_alias" not in dict(m.named_buffers())
        with pytest.raises(KeyError, match="attribute 'running_alias' already exists"):
            m.register_buffer("running_alias", lib.zeros(1))
        del m.first
        assert "first" not in dict(m.named_children())


def test_train_eval_apply_zero_grad_requires_grad():
    m = build(ember)
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    visited = []
    m.apply(lambda mod: visited.append(type(mod).__name__))
    assert visited == ["Leaf", "Leaf", "Tree"]
    m(ember.ones(3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_casts_only_floating_tensors():
    m = build(ember)
    m.register_buffer("count", ember.tensor([3]))
    m.double()
    assert m.first.weight.dtype == ember.float64 and m.count.dtype == ember.int64
    m.to(ember.float32)
    assert m.first.weight.dtype == ember.float32
    assert isinstance(m.first.weight, ember.nn.Parameter)


def test_forward_hooks_and_handles():
    for lib in (ember, torch):
        m = build(lib)
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs), with_kwargs=True)
        out = m(lib.ones(3))
        assert out.tolist() == [5.0, 5.0, 5.0] and calls == [{}]
        for h in (h1, h2, h3):
            h.remove()
        assert m(lib.ones(3)).tolist() == [2.0, 2.0, 2.0]


def test_full_backward_hook_sees_grad_input_and_output_like_torch():
    results = []
    for lib in (ember, torch):
        m = build(lib)
        seen = {}

        def hook(mod, grad_input, grad_output):
            seen["in"] = [g.detach().numpy().copy() for g in grad_input]
            seen["out"] = [g.detach().numpy().copy() for g in grad_output]
            return (grad_input[0] * 10,)

        m.first.register_full_backward_hook(hook)
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (m(x) * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((seen, x.grad.numpy().copy()))
    (se, ge), (st, gt) = results
    for a, b in zip(se["in"] + se["out"], st["in"] + st["out"]):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(ge, gt)


def test_repr_of_nested_modules_matches_torch():
    e, t = build(ember), build(torch)
    assert repr(e) == repr(t)


def test_deepcopy_and_pickle_round_trip():
    m = build(ember)
    m.first.weight.grad = ember.ones(3)
    clone = copy.deepcopy(m)
    assert clone.first.weight is not m.first.weight
    assert clone.first.weight.tolist() == m.first.weight.tolist()
    assert clone.shared is clone.first
    picklable = PicklableScale()
    restored = pickle.loads(pickle.dumps(picklable))
    assert isinstance(restored.weight, ember.nn.Parameter) and restored.weight.requires_grad
    assert restored(ember.ones(3)).tolist() == picklable(ember.ones(3)).tolist()
    assert list(restored.state_dict()) == ["weight", "running"]


class PicklableScale(ember.nn.Module):
    """Module classes must live at module level to pickle, in torch as here."""

    def __init__(self):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.arange(3.0))
        self.register_buffer("running", ember.ones(3))

    def forward(self, x):
        return x * self.weight + self.running


def test_get_submodule_parameter_buffer():
    for lib in (ember, torch):
        m = build(lib)
        assert m.get_submodule("second") is m.second
        assert m.get_parameter("second.weight") is m.second.weight
        assert m.get_buffer("first.running") is m.first.running
        with pytest.raises(AttributeError):
            m.get_submodule("nothing")


def test_lazy_parameter_materializes():
    p = ember.nn.UninitializedParameter()
    assert ember.nn.parameter.is_lazy(p)
    p.materialize((2, 3))
    assert type(p) is ember.nn.Parameter and tuple(p.shape) == (2, 3)
