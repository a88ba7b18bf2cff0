"""Pointwise C kernels of the compiled executor (tanh-GELU forward and backward) against eager NumPy."""

import re

import numpy as np
import pytest

import ember
from ember import flags
from ember.kernels import pointwise, loader as kernels
from ember.ops.activation import _gelu_derivative_np, _gelu_saving
from ember.ops.registry import REGISTRY
from tests.compiler.training import train

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


def _inputs(n=100_003, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    x[:8] = [0.0, -0.0, 1e-6, -3e-4, 9.0, -9.0, 40.0, -40.0]
    return x, rng.standard_normal(n).astype(np.float32)


@pytest.fixture
def numpy_gelu(monkeypatch):
    """Eager GELU on its NumPy passes (no C kernel), the reference the kernels are held to."""
    monkeypatch.setitem(pointwise._STATE, ("eager", flags.FUSED_GELU), False)


@needs_compiler
def test_gelu_tanh_matches_eager_within_float32(numpy_gelu):
    x, _ = _inputs()
    out, t = pointwise.gelu_tanh(x)
    expected_out, expected_t = _gelu_saving(x, "tanh")
    np.testing.assert_allclose(t, expected_t, rtol=2e-6, atol=5e-7)
    np.testing.assert_allclose(out, expected_out, rtol=2e-6, atol=1e-6)


@needs_compiler
def test_gelu_tanh_backward_is_eager_bit_for_bit(numpy_gelu):
    x, grad = _inputs()
    _, t = _gelu_saving(x, "tanh")
    expected = _gelu_derivative_np(x, "tanh", saved=t) * grad
    np.testing.assert_array_equal(pointwise.gelu_tanh_backward(grad, x, t), expected)


def _compiled_gelu_step():
    """A compiled step (Linear, tanh-GELU, sum, backward) and its eager loss."""
    ember.manual_seed(0)
    layer = ember.nn.Linear(8, 8)
    x = ember.randn(4, 8)

    @ember.compile
    def step():
        layer.zero_grad()
        loss = ember.nn.functional.gelu(layer(x), approximate="tanh").sum()
        loss.backward()
        return loss

    return step, float(ember.nn.functional.gelu(layer(x), approximate="tanh").sum())


@needs_compiler
def test_eager_gelu_uses_the_kernels_within_float32_of_the_exact_function():
    x, _ = _inputs(seed=2)
    value, kept = _gelu_saving(x, "tanh")
    assert kept is None  # nothing kept for backward: the slope kernel recomputes the tanh term
    slope = _gelu_derivative_np(x, "tanh")
    exact = x.astype(np.float64)
    t = np.tanh(np.sqrt(2 / np.pi) * (exact + 0.044715 * exact ** 3))
    exact_value = 0.5 * exact * (1 + t)
    exact_slope = 0.5 * (1 + t) + 0.5 * exact * (1 - t * t) * np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * exact ** 2)
    np.testing.assert_allclose(value, exact_value, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(slope, exact_slope, rtol=0, atol=1e-5)  # the slope cancels where it is near 0


@needs_compiler
def test_rematerialized_gelu_gives_the_saving_kernels_bits():
    x, grad = _inputs(seed=1)
    out, t = pointwise.gelu_tanh(x)
    value, no_tanh = pointwise.gelu_tanh(x, keep_tanh=False)
    assert no_tanh is None
    np.testing.assert_array_equal(value, out)
    np.testing.assert_array_equal(pointwise.gelu_tanh_backward(grad, x), pointwise.gelu_tanh_backward(grad, x, t))


@needs_compiler
def test_compiled_step_keeps_no_tanh_term_for_backward(monkeypatch):
    gelu = REGISTRY["gelu"]  # the compiled step runs the op's replay_forward (the kernel, keeping no tanh term)
    original = gelu.replay_forward
    kept = []

    def recording(ctx, x, **attrs):
        result = original(ctx, x, **attrs)
        kept.append(ctx.saved)
        return result

    monkeypatch.setattr(gelu, "replay_forward", recording)
    step, eager_loss = _compiled_gelu_step()
    losses = [float(step()) for _ in range(3)]
    assert kept == [None, None]
    assert losses == pytest.approx([eager_loss] * 3, rel=1e-6)


def test_gelu_kernels_decline_what_they_do_not_cover():
    x = np.ones((4, 3), np.float64)
    assert pointwise.gelu_tanh(x) is None
    assert pointwise.gelu_tanh(np.ones((4, 6), np.float32)[:, ::2]) is None
    assert pointwise.gelu_tanh_backward(np.ones(3, np.float32), np.ones(4, np.float32), np.ones(4, np.float32)) is None


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_compiled_gelu_mlp_training_equals_eager(approximate):
    def build():
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(16, 64), ember.nn.GELU(approximate=approximate), ember.nn.Linear(64, 4))
        return model, ember.optim.Adam(model.parameters(), lr=1e-2)

    x = ember.randn(32, 16)
    target = ember.randn(32, 4)
    eager_losses, eager_params, _ = train(build, x, target, compiled=False, steps=5)
    losses, params, _ = train(build, x, target, compiled=True, steps=5)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for a, b in zip(params, eager_params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@needs_compiler
def test_compiled_step_runs_the_gelu_kernels(monkeypatch):
    gelu = REGISTRY["gelu"]  # the compiled step runs the op's replay_forward/replay_backward: the kernels
    calls = {"forward": 0, "backward": 0}

    def counting(name, replay):
        def run(*args, **kwargs):
            calls[name] += 1
            return replay(*args, **kwargs)
        return run

    monkeypatch.setattr(gelu, "replay_forward", counting("forward", gelu.replay_forward))
    monkeypatch.setattr(gelu, "replay_backward", counting("backward", gelu.replay_backward))
    step, _ = _compiled_gelu_step()
    for _ in range(3):
        step()
    assert calls == {"forward": 2, "backward": 2}  # the first call captures eagerly


def test_capture_frees_intermediates_as_eager_does():
    import weakref
    seen = []

    def fn(x):
        hidden = (x * 2).exp()
        seen.append(weakref.ref(hidden._data))
        del hidden
        return (x + 1).sum()

    compiled = ember.compile(fn)
    compiled(ember.ones(1000))
    assert seen[0]() is None  # a dead intermediate is not kept alive by the recorder
    assert float(compiled(ember.ones(1000))) == 2000.0


def test_the_c_constants_are_nn_activations_rounded_to_float32():
    from ember.ops.activation import _GELU_KAPPA, _SQRT_2_OVER_PI
    defined = dict(re.findall(r"#define EMBER_GELU_(\w+) (\S+)f\n", kernels.read_source("pointwise.c")))
    expected = {"KAPPA": _GELU_KAPPA, "SQRT_2_OVER_PI": _SQRT_2_OVER_PI, "D_CUBIC": 1.5 * _GELU_KAPPA * _SQRT_2_OVER_PI,
                "D_LINEAR": 0.5 * _SQRT_2_OVER_PI}
    assert {name: np.float32(value) for name, value in defined.items()} == {
        name: np.float32(value) for name, value in expected.items()}


def test_eager_elu_leaves_the_kernels_alone_when_they_are_switched_off(monkeypatch):
    # EMBER_FUSED_KERNELS=0: eager mode never loads or runs a C kernel, and ELU is NumPy's expm1.
    monkeypatch.setenv("EMBER_FUSED_KERNELS", "0")
    monkeypatch.setitem(pointwise._STATE, ("eager", None), None)  # checked afresh here, forgotten afterwards

    def no_library():
        raise AssertionError("the C kernels were loaded with EMBER_FUSED_KERNELS=0")

    monkeypatch.setattr(pointwise, "library", no_library)
    x, _ = _inputs(1000)
    expected = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    np.testing.assert_array_equal(ember.nn.functional.elu(ember.from_numpy(x)).numpy(), expected)
    assert pointwise.expm1_float32(x) is None


@needs_compiler
def test_expm1_float32_is_libm_expm1f():
    import ctypes
    import ctypes.util
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.expm1f.restype = ctypes.c_float
    libm.expm1f.argtypes = [ctypes.c_float]
    x, _ = _inputs(2000)
    expected = np.array([libm.expm1f(float(v)) for v in x], np.float32)
    np.testing.assert_array_equal(pointwise.expm1_float32(x), expected)
