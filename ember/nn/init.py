"""``ember.nn.init``: fill parameters in place with the standard initializations (``torch.nn.init``).

Every function runs without recording autograd history, fills ``tensor`` in place and returns it;
random ones accept ``generator=`` (an ``ember.Generator``; the default generator otherwise).

>>> import ember
>>> w = ember.empty(3, 5)
>>> ember.nn.init.constant_(w, 0.5) is w
True
>>> _ = ember.manual_seed(0); b = ember.nn.init.kaiming_uniform_(ember.empty(64, 32), a=5 ** 0.5)
>>> bool(b.abs().max() <= 1 / 32 ** 0.5)
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember.autograd.grad_mode import no_grad
from ember.errors import op_error
from ember.ops.random import _require_float, _rng
from ember.tensor import Tensor, from_array

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
           "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _write(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Copy NumPy ``values`` into ``tensor`` in place (version bump, views honoured), outside autograd."""
    with no_grad():
        tensor.copy_(from_array(np.asarray(values)))
    return tensor


def _compute_dtype(tensor):
    return np.float64 if tensor.dtype.itemsize == 8 else np.float32


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``nn.functional`` name), as ``torch.nn.init.calculate_gain``.

    >>> ember.nn.init.calculate_gain("tanh"), round(ember.nn.init.calculate_gain("leaky_relu", 0.2), 6)
    (1.6666666666666667, 1.38675)
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise op_error(ValueError, "calculate_gain", f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically by PyTorch (pytorch/pytorch#50664)
    raise op_error(ValueError, "calculate_gain", f"Unsupported nonlinearity {nonlinearity}; expected one of {list(_LINEAR_FNS)} or "
                     "'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b).

    >>> x = ember.nn.init.uniform_(ember.empty(100), -2, 2); bool(x.min() >= -2 and x.max() < 2)
    True
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std²).

    >>> _ = ember.manual_seed(0); x = ember.nn.init.normal_(ember.empty(10000), 1.0, 0.5)
    >>> abs(float(x.mean()) - 1) < 0.05
    True
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) samples restricted to [a, b] (values outside are redrawn).

    >>> x = ember.nn.init.trunc_normal_(ember.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool(x.min() >= -0.5 and x.max() <= 0.5)
    True
    """
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    _require_float(tensor, "trunc_normal_", "normal_kernel_cpu")
    rng = _rng(generator)
    shape = tuple(tensor.shape)
    compute = _compute_dtype(tensor)
    lo, hi = float(np.asarray(a, compute)), float(np.asarray(b, compute))

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
        # Most normal draws land in [a, b]: redraw only the ones that fall outside.
        values = (mean + std * rng.standard_normal(shape)).astype(compute)
        outside = (values < lo) | (values > hi)
        while outside.any():
            values[outside] = (mean + std * rng.standard_normal(int(outside.sum()))).astype(compute)
            outside = (values < lo) | (values > hi)
    else:
        # Narrow window: rejection sampling from U(a, b) against the normal density scaled to peak 1 in [a, b].
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        values = rng.uniform(a, b, shape)
        pending = np.log(rng.random(shape)) > (-0.5 * ((values - mean) / std) ** 2 - log_peak)
        while pending.any():
            count = int(pending.sum())
            candidates = rng.uniform(a, b, count)
            accept = np.log(rng.random(count)) <= (-0.5 * ((candidates - mean) / std) ** 2 - log_peak)
            index = np.flatnonzero(pending)[accept]
            values.reshape(-1)[index] = candidates[accept]
            pending.reshape(-1)[index] = False
        values = np.clip(values.astype(compute), lo, hi)
    return _write(tensor, values)


def constant_(tensor, val):
    """Fill with ``val``.

    >>> ember.nn.init.constant_(ember.empty(3), 0.3)
    tensor([0.3000, 0.3000, 0.3000])
    """
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill with ones.

    >>> ember.nn.init.ones_(ember.empty(2))
    tensor([1., 1.])
    """
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor):
    """Fill with zeros.

    >>> ember.nn.init.zeros_(ember.empty(2))
    tensor([0., 0.])
    """
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-d tensor with the identity matrix (as many inputs preserved as possible in a Linear layer).

    >>> ember.nn.init.eye_(ember.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.ndimension() != 2:
        raise op_error(ValueError, "eye_", f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta (identity convolution), per group.

    >>> w = ember.nn.init.dirac_(ember.empty(2, 2, 3)); w[:, :, 1]
    tensor([[1., 0.],
            [0., 1.]])
    """
    dimensions = tensor.ndimension()
    if dimensions not in (3, 4, 5):
        raise op_error(ValueError, "dirac_", f"Only tensors with 3, 4, or 5 dimensions are supported (got shape {tuple(tensor.shape)})")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise op_error(ValueError, "dirac_", f"dim 0 must be divisible by groups (dim 0 is {sizes[0]}, groups={groups})")
    out_chans_per_group = sizes[0] // groups
    min_dim = min(out_chans_per_group, sizes[1])
    values = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_chans_per_group + d, d) + centre] = 1
    return _write(tensor, values)


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.dim()
    if dimensions < 2:
        raise op_error(ValueError, "nn.init", "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)})")
    shape = tuple(tensor.shape)
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> x = ember.nn.init.xavier_uniform_(ember.empty(3, 5)); bool(x.abs().max() <= 0.5 ** 0.5 * 1.5)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> ember.nn.init.xavier_normal_(ember.empty(3, 5)).shape
    ember.Size([3, 5])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise op_error(ValueError, "nn.init", f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    >>> x = ember.nn.init.kaiming_uniform_(ember.empty(4, 6), nonlinearity="relu"); bool(x.abs().max() <= 1.0)
    True
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std²) with ``std = gain / sqrt(fan)``.

    >>> ember.nn.init.kaiming_normal_(ember.empty(4, 6), mode="fan_out", nonlinearity="relu").shape
    ember.Size([4, 6])
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0, gain / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix; dimensions after the first are flattened.

    >>> q = ember.nn.init.orthogonal_(ember.empty(3, 5)); bool(((q @ q.T) - ember.eye(3)).abs().max() < 1e-5)
    True
    """
    if tensor.ndimension() < 2:
        raise op_error(ValueError, "orthogonal_", f"Only tensors with 2 or more dimensions are supported (got shape {tuple(tensor.shape)})")
    _require_float(tensor, "orthogonal_", "normal_kernel_cpu")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    compute = _compute_dtype(tensor)
    flattened = _rng(generator).standard_normal((rows, cols)).astype(compute)
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    # Sign-fix by R's diagonal so Q is uniformly distributed (Haar), as torch does.
    q = q * np.sign(np.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-d tensor with N(0, std²) and zero ``ceil(sparsity * rows)`` random entries in each column.

    >>> w = ember.nn.init.sparse_(ember.empty(10, 3), sparsity=0.2); [(w[:, c] == 0).sum().item() for c in range(3)]
    [2, 2, 2]
    """
    if tensor.ndimension() != 2:
        raise op_error(ValueError, "sparse_", f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})")
    _require_float(tensor, "sparse_", "normal_kernel_cpu")
    rows, cols = tuple(tensor.shape)
    num_zeros = math.ceil(sparsity * rows)
    rng = _rng(generator)
    values = std * rng.standard_normal((rows, cols))
    for col_idx in range(cols):
        values[rng.permutation(rows)[:num_zeros], col_idx] = 0
    return _write(tensor, values.astype(_compute_dtype(tensor)))


def _make_deprecate(method):
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return method(*args, **kwargs)

    deprecated_init.__doc__ = f"Deprecated alias of ``{new_name}``."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
