"""The Optimizer base class against PyTorch: param groups, state_dict format and loading rules, hooks, zero_grad,
closures, constructor validation and repr."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember

OPTIMIZER_NAMES = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "Rprop",
                   "ASGD", "LBFGS"]


def _pair(shapes=((2, 3), (3,))):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ([ember.nn.Parameter(ember.tensor(a.copy())) for a in arrays],
            [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays])


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_repr_and_param_group_keys_match_torch(name):
    ember_params, torch_params = _pair()
    ember_opt = getattr(ember.optim, name)(ember_params)
    torch_opt = getattr(torch.optim, name)(torch_params)
    assert repr(ember_opt) == repr(torch_opt)
    ember_sd, torch_sd = ember_opt.state_dict(), torch_opt.state_dict()
    assert ember_sd["param_groups"] == torch_sd["param_groups"]
    assert ember_opt.defaults == torch_opt.defaults


def test_state_dict_indexes_params_across_groups():
    (a, b, c), (ta, tb, tc) = _pair(((2,), (3,), (1,)))
    ember_opt = ember.optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    torch_opt = torch.optim.SGD([{"params": [ta, tb]}, {"params": [tc], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p, tp in ((a, ta), (c, tc)):
        p.grad = ember.ones(p.shape)
        tp.grad = torch.ones(tp.shape)
    ember_opt.step()
    torch_opt.step()
    ember_sd, torch_sd = ember_opt.state_dict(), torch_opt.state_dict()
    assert ember_sd["param_groups"] == torch_sd["param_groups"]
    assert sorted(ember_sd["state"]) == sorted(torch_sd["state"]) == [0, 2]
    # The state dict holds the live state tensors, as PyTorch's does.
    assert ember_sd["state"][0]["momentum_buffer"] is ember_opt.state[a]["momentum_buffer"]


def test_step_state_is_a_float32_scalar_tensor():
    (p,), _ = _pair(((2,),))
    p.grad = ember.ones(2)
    opt = ember.optim.Adam([p])
    opt.step()
    step = opt.state[p]["step"]
    assert isinstance(step, ember.Tensor) and step.dtype == ember.float32 and step.shape == ()
    assert step.item() == 1.0


def test_load_state_dict_validates_groups_like_torch():
    (a, b), (ta, tb) = _pair()
    for opt_module, params in ((ember, (a, b)), (torch, (ta, tb))):
        one_group = opt_module.optim.SGD([params[0], params[1]], lr=0.1)
        two_groups = opt_module.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.1)
        with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter groups$"):
            one_group.load_state_dict(two_groups.state_dict())
        smaller = opt_module.optim.SGD([params[0]], lr=0.1)
        with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that doesn't match the "
                                             "size of optimizer's group$"):
            one_group.load_state_dict(smaller.state_dict())


def test_load_state_dict_casts_state_to_param_dtype_but_not_step():
    (p,), _ = _pair(((3,),))
    source = {"state": {0: {"step": ember.tensor(4.0, dtype=ember.float64),
                            "exp_avg": ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64),
                            "exp_avg_sq": ember.tensor([1.0, 1.0, 1.0], dtype=ember.float64)}},
              "param_groups": [ember.optim.Adam([p]).state_dict()["param_groups"][0]]}
    opt = ember.optim.Adam([p])
    opt.load_state_dict(source)
    assert opt.state[p]["exp_avg"].dtype == ember.float32
    assert opt.state[p]["step"].dtype == ember.float64
    fused = ember.optim.Adam([p], fused=True)
    fused_source = copy.deepcopy(source)
    fused_source["param_groups"][0]["fused"] = True
    fused.load_state_dict(fused_source)
    assert fused.state[p]["step"].dtype == ember.float32

    tp = torch.nn.Parameter(torch.zeros(3))
    torch_opt = torch.optim.Adam([tp])
    torch_opt.load_state_dict({"state": {0: {k: torch.tensor(v.numpy()) for k, v in source["state"][0].items()}},
                               "param_groups": [torch_opt.state_dict()["param_groups"][0]]})
    assert torch_opt.state[tp]["exp_avg"].dtype == torch.float32
    assert torch_opt.state[tp]["step"].dtype == torch.float64


def test_load_state_dict_converts_python_number_steps():
    (p,), _ = _pair(((2,),))
    opt = ember.optim.Adam([p])
    group = opt.state_dict()["param_groups"][0]
    opt.load_state_dict({"state": {0: {"step": 3, "exp_avg": ember.zeros(2), "exp_avg_sq": ember.zeros(2)}},
                         "param_groups": [group]})
    step = opt.state[p]["step"]
    assert isinstance(step, ember.Tensor) and step.item() == 3.0 and step.dtype == ember.float32


def test_load_state_dict_keeps_param_groups_options_and_names():
    model = ember.nn.Linear(2, 1)
    opt = ember.optim.SGD(model.named_parameters(), lr=0.3)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    fresh = ember.optim.SGD(model.named_parameters(), lr=0.9)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.param_groups[0]["lr"] == 0.3
    assert fresh.param_groups[0]["params"][0] is model.weight
    assert fresh.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_add_param_group_errors_match_torch():
    (a, b), (ta, tb) = _pair()
    for lib, p, q in ((ember, a, b), (torch, ta, tb)):
        opt = lib.optim.SGD([p], lr=0.1)
        with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
            opt.add_param_group({"params": [p]})
        with pytest.raises(TypeError, match="param_group must be a dict"):
            opt.add_param_group([q])
        with pytest.raises(TypeError, match="ordered collections"):
            opt.add_param_group({"params": {q}})
        with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
            opt.add_param_group({"params": [1]})
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            opt.add_param_group({"params": [q * 2]})
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt.add_param_group({"params": [q, q]})
        with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
            lib.optim.SGD([], lr=0.1)
        with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
            lib.optim.SGD(p, lr=0.1)
        with pytest.raises(ValueError, match="Some param names are missing"):
            lib.optim.SGD([("w", p), q], lr=0.1)
    opt = ember.optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0


def test_required_option_must_be_given():
    from ember.optim.optimizer import Optimizer, required

    class NeedsLr(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    (p,), _ = _pair(((1,),))
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        NeedsLr([p])
    assert NeedsLr([{"params": [p], "lr": 0.1}]).param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"lr": -1.0}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1}),
    ("SGD", {"nesterov": True}), ("SGD", {"momentum": 0.9, "nesterov": True, "dampening": 0.1}),
    ("SGD", {"lr": "tensor2"}), ("SGD", {"fused": True, "foreach": True}),
    ("Adam", {"betas": (1.0, 0.9)}), ("Adam", {"betas": (0.9, -0.1)}), ("Adam", {"eps": -1.0}),
    ("Adam", {"weight_decay": -0.1}), ("Adam", {"betas": (0.9, "tensor0.9")}),
    ("Adam", {"lr": "tensor0.1", "foreach": True}), ("AdamW", {"lr": -0.1}),
    ("Adamax", {"betas": (0.9, 1.0)}), ("NAdam", {"momentum_decay": -1.0}), ("RAdam", {"eps": -1.0}),
    ("RMSprop", {"alpha": -0.1}), ("RMSprop", {"momentum": -0.1}), ("Adagrad", {"lr_decay": -0.1}),
    ("Adagrad", {"initial_accumulator_value": -1.0}), ("Adadelta", {"rho": 1.5}), ("Rprop", {"etas": (1.5, 2.0)}),
    ("ASGD", {"weight_decay": -1.0}), ("LBFGS", {"lr": -1.0}),
])
def test_constructor_errors_match_torch(name, kwargs):
    def convert(value, lib):
        if isinstance(value, str) and value.startswith("tensor"):
            return lib.tensor([float(value[6:])] * 2) if value == "tensor2" else lib.tensor(float(value[6:]))
        if isinstance(value, tuple):
            return tuple(convert(v, lib) for v in value)
        return value

    (p,), (tp,) = _pair(((2,),))
    with pytest.raises(Exception) as torch_error:
        getattr(torch.optim, name)([tp], **{k: convert(v, torch) for k, v in kwargs.items()})
    with pytest.raises(type(torch_error.value)) as ember_error:
        getattr(ember.optim, name)([p], **{k: convert(v, ember) for k, v in kwargs.items()})
    assert str(ember_error.value) == str(torch_error.value)


def test_differentiable_is_refused_clearly():
    (p,), _ = _pair(((2,),))
    with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
        ember.optim.Adam([p], differentiable=True)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_foreach_true_runs_the_same_update_as_torch(name):
    ember_params, torch_params = _pair()
    ember_opt = getattr(ember.optim, name)(ember_params, lr=0.01, foreach=True)
    torch_opt = getattr(torch.optim, name)(torch_params, lr=0.01, foreach=True)
    rng = np.random.default_rng(3)
    for _ in range(3):
        for ep, tp in zip(ember_params, torch_params):
            g = rng.standard_normal(tuple(ep.shape)).astype(np.float32)
            ep.grad, tp.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
        ember_opt.step()
        torch_opt.step()
    for ep, tp in zip(ember_params, torch_params):
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_zero_grad():
    (p, q), _ = _pair()
    p.grad = ember.ones(2, 3)
    opt = ember.optim.SGD([p, q], lr=0.1)
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and np.all(p.grad.numpy() == 0) and q.grad is None
    opt.zero_grad()
    assert p.grad is None


def test_step_updates_parameters_in_place_and_returns_closure_loss():
    model = ember.nn.Linear(3, 2)
    weight, bias = model.weight, model.bias
    pointer = weight.data_ptr()
    before = weight.detach().numpy().copy()
    opt = ember.optim.Adam(model.parameters(), lr=0.1)
    x = ember.ones(4, 3)

    def closure():
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        assert ember.is_grad_enabled()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert isinstance(loss, ember.Tensor) and loss.requires_grad
    assert model.weight is weight and model.bias is bias and weight.data_ptr() == pointer
    assert not np.allclose(weight.detach().numpy(), before)
    assert opt.step() is None


def test_in_place_update_bumps_the_version_counter_like_torch():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.ones(2))
        saved = (p * p).sum()
        p.grad = lib.ones(2)
        lib.optim.SGD([p], lr=0.1).step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            saved.backward()


def test_step_hooks():
    (p,), _ = _pair(((1,),))
    p.grad = ember.ones(1)
    opt = ember.optim.SGD([p], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", args[1:], kwargs)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post",)))
    opt.step()
    assert calls == [("pre", (), {}), ("post",)]
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2

    def replace_closure(o, args, kwargs):
        return (args[0],), {"closure": lambda: 42.0}
    opt.register_step_pre_hook(replace_closure)
    assert opt.step() == 42.0

    bad = ember.optim.SGD([p])
    bad.register_step_pre_hook(lambda o, args, kwargs: 7)
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        bad.step()


def test_global_step_hooks():
    from ember.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
    (p,), _ = _pair(((1,),))
    p.grad = ember.ones(1)
    calls = []
    pre = register_optimizer_step_pre_hook(lambda o, a, k: calls.append(type(o).__name__))
    post = register_optimizer_step_post_hook(lambda o, a, k: calls.append("post"))
    try:
        ember.optim.Adam([p]).step()
        ember.optim.Rprop([p]).step()
    finally:
        pre.remove()
        post.remove()
    ember.optim.SGD([p]).step()
    assert calls == ["Adam", "post", "Rprop", "post"]


def test_state_dict_hooks():
    (p,), _ = _pair(((1,),))
    opt = ember.optim.SGD([p], lr=0.1)
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: order.append("pre-first"), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    assert order == ["pre-first", "pre"] and sd["extra"] == 1

    def set_lr(o, state_dict):
        state_dict = copy.deepcopy(state_dict)
        state_dict["param_groups"][0]["lr"] = 0.7
        return state_dict
    opt.register_load_state_dict_pre_hook(set_lr)
    opt.register_load_state_dict_post_hook(lambda o: order.append("loaded"))
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.7 and order[-1] == "loaded"


def test_optimizer_pickles_and_deep_copies():
    (p,), _ = _pair(((2,),))
    p.grad = ember.ones(2)
    opt = ember.optim.Adam([p], lr=0.1)
    opt.step()
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    clone_param = clone.param_groups[0]["params"][0]
    np.testing.assert_array_equal(clone.state[clone_param]["exp_avg"].numpy(), opt.state[p]["exp_avg"].numpy())
    copied = copy.deepcopy(opt)
    copied.param_groups[0]["params"][0].grad = ember.ones(2)
    copied.step()
    assert opt.state[p]["step"].item() == 1.0


def test_lr_may_be_changed_between_steps():
    ember_params, torch_params = _pair(((3,),))
    ember_opt = ember.optim.SGD(ember_params, lr=0.1, momentum=0.9)
    torch_opt = torch.optim.SGD(torch_params, lr=0.1, momentum=0.9)
    for lr in (0.1, 0.05, 0.01):
        for opt in (ember_opt, torch_opt):
            opt.param_groups[0]["lr"] = lr
        ember_params[0].grad = ember.ones(3)
        torch_params[0].grad = torch.ones(3)
        ember_opt.step()
        torch_opt.step()
    np.testing.assert_allclose(ember_params[0].detach().numpy(), torch_params[0].detach().numpy(), rtol=1e-6)


def test_training_loop_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    ember_model = ember.nn.Sequential(ember.nn.Linear(4, 5), ember.nn.Tanh(), ember.nn.Linear(5, 2))
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    ember_model.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                                 for k, v in torch_model.state_dict().items()})
    ember_opt = ember.optim.AdamW(ember_model.parameters(), lr=0.01)
    torch_opt = torch.optim.AdamW(torch_model.parameters(), lr=0.01)
    for _ in range(5):
        for model, opt, lib in ((ember_model, ember_opt, ember), (torch_model, torch_opt, torch)):
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
    for (name, ep), (_, tp) in zip(ember_model.named_parameters(), torch_model.named_parameters()):
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_no_torch_import_in_runtime():
    import pathlib
    for path in pathlib.Path(ember.optim.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "import torch" not in text, path


def test_duplicate_params_warning_only_once_per_group():
    (p,), _ = _pair(((1,),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.optim.SGD([p, p], lr=0.1)
    assert sum("duplicate parameters" in str(w.message) for w in caught) == 1


def test_user_defined_optimizer_subclass_gets_hooks_and_state_dict():
    class PlainSGD(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])
                        self.state[p]["seen"] = self.state[p].get("seen", 0) + 1

    p = ember.nn.Parameter(ember.ones(2))
    p.grad = ember.ones(2)
    opt = PlainSGD([p], lr=0.5)
    calls = []
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    assert calls == ["post"] and p.tolist() == [0.5, 0.5]
    assert opt.state_dict()["state"] == {0: {"seen": 1}}
    assert repr(opt) == "PlainSGD (\nParameter Group 0\n    lr: 0.5\n)"


def test_capturable_is_accepted_and_computes_the_same_update():
    results = []
    for capturable in (False, True):
        p = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
        opt = ember.optim.Adam([p], lr=0.1, capturable=capturable)
        for g in ([0.5, 0.1], [-0.2, 0.3]):
            p.grad = ember.tensor(g)
            opt.step()
        results.append(p.tolist())
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype, atol", [("float16", 2e-3), ("bfloat16", 1e-2)])
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_half_precision_parameters_follow_torch(name, dtype, atol):
    # Half-precision state stays in the parameter's dtype, as in PyTorch; NumPy rounds after every operation where
    # PyTorch's fused kernels round once, so the values agree to about an ulp.
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 5)).astype(np.float32)
    e = ember.nn.Parameter(ember.tensor(start).to(getattr(ember, dtype)))
    t = torch.nn.Parameter(torch.tensor(start).to(getattr(torch, dtype)))
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    ember_opt, torch_opt = getattr(ember.optim, name)([e], **kwargs), getattr(torch.optim, name)([t], **kwargs)
    for _ in range(4):
        g = rng.standard_normal((4, 5)).astype(np.float32)
        e.grad = ember.tensor(g).to(getattr(ember, dtype))
        t.grad = torch.tensor(g).to(getattr(torch, dtype))
        ember_opt.step()
        torch_opt.step()
    assert e.dtype == getattr(ember, dtype)
    assert all(v.dtype in (e.dtype, ember.float32) for v in ember_opt.state[e].values())
    np.testing.assert_allclose(e.float().detach().numpy(), t.float().detach().numpy(), atol=atol)
