"""Parity of ember.optim.lr_scheduler with torch.optim.lr_scheduler: learning rates (and cycled momenta/betas)
at every step, state_dict round trips, ReduceLROnPlateau, warnings and constructor errors."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.optim.lr_scheduler as ember_sched
import torch.optim.lr_scheduler as torch_sched

RTOL = 1e-12
TRACKED_KEYS = ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr", "base_momentum", "max_momentum",
                "swa_lr")


def _optimizers(opt_name="SGD", lrs=(0.1, 0.05), **kwargs):
    """The same two-group optimizer in torch and in ember (schedulers only touch param_groups)."""
    pairs = []
    for lib in (torch, ember):
        groups = [{"params": [lib.nn.Parameter(lib.zeros(2))], "lr": lr} for lr in lrs]
        opt_cls = getattr(lib.optim, opt_name)
        pairs.append(opt_cls(groups, **({"momentum": 0.9} if opt_name == "SGD" else {}) | kwargs))
    return pairs


def _group_values(optimizer):
    return [{key: group[key] for key in TRACKED_KEYS if key in group} for group in optimizer.param_groups]


def _assert_same(ember_value, torch_value, where=""):
    if isinstance(torch_value, (list, tuple)):
        assert isinstance(ember_value, (list, tuple)) and len(ember_value) == len(torch_value), where
        for e, t in zip(ember_value, torch_value):
            _assert_same(e, t, where)
    elif isinstance(torch_value, dict):
        assert set(ember_value) == set(torch_value), (where, set(ember_value) ^ set(torch_value))
        for key in torch_value:
            _assert_same(ember_value[key], torch_value[key], f"{where}[{key}]")
    elif isinstance(torch_value, torch.Tensor):
        assert isinstance(ember_value, ember.Tensor), where
        np.testing.assert_allclose(ember_value.numpy(), torch_value.numpy(), rtol=RTOL, err_msg=where)
    elif isinstance(torch_value, float):
        assert isinstance(ember_value, (float, int)) and math.isclose(ember_value, torch_value, rel_tol=RTOL, abs_tol=0), \
            (where, ember_value, torch_value)
    else:
        assert ember_value == torch_value, (where, ember_value, torch_value)


def _run(pair, n_steps, step_args=None):
    """Step optimizer then scheduler ``n_steps`` times in both libraries; compare at every step."""
    (torch_opt, torch_s), (ember_opt, ember_s) = pair
    for i in range(n_steps):
        _assert_same(ember_s.get_last_lr(), torch_s.get_last_lr(), f"get_last_lr at step {i}")
        _assert_same(_group_values(ember_opt), _group_values(torch_opt), f"param_groups at step {i}")
        torch_opt.step()
        ember_opt.step()
        args = () if step_args is None else (step_args[i],)
        torch_s.step(*args)
        ember_s.step(*args)
    _assert_same(ember_s.get_last_lr(), torch_s.get_last_lr(), "final get_last_lr")
    _assert_same(_group_values(ember_opt), _group_values(torch_opt), "final param_groups")


class _CallableFactor:
    """A callable object: its ``__dict__`` is saved in a LambdaLR state_dict (plain lambdas are not)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


# id -> (optimizer name, optimizer kwargs, factory(scheduler_module, optimizer), steps)
CASES = {
    "lambda": ("SGD", {}, lambda m, o: m.LambdaLR(o, lambda e: 0.9 ** e + 0.01 * e), 8),
    "lambda_list": ("SGD", {}, lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.5 ** (e // 2)]), 8),
    "multiplicative": ("SGD", {}, lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 0.8), 8),
    "step": ("SGD", {}, lambda m, o: m.StepLR(o, step_size=3, gamma=0.3), 10),
    "multistep": ("SGD", {}, lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 7], gamma=0.4), 10),
    "constant": ("SGD", {}, lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=4), 7),
    "linear": ("SGD", {}, lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=5), 9),
    "exponential": ("SGD", {}, lambda m, o: m.ExponentialLR(o, gamma=0.87), 8),
    "polynomial": ("SGD", {}, lambda m, o: m.PolynomialLR(o, total_iters=6, power=2.0), 9),
    "cosine": ("SGD", {}, lambda m, o: m.CosineAnnealingLR(o, T_max=5, eta_min=0.001), 23),
    "warm_restarts": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.002), 16),
    "cyclic_triangular": ("SGD", {}, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3), 14),
    "cyclic_triangular2": ("SGD", {}, lambda m, o: m.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=2,
                                                               step_size_down=3, mode="triangular2",
                                                               base_momentum=[0.7, 0.8], max_momentum=0.95), 16),
    "cyclic_exp_range": ("SGD", {}, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range",
                                                             gamma=0.9), 12),
    "cyclic_custom": ("SGD", {}, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.8 ** x,
                                                          scale_mode="iterations", cycle_momentum=False), 10),
    "cyclic_adam_betas": ("Adam", {}, lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=2), 9),
    "onecycle_cos": ("SGD", {}, lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=12), 12),
    "onecycle_linear_three_phase": ("SGD", {}, lambda m, o: m.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=4,
                                                                         anneal_strategy="linear", three_phase=True,
                                                                         pct_start=0.25), 12),
    "onecycle_adam_betas": ("Adam", {}, lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=10, div_factor=10.0,
                                                                  final_div_factor=100.0, base_momentum=0.8), 10),
    "onecycle_no_momentum": ("SGD", {}, lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=7,
                                                                  cycle_momentum=False), 7),
    "sequential": ("SGD", {}, lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=3),
                                                              m.ExponentialLR(o, gamma=0.9),
                                                              m.StepLR(o, step_size=2, gamma=0.5)],
                                                          milestones=[3, 6]), 11),
    "chained": ("SGD", {}, lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=3),
                                                            m.ExponentialLR(o, gamma=0.9),
                                                            m.CosineAnnealingLR(o, T_max=4)]), 10),
}


