"""Every optimizer against PyTorch: same initial parameters, same gradient sequence, parameters and every state
entry compared after each step; state_dict round trips (ember -> ember, torch -> ember) continue on torch's path."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import ember

SHAPES = [(3, 4), (5,), ()]

# (optimizer name, constructor kwargs); values written ("tensor", x) become a 0-d tensor of each library.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ("SGD", {"lr": ("tensor", 0.05), "momentum": 0.9, "dampening": 0.3, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "foreach": False, "fused": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": ("tensor", 0.01), "maximize": True, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (("tensor", 0.3), ("tensor", 0.6)), "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "fused": True, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01, "fused": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": ("tensor", 0.01), "betas": (0.5, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": ("tensor", 0.01), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.6, 0.7), "weight_decay": 0.1, "maximize": True}),
    ("RAdam", {"lr": ("tensor", 0.01), "betas": (0.6, 0.7), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": ("tensor", 0.01), "momentum": 0.9, "centered": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "eps": 1e-3}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": ("tensor", 0.1), "maximize": True, "fused": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": ("tensor", 0.5), "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.05, 0.2), "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": ("tensor", 0.05), "t0": 0}),
]

STATE_DICT_CASES = [case for case in CASES if "('tensor'" not in repr(case[1])]


def _convert(value, library):
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "tensor":
        return library.tensor(float(value[1]))
    if isinstance(value, tuple):
        return tuple(_convert(v, library) for v in value)
    return value


def _kwargs(kwargs, library):
    return {k: _convert(v, library) for k, v in kwargs.items()}


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, ember.Tensor):
        return value.detach().numpy()
    return value


def _assert_state_close(ember_value, torch_value, rtol, atol, where):
    if isinstance(torch_value, (list, tuple)):
        assert isinstance(ember_value, (list, tuple)) and len(ember_value) == len(torch_value), where
        for i, (e, t) in enumerate(zip(ember_value, torch_value)):
            _assert_state_close(e, t, rtol, atol, f"{where}[{i}]")
        return
    if isinstance(torch_value, torch.Tensor):
        assert isinstance(ember_value, ember.Tensor), f"{where}: {type(ember_value)}"
        assert str(ember_value.dtype) == str(torch_value.dtype).replace("torch", "ember"), where
        assert tuple(ember_value.shape) == tuple(torch_value.shape), where
        np.testing.assert_allclose(_to_numpy(ember_value), _to_numpy(torch_value), rtol=rtol, atol=atol,
                                   err_msg=where)
        return
    if isinstance(torch_value, float):
        np.testing.assert_allclose(float(ember_value), torch_value, rtol=rtol, atol=atol, err_msg=where)
        return
    assert ember_value == torch_value, where


def assert_optimizers_match(ember_opt, torch_opt, ember_params, torch_params, rtol, atol, label=""):
    for i, (ep, tp) in enumerate(zip(ember_params, torch_params)):
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"{label} param {i}")
    ember_state = ember_opt.state_dict()["state"]
    torch_state = torch_opt.state_dict()["state"]
    assert sorted(ember_state) == sorted(torch_state), label
    for index, torch_entries in torch_state.items():
        assert sorted(ember_state[index]) == sorted(torch_entries), f"{label} state {index}"
        for key, torch_value in torch_entries.items():
            _assert_state_close(ember_state[index][key], torch_value, rtol, atol, f"{label} state[{index}][{key!r}]")


def _make_params(rng, dtype):
    initial = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    return ([ember.nn.Parameter(ember.tensor(a.copy())) for a in initial],
            [torch.nn.Parameter(torch.tensor(a.copy())) for a in initial])


def _feed_gradients(rng, step, ember_params, torch_params, dtype):
    for i, (ep, tp) in enumerate(zip(ember_params, torch_params)):
        if i == 1 and step == 2:  # a parameter without a gradient this step is skipped
            ep.grad = tp.grad = None
            continue
        g = rng.standard_normal(SHAPES[i]).astype(dtype)
        ep.grad = ember.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())


def _has_tensor_option(kwargs):
    return "('tensor'" in repr(kwargs)


def _tolerances(dtype, kwargs=None):
    # Tensor hyper-parameters are float32: PyTorch's scalar arithmetic on them (pow, division) rounds to float32
    # in libm/Sleef routines that may differ from NumPy's by an ulp, even when the parameters are float64.
    if dtype == np.float32 or _has_tensor_option(kwargs):
        return 1e-5, 1e-6
    return 1e-11, 1e-12


def _case_id(case):
    return case[0] + "-" + ",".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch(case, dtype):
    name, kwargs = case
    rng = np.random.default_rng(0)
    ember_params, torch_params = _make_params(rng, dtype)
    ember_opt = getattr(ember.optim, name)(ember_params, **_kwargs(kwargs, ember))
    torch_opt = getattr(torch.optim, name)(torch_params, **_kwargs(kwargs, torch))
    rtol, atol = _tolerances(dtype, kwargs)
    for step in range(6):
        _feed_gradients(rng, step, ember_params, torch_params, dtype)
        ember_opt.step()
        torch_opt.step()
        assert_optimizers_match(ember_opt, torch_opt, ember_params, torch_params, rtol, atol, f"step {step}")
    assert [id(p) for p in ember_opt.param_groups[0]["params"]] == [id(p) for p in ember_params]


def _torch_to_ember(value):
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: _torch_to_ember(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_torch_to_ember(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_torch_to_ember(v) for v in value)
    return value


@pytest.mark.parametrize("case", STATE_DICT_CASES, ids=_case_id)
def test_state_dict_round_trips(case):
    name, kwargs = case
    dtype = np.float32
    rng = np.random.default_rng(1)
    ember_params, torch_params = _make_params(rng, dtype)
    ember_opt = getattr(ember.optim, name)(ember_params, **kwargs)
    torch_opt = getattr(torch.optim, name)(torch_params, **kwargs)
    rtol, atol = _tolerances(dtype)
    for step in range(3):
        _feed_gradients(rng, step, ember_params, torch_params, dtype)
        ember_opt.step()
        torch_opt.step()

    # ember -> ember: a fresh optimizer (different lr, restored by the load) continues on torch's path.
    saved = copy.deepcopy(ember_opt.state_dict())
    resumed = getattr(ember.optim, name)(ember_params, **{**kwargs, "lr": 123.0})
    resumed.load_state_dict(saved)
    # torch -> ember: torch's state dict, tensors converted, drives a third ember optimizer on its own params.
    from_torch_params = [ember.nn.Parameter(ember.tensor(tp.detach().numpy().copy())) for tp in torch_params]
    from_torch = getattr(ember.optim, name)(from_torch_params, **{**kwargs, "lr": 123.0})
    from_torch.load_state_dict(_torch_to_ember(torch_opt.state_dict()))
    assert_optimizers_match(from_torch, torch_opt, from_torch_params, torch_params, rtol, atol, "loaded from torch")

    for step in range(3, 6):
        _feed_gradients(rng, step, ember_params, torch_params, dtype)
        for ep, fp in zip(ember_params, from_torch_params):
            fp.grad = None if ep.grad is None else ember.tensor(ep.grad.numpy().copy())
        resumed.step()
        from_torch.step()
        torch_opt.step()
        assert_optimizers_match(resumed, torch_opt, ember_params, torch_params, rtol, atol, f"resumed step {step}")
        assert_optimizers_match(from_torch, torch_opt, from_torch_params, torch_params, rtol, atol,
                                f"from torch step {step}")


def _rosenbrock_closure(library, optimizer, x, s):
    def closure():
        optimizer.zero_grad()
        a, b = x[0], x[1]
        loss = (1 - a) ** 2 + 5 * (b - a ** 2) ** 2 + (s * a - 0.3) ** 2 + 0.1 * s ** 4
        loss.backward()
        return loss
    return closure


def _lbfgs_pair(dtype, kwargs):
    x0 = np.array([-1.2, 1.0], dtype=dtype)
    s0 = np.array(0.7, dtype=dtype)
    ember_params = [ember.nn.Parameter(ember.tensor(x0.copy())), ember.nn.Parameter(ember.tensor(s0.copy()))]
    torch_params = [torch.nn.Parameter(torch.tensor(x0.copy())), torch.nn.Parameter(torch.tensor(s0.copy()))]
    ember_opt = ember.optim.LBFGS(ember_params, **kwargs)
    torch_opt = torch.optim.LBFGS(torch_params, **kwargs)
    return ember_params, torch_params, ember_opt, torch_opt


LBFGS_CASES = [
    {"lr": 0.5, "max_iter": 5, "history_size": 3},
    {"lr": 0.5, "max_iter": 4, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"lr": 1, "max_iter": 6, "max_eval": 7, "history_size": 10, "line_search_fn": "strong_wolfe"},
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_lbfgs_matches_torch_trajectory(kwargs, dtype):
    ember_params, torch_params, ember_opt, torch_opt = _lbfgs_pair(dtype, kwargs)
    # float32: L-BFGS's curvature pairs are differences of nearby gradients, so ulp-level differences in the
    # closure's float32 gradients (ember's ops vs PyTorch's kernels) grow along the trajectory.
    # Near convergence the pairs are pure rounding noise in float32, so float32 stops after 3 steps.
    rtol, atol = (2e-3, 1e-4) if dtype == np.float32 else (1e-9, 1e-10)
    for step in range(3 if dtype == np.float32 else 5):
        ember_loss = ember_opt.step(_rosenbrock_closure(ember, ember_opt, *ember_params))
        torch_loss = torch_opt.step(_rosenbrock_closure(torch, torch_opt, *torch_params))
        np.testing.assert_allclose(ember_loss.item(), torch_loss.item(), rtol=rtol, atol=atol)
        assert_optimizers_match(ember_opt, torch_opt, ember_params, torch_params, rtol, atol, f"step {step}")


def test_lbfgs_state_dict_round_trip():
    kwargs = LBFGS_CASES[1]
    ember_params, torch_params, ember_opt, torch_opt = _lbfgs_pair(np.float64, kwargs)
    for _ in range(2):
        ember_opt.step(_rosenbrock_closure(ember, ember_opt, *ember_params))
        torch_opt.step(_rosenbrock_closure(torch, torch_opt, *torch_params))
    resumed = ember.optim.LBFGS(ember_params, **kwargs)
    resumed.load_state_dict(copy.deepcopy(ember_opt.state_dict()))
    from_torch_params = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in torch_params]
    from_torch = ember.optim.LBFGS(from_torch_params, **kwargs)
    from_torch.load_state_dict(_torch_to_ember(torch_opt.state_dict()))
    for step in range(2):
        resumed.step(_rosenbrock_closure(ember, resumed, *ember_params))
        from_torch.step(_rosenbrock_closure(ember, from_torch, *from_torch_params))
        torch_opt.step(_rosenbrock_closure(torch, torch_opt, *torch_params))
        assert_optimizers_match(resumed, torch_opt, ember_params, torch_params, 1e-9, 1e-10, f"resumed {step}")
        assert_optimizers_match(from_torch, torch_opt, from_torch_params, torch_params, 1e-9, 1e-10,
                                f"from torch {step}")


def test_lbfgs_rejects_groups_and_unknown_line_search():
    p = ember.nn.Parameter(ember.zeros(1))
    q = ember.nn.Parameter(ember.zeros(1))
    with pytest.raises(ValueError, match="per-parameter options"):
        ember.optim.LBFGS([{"params": [p]}, {"params": [q]}])
    opt = ember.optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