def _build(case):
    opt_name, opt_kwargs, factory, steps = CASES[case]
    torch_opt, ember_opt = _optimizers(opt_name, **opt_kwargs)
    return [(torch_opt, factory(torch_sched, torch_opt)), (ember_opt, factory(ember_sched, ember_opt))], steps


@pytest.mark.parametrize("case", list(CASES))
def test_schedule_matches_torch(case):
    pair, steps = _build(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right step order gives no warning
        _run(pair, steps)


@pytest.mark.parametrize("case", ["lambda", "multiplicative", "step", "multistep", "constant", "linear", "exponential",
                                  "polynomial", "cosine", "warm_restarts", "cyclic_triangular2", "cyclic_custom",
                                  "cyclic_adam_betas", "onecycle_linear_three_phase", "sequential", "chained"])
def test_state_dict_round_trip(case):
    pair, steps = _build(case)
    half = steps // 2
    _run(pair, half)
    (torch_opt, torch_s), (ember_opt, ember_s) = pair
    torch_state, ember_state = torch_s.state_dict(), ember_s.state_dict()
    _assert_same(ember_state, torch_state, "state_dict")
    pickle.dumps(ember_state)  # checkpoints pickle it

    # A fresh optimizer and scheduler that load both states continue exactly where the originals are.
    (_, _), (new_opt, new_s) = _build(case)[0]
    new_opt.load_state_dict(ember_opt.state_dict())
    new_s.load_state_dict(ember_state)
    _run([(torch_opt, torch_s), (new_opt, new_s)], steps - half)


def test_lambda_state_dict_saves_callable_objects_only():
    results = []
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([{"params": [lib.nn.Parameter(lib.zeros(1))]}, {"params": [lib.nn.Parameter(lib.zeros(1))]}],
                            lr=0.1)
        scheduler = module.LambdaLR(opt, [_CallableFactor(0.9), lambda e: 1.0])
        state = scheduler.state_dict()
        other = module.LambdaLR(opt, [_CallableFactor(0.5), lambda e: 1.0])
        other.load_state_dict(state)
        assert "lr_lambdas" in state  # the caller's dict is restored after loading
        results.append((state["lr_lambdas"], other.lr_lambdas[0].base))
    assert results[0] == results[1] == ([{"base": 0.9}, None], 0.9)


def test_closed_form_with_epoch_argument():
    for case, epochs in [("step", [3, 7, 2]), ("multistep", [5, 8, 1]), ("constant", [2, 6]), ("linear", [1, 4, 9]),
                         ("exponential", [3, 0]), ("polynomial", [2, 8]), ("cosine", [3, 11])]:
        pair, _ = _build(case)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _run(pair, len(epochs), step_args=epochs)
        messages = {str(w.message) for w in caught}
        assert messages == {ember_sched.EPOCH_DEPRECATION_WARNING}, (case, messages)


def test_warm_restarts_fractional_epochs():
    pair, _ = _build("warm_restarts")
    epochs = [0.5, 1.25, 2.0, 3.0, 4.75, 9.0, 9.5, 21.3, 2.2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(pair, len(epochs), step_args=epochs)
    torch_s, ember_s = pair[0][1], pair[1][1]
    assert (ember_s.T_cur, ember_s.T_i, ember_s.last_epoch) == (torch_s.T_cur, torch_s.T_i, torch_s.last_epoch)
    for module in (torch_sched, ember_sched):
        opt = pair[0][0] if module is torch_sched else pair[1][0]
        with pytest.raises(ValueError, match="Expected non-negative epoch"):
            module.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)


@pytest.mark.parametrize("case", ["cosine", "exponential", "multiplicative", "polynomial", "linear"])
def test_resume_with_last_epoch(case):
    """A scheduler created with last_epoch >= 0 (resuming) uses initial_lr; CosineAnnealingLR uses its closed
    form on the first step."""
    opt_name, opt_kwargs, factory, steps = CASES[case]
    pair = []
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = _optimizers(opt_name, **opt_kwargs)[0 if lib is torch else 1]
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"] * 2
        kwargs = {"last_epoch": 3}
        cls_factory = {"cosine": lambda o: module.CosineAnnealingLR(o, T_max=6, eta_min=0.001, **kwargs),
                       "exponential": lambda o: module.ExponentialLR(o, gamma=0.8, **kwargs),
                       "multiplicative": lambda o: module.MultiplicativeLR(o, lambda e: 0.9, **kwargs),
                       "polynomial": lambda o: module.PolynomialLR(o, total_iters=6, **kwargs),
                       "linear": lambda o: module.LinearLR(o, total_iters=6, **kwargs)}[case]
        pair.append((opt, cls_factory(opt)))
    _run(pair, 6)


def test_resume_without_initial_lr_raises():
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        with pytest.raises(KeyError, match="initial_lr"):
            module.StepLR(opt, step_size=2, last_epoch=4)


def test_initial_lr_is_kept_and_base_lrs_follow_it():
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        module.StepLR(opt, step_size=2)
        opt.param_groups[0]["lr"] = 0.5
        second = module.ExponentialLR(opt, gamma=0.5)
        assert opt.param_groups[0]["initial_lr"] == 0.1 and second.base_lrs == [0.1]


def test_tensor_learning_rate_stays_a_tensor():
    values = []
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=lib.tensor(0.1, dtype=lib.float64))
        lr_tensor = opt.param_groups[0]["lr"]
        scheduler = module.ExponentialLR(opt, gamma=0.5)
        for _ in range(3):
            opt.step()
            scheduler.step()
        last = scheduler.get_last_lr()[0]
        assert opt.param_groups[0]["lr"] is lr_tensor  # updated in place
        assert last is not lr_tensor  # get_last_lr returns copies
        values.append(float(last))
    assert values[0] == values[1] == 0.0125


METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 4.3, 3.0, 3.0, 3.5, 3.5, 3.5, 2.0, 2.1, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6]


@pytest.mark.parametrize("kwargs", [
    {},
    {"patience": 0, "factor": 0.5},
    {"patience": 1, "mode": "max", "threshold_mode": "abs", "threshold": 0.05},
    {"patience": 1, "mode": "max", "threshold": 0.1},
    {"patience": 1, "threshold_mode": "abs", "threshold": 0.2, "cooldown": 2, "factor": 0.3},
    {"patience": 0, "min_lr": [0.02, 0.001], "factor": 0.5},
    {"patience": 0, "eps": 0.02, "factor": 0.5},
])
def test_reduce_lr_on_plateau(kwargs):
    (torch_opt, ember_opt) = _optimizers()
    torch_s = torch_sched.ReduceLROnPlateau(torch_opt, **kwargs)
    ember_s = ember_sched.ReduceLROnPlateau(ember_opt, **kwargs)
    for i, metric in enumerate(METRICS):
        torch_opt.step(), ember_opt.step()
        torch_s.step(metric)
        ember_s.step(ember.tensor(metric) if i % 2 else metric)
        _assert_same(ember_s.get_last_lr(), torch_s.get_last_lr(), f"step {i}")
        for name in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "in_cooldown"):
            assert getattr(ember_s, name) == getattr(torch_s, name), (i, name)
    _assert_same(ember_s.state_dict(), torch_s.state_dict(), "state_dict")
    restored = ember_sched.ReduceLROnPlateau(ember_opt)
    restored.load_state_dict(ember_s.state_dict())
    assert restored._is_better(-1e9, restored.best) == ember_s._is_better(-1e9, ember_s.best)


def test_reduce_lr_on_plateau_new_param_group():
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
        default = module.ReduceLROnPlateau(opt, patience=0, min_lr=0.5)
        per_group = module.ReduceLROnPlateau(opt, patience=0, min_lr=[0.5])
        opt.add_param_group({"params": [lib.nn.Parameter(lib.zeros(1))], "lr": 1.0})
        for scheduler in (default, per_group):
            scheduler.step(1.0)
        default.step(2.0)
        assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]
        with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau` was initialized"):
            per_group.step(3.0)


def test_step_order_warnings():
    # Stepping the scheduler before the optimizer warns, as torch does; stepping in the right order does not.
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        scheduler = module.StepLR(opt, step_size=1)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
            scheduler.step()

        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        scheduler = module.StepLR(opt, step_size=1)
        opt.step = lambda closure=None: None
        with pytest.warns(UserWarning, match=r"Seems like `optimizer.step\(\)` has been overridden"):
            scheduler.step()

        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        scheduler = module.StepLR(opt, step_size=1)
        with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
            scheduler.get_lr()
        assert hasattr(opt.step, "_wrapped_by_lr_sched")
        module.ExponentialLR(opt, gamma=0.5)  # a second scheduler does not wrap step again
        assert opt.step.__wrapped__ is type(opt).step


def test_private_alias_and_exports():
    assert issubclass(ember_sched._LRScheduler, ember_sched.LRScheduler)
    assert ember_sched._LRScheduler.__name__ == "_LRScheduler"
    assert sorted(ember_sched.__all__) == sorted(torch_sched.__all__)
    assert ember.optim.lr_scheduler is ember_sched


def _errors(module, opt, opt_no_momentum):
    return [
        lambda: module.StepLR("not an optimizer", step_size=1),
        lambda: module.LambdaLR(opt, [lambda e: 1.0] * 3),
        lambda: module.MultiplicativeLR(opt, [1.0, 2.0]),
        lambda: module.ConstantLR(opt, factor=1.5),
        lambda: module.LinearLR(opt, start_factor=0.0),
        lambda: module.LinearLR(opt, end_factor=1.5),
        lambda: module.CosineAnnealingWarmRestarts(opt, T_0=0),
        lambda: module.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5),
        lambda: module.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"),
        lambda: module.CyclicLR(opt, 0.1, 1.0, mode="square"),
        lambda: module.CyclicLR(opt, [0.1], 1.0),
        lambda: module.CyclicLR(opt_no_momentum, 0.1, 1.0),
        lambda: module.OneCycleLR(opt, max_lr=1.0),
        lambda: module.OneCycleLR(opt, max_lr=1.0, total_steps=0),
        lambda: module.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=0),
        lambda: module.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1),
        lambda: module.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="cosine"),
        lambda: module.OneCycleLR(opt_no_momentum, max_lr=1.0, total_steps=10),
        lambda: module.ReduceLROnPlateau(opt, factor=1.0),
        lambda: module.ReduceLROnPlateau(opt, mode="mean"),
        lambda: module.ReduceLROnPlateau(opt, threshold_mode="pct"),
        lambda: module.ReduceLROnPlateau(opt, min_lr=[0.1]),
        lambda: module.SequentialLR(opt, [], milestones=[]),
        lambda: module.SequentialLR(opt, [module.StepLR(opt, 1), module.StepLR(opt, 2)], milestones=[]),
        lambda: module.SequentialLR(opt, [module.ReduceLROnPlateau(opt)], milestones=[]),
        lambda: module.SequentialLR(opt, [object()], milestones=[]),
        lambda: module.ChainedScheduler([]),
        lambda: module.ChainedScheduler([module.StepLR(opt, 1), module.StepLR(opt_no_momentum, 1)]),
    ]


def test_constructor_errors_match_torch():
    torch_opt, ember_opt = _optimizers()
    # An optimizer whose defaults have neither momentum nor betas.
    torch_plain, ember_plain = (type("Plain", (lib.optim.Optimizer,), {"step": lambda self, closure=None: None})(
        [lib.nn.Parameter(lib.zeros(1))], {"lr": 0.1}) for lib in (torch, ember))
    for torch_case, ember_case in zip(_errors(torch_sched, torch_opt, torch_plain),
                                      _errors(ember_sched, ember_opt, ember_plain)):
        with pytest.raises(Exception) as torch_error:
            torch_case()
        with pytest.raises(Exception) as ember_error:
            ember_case()
        assert type(ember_error.value) is type(torch_error.value), (torch_error.value, ember_error.value)
        if "different from" not in str(torch_error.value):  # that message holds the optimizer's repr
            assert str(ember_error.value) == str(torch_error.value)
    # Stepping OneCycleLR past total_steps is an error too.
    for lib, module in ((torch, torch_sched), (ember, ember_sched)):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1, momentum=0.9)
        scheduler = module.OneCycleLR(opt, max_lr=1.0, total_steps=2)
        opt.step(), scheduler.step(), opt.step(), scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
            scheduler.step()


def test_signatures_match_torch():
    import inspect

    import ember.optim.swa_utils as ember_swa
    import torch.optim.swa_utils as torch_swa

    def params(fn):
        return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]

    for torch_module, ember_module in ((torch_sched, ember_sched), (torch_swa, ember_swa)):
        for name in torch_module.__all__:
            torch_obj, ember_obj = getattr(torch_module, name), getattr(ember_module, name)
            if not inspect.isclass(torch_obj):
                assert params(ember_obj) == params(torch_obj), name
                continue
            for method in ("__init__", "step", "state_dict", "load_state_dict", "get_last_lr", "get_lr"):
                if hasattr(torch_obj, method):
                    assert params(getattr(ember_obj, method)) == params(getattr(torch_obj, method)), (name, method)
