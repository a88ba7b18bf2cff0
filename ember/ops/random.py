"""Random numbers: the default Generator, seeding, random tensors, sampling ops and in-place random fills.

Every random op draws from a :class:`Generator` (a NumPy PCG64 stream), so one seed reproduces a run.
The streams are Ember's own: the same seed does not give PyTorch's numbers. Sampling ops with tensor inputs
(normal, bernoulli, poisson) are registered ops with their function, method and in-place forms; random tensors
made from Python values (rand, randint ...), multinomial and the in-place fills (uniform_, normal_ ...) are
functions registered with ``register_function``. The generator and seeding API (``Generator``,
``default_generator``, ``manual_seed``, ``seed``, ``initial_seed``, ``get_rng_state``, ``set_rng_state``) is
not made of ops: ``ember.ops`` exports it by name.

>>> import ember
>>> _ = ember.manual_seed(0); a = ember.rand(3)
>>> _ = ember.manual_seed(0); b = ember.rand(3)
>>> a.tolist() == b.tolist()
True
"""

from __future__ import annotations

import os


import numpy as np

from ember import dtypes as _dt
from ember import execution_hook as _execution_hook
from ember.autograd.grad_mode import STATE
from ember.device import CPU, to_device
from ember.errors import op_error
from ember.ops.creation import _creation_shape, _resolve_dtype, write_array_out
from ember.ops.registry import check_inplace_allowed, register_function, register_op, write_result_into
from ember.tensor import Tensor, from_array

_DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1
_MASK128 = (1 << 128) - 1
_STATE_BYTES = 8 + 16 + 16 + 1 + 4  # seed, PCG64 state and increment, has_uint32 flag, cached uint32
_C_TYPE_NAMES = {"int64": "long", "int32": "int", "int16": "short", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool", "float32": "float", "float64": "double",
                 "float16": "c10::Half", "bfloat16": "c10::BFloat16"}


class Generator:
    """A random number stream, as ``torch.Generator``: seed it, save and restore its state.

    >>> g = ember.Generator().manual_seed(42)
    >>> state = g.get_state(); a = ember.rand(2, generator=g)
    >>> ember.rand(2, generator=g.set_state(state)).tolist() == a.tolist()
    True
    """

    def __init__(self, device="cpu"):
        to_device(device)
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        return CPU

    def manual_seed(self, seed) -> "Generator":
        """Reseed the stream (any int; negative seeds wrap to 64 bits, as in PyTorch)."""
        if isinstance(seed, Tensor):
            seed = seed.item()
        if isinstance(seed, float) or not hasattr(seed, "__index__"):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        seed = seed.__index__() & _MASK64
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        new_seed = int.from_bytes(os.urandom(8), "little") >> 1  # 63 random bits
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The stream's state as a uint8 tensor (restore it with ``set_state``)."""
        state = self.rng.bit_generator.state
        parts = (self._seed.to_bytes(8, "little"), state["state"]["state"].to_bytes(16, "little"),
                 state["state"]["inc"].to_bytes(16, "little"), bytes([state["has_uint32"]]),
                 int(state["uinteger"]).to_bytes(4, "little"))
        return from_array(np.frombuffer(b"".join(parts), dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Restore a state returned by ``get_state``."""
        if not isinstance(new_state, Tensor) or new_state._dtype is not _dt.uint8:
            raise TypeError(f"RNG state must be a uint8 (ByteTensor) tensor from get_state(), got "
                            f"{getattr(new_state, 'dtype', type(new_state).__name__)}")
        raw = new_state._data.tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"RNG state is wrong size: expected {_STATE_BYTES} bytes from ember's get_state(), "
                               f"got {len(raw)} (a PyTorch RNG state can't be loaded into ember)")
        seed = int.from_bytes(raw[0:8], "little")
        bit_generator = np.random.PCG64()
        bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": int.from_bytes(raw[8:24], "little") & _MASK128,
                                         "inc": int.from_bytes(raw[24:40], "little") & _MASK128},
                               "has_uint32": raw[40], "uinteger": int.from_bytes(raw[41:45], "little")}
        self._seed = seed
        self.rng = np.random.Generator(bit_generator)
        return self

    def __repr__(self):
        return f"<ember.Generator object at {hex(id(self))}>"


default_generator = Generator()


def _rng(generator):
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator.rng


def manual_seed(seed) -> Generator:
    """Seed the default generator (and thus every random op that is not given a generator).

    >>> ember.manual_seed(1).initial_seed()
    1
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically and return the seed.

    >>> isinstance(ember.seed(), int)
    True
    """
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with.

    >>> _ = ember.manual_seed(5); ember.initial_seed()
    5
    """
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor (see ``set_rng_state``).

    >>> s = ember.get_rng_state(); a = ember.rand(1); ember.set_rng_state(s); ember.rand(1).tolist() == a.tolist()
    True
    """
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state from ``get_rng_state()``.

    >>> s = ember.get_rng_state(); ember.set_rng_state(s)
    """
    default_generator.set_state(new_state)


# ------------------------------------------------------------------------------------ helpers
def _size_args(size, size_kwarg, op_name):
    return _creation_shape(size, size_kwarg, op_name)


def _float_dtype(dtype, op_name, kernel):
    if dtype is None:
        return _dt._default[0]
    dt = _dt.to_dtype(dtype)
    if not dt.is_floating_point:
        raise op_error(NotImplementedError, op_name, f'"{kernel}" not implemented for \'{_dt.torch_type_name(dt)}\'')
    return dt


def _uniform01(rng, shape, dt):
    """Uniform [0, 1) with the dtype's mantissa bits of randomness, so the result never rounds up to 1."""
    if dt is _dt.float64:
        return rng.random(shape)
    if dt is _dt.float32:
        return rng.random(shape, dtype=np.float32)
    digits = 11 if dt is _dt.float16 else 8
    return (rng.integers(0, 1 << digits, size=shape, dtype=np.int32) * (1.0 / (1 << digits))).astype(np.float32)


def _standard_normal(rng, shape, dt):
    return rng.standard_normal(shape, dtype=np.float64 if dt is _dt.float64 else np.float32)


def _finish(arr, dt, requires_grad, out, op_name):
    arr = arr.astype(dt.numpy_dtype, copy=False)
    if out is not None:
        return write_array_out(out, arr, op_name)
    t = from_array(arr)
    if requires_grad:
        if dt.category != 2:
            raise op_error(RuntimeError, op_name, "Only Tensors of floating point and complex dtype can require "
                           f"gradients (got dtype {dt})")
        t._requires_grad = True
    return t


def _out_dtype(dtype, out, default, op_name):
    if out is None and dtype is None:
        return default
    return _resolve_dtype(dtype, out, default, op_name)


def dropout_mask(shape, p, dtype, generator=None) -> np.ndarray:
    """A NumPy keep-mask for dropout, already scaled: each value is 0 (probability ``p``) or ``1 / (1 - p)``.

    ``dtype`` is an ember or NumPy dtype; ``p == 1`` gives all zeros.

    >>> _ = ember.manual_seed(0); m = dropout_mask((1000,), 0.25, ember.float32)
    >>> sorted(set(m.tolist())), abs(float(m.mean()) - 1) < 0.1
    ([0.0, 1.3333333730697632], True)
    """
    hook = _execution_hook.ACTIVE
    if hook is not None:  # ember.compile draws a new mask at every call
        return hook.host_call(f"dropout_mask({tuple(shape)}, p={p})", lambda: dropout_mask(shape, p, dtype, generator),
                              outputs=True)
    dt = _dt.to_dtype(dtype)
    shape = tuple(shape)
    if p >= 1:
        return np.zeros(shape, dtype=dt.numpy_dtype)
    keep = _rng(generator).random(shape, dtype=np.float32) >= p
    if p <= 0:
        return np.ones(shape, dtype=dt.numpy_dtype)
    compute = np.float64 if dt is _dt.float64 else np.float32
    return (keep.astype(compute) * compute(1.0 / (1.0 - p))).astype(dt.numpy_dtype, copy=False)


# ------------------------------------------------------------------------------------ factories
@register_function
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **size_kwarg) -> Tensor:
    """Uniform samples in [0, 1).

    >>> ember.rand(2, 3).shape
    ember.Size([2, 3])
    """
    if device is not None:
        to_device(device)
    shape = _size_args(size, size_kwarg, "rand")
    dt = _float_dtype(_out_dtype(dtype, out, None, "rand"), "rand", "check_uniform_bounds")
    return _finish(_uniform01(_rng(generator), shape, dt), dt, requires_grad, out, "rand")


@register_function
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **size_kwarg) -> Tensor:
    """Standard normal samples.

    >>> ember.randn(4).dtype
    ember.float32
    """
    if device is not None:
        to_device(device)
    shape = _size_args(size, size_kwarg, "randn")
    dt = _float_dtype(_out_dtype(dtype, out, None, "randn"), "randn", "normal_kernel_cpu")
    return _finish(_standard_normal(_rng(generator), shape, dt), dt, requires_grad, out, "randn")


def _integer_bound(value, name, op_name):
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        value = int(value)
    if not isinstance(value, int):
        raise op_error(TypeError, op_name, f"{name} must be an int, got {type(value).__name__}")
    if not -(1 << 63) <= value < (1 << 63):
        raise op_error(ValueError, op_name, f"Overflow when unpacking long long: {name}={value}")
    return value


def _dtype_limits(dt):
    """The integer range a dtype can represent exactly (floats: +-2**mantissa bits)."""
    if dt.category == 1:
        info = np.iinfo(dt.numpy_dtype)
        return int(info.min), int(info.max)
    if dt.category == 0:
        return 0, 1
    digits = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}[dt.name]
    return -(1 << digits), 1 << digits


def _check_from_to(low, high, dt, op_name):
    if low >= high:
        raise op_error(RuntimeError, op_name, f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                       f"to={high}")
    lo, hi = _dtype_limits(dt)
    if not lo <= low <= hi:
        raise op_error(RuntimeError, op_name, f"from is out of bounds for {_C_TYPE_NAMES[dt.name]} "
                       f"(from={low}, valid range [{lo}, {hi}])")
    if not lo <= high - 1 <= hi:
        raise op_error(RuntimeError, op_name, f"to - 1 is out of bounds for {_C_TYPE_NAMES[dt.name]} "
                       f"(to={high}, valid range [{lo}, {hi}])")


def _random_integers(rng, low, high, shape, dt):
    values = rng.integers(low, high, size=shape, dtype=np.int64, endpoint=False)
    if dt is _dt.bfloat16:
        return values.astype(np.float32)
    return values


@register_function
def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False, low=None, high=None) -> Tensor:
    """Uniform integers in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)`` (int64 by
    default).

    >>> _ = ember.manual_seed(0); x = ember.randint(3, 7, (100,))
    >>> x.dtype, min(x.tolist()) >= 3, max(x.tolist()) < 7
    (ember.int64, True, True)
    """
    to_device(device)
    args = list(args)
    if size is None:
        if not args:
            raise op_error(TypeError, "randint", "missing the required argument 'size'")
        size = args.pop()
    if isinstance(size, (int, np.integer)):
        raise op_error(TypeError, "randint", f"argument 'size' must be tuple of ints, not int (got {size}); "
                       "write randint(high, (n,))")
    positional = args
    if high is None and positional:
        high = positional.pop()
    if low is None:
        low = positional.pop() if positional else 0
    if positional or high is None:
        raise op_error(TypeError, "randint", "expected randint(high, size) or randint(low, high, size)")
    low, high = _integer_bound(low, "low", "randint"), _integer_bound(high, "high", "randint")
    shape = _size_args((size,), {}, "randint")
    dt = _out_dtype(dtype, out, _dt.int64, "randint")
    _check_from_to(low, high, dt, "randint")
    return _finish(_random_integers(_rng(generator), low, high, shape, dt), dt, requires_grad, out, "randint")


@register_function
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1``.

    >>> _ = ember.manual_seed(0); sorted(ember.randperm(5).tolist())
    [0, 1, 2, 3, 4]
    """
    to_device(device)
    n = _integer_bound(n, "n", "randperm")
    if n < 0:
        raise op_error(RuntimeError, "randperm", f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = _out_dtype(dtype, out, _dt.int64, "randperm")
    if n > 0 and n - 1 > _dtype_limits(dt)[1]:
        raise op_error(RuntimeError, "randperm", f"value cannot be converted to type {dt.name} without overflow: "
                       f"n={n} is too large for {dt}")
    return _finish(_rng(generator).permutation(n), dt, requires_grad, out, "randperm")


def _like_dtype(input, dtype, op_name):
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"argument 'input' must be Tensor, not {type(input).__name__}")
    return input._dtype if dtype is None else _dt.to_dtype(dtype)


@register_function
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
              generator=None) -> Tensor:
    """Uniform [0, 1) samples with ``input``'s shape and dtype.

    >>> ember.rand_like(ember.zeros(2, dtype=ember.float64)).dtype
    ember.float64
    """
    to_device(device)
    dt = _float_dtype(_like_dtype(input, dtype, "rand_like"), "rand_like", "check_uniform_bounds")
    return _finish(_uniform01(_rng(generator), input._data.shape, dt), dt, requires_grad, None, "rand_like")


@register_function
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
               generator=None) -> Tensor:
    """Standard normal samples with ``input``'s shape and dtype.

    >>> ember.randn_like(ember.zeros(2, 3)).shape
    ember.Size([2, 3])
    """
    to_device(device)
    dt = _float_dtype(_like_dtype(input, dtype, "randn_like"), "randn_like", "normal_kernel_cpu")
    return _finish(_standard_normal(_rng(generator), input._data.shape, dt), dt, requires_grad, None, "randn_like")


@register_function
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, generator=None) -> Tensor:
    """Integers in ``[low, high)`` with ``input``'s shape and dtype: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``.

    >>> ember.randint_like(ember.zeros(3), 5).dtype
    ember.float32
    """
    to_device(device)
    if high is None:
        low, high = 0, low
    low, high = _integer_bound(low, "low", "randint_like"), _integer_bound(high, "high", "randint_like")
    dt = _like_dtype(input, dtype, "randint_like")
    _check_from_to(low, high, dt, "randint_like")
    values = _random_integers(_rng(generator), low, high, input._data.shape, dt)
    return _finish(values, dt, requires_grad, None, "randint_like")


# ------------------------------------------------------------------------------------ sampling ops
# Sampling ops with tensor inputs are registered so autograd records them: like PyTorch, their gradient
# with respect to every input is zero.
def _zero_grads(ctx, grad):
    return tuple(None if edge is None else grad * 0 for edge in ctx.next_edges)


@register_op
class Normal:
    """Normal samples: ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.0)``,
    ``normal(mean=0.0, std_tensor)`` or ``normal(mean, std, size)`` for numbers.

    >>> _ = ember.manual_seed(0); x = ember.normal(2.0, 0.5, (10000,))
    >>> abs(float(x.mean()) - 2.0) < 0.05
    True
    >>> ember.normal(ember.zeros(2, 1), ember.ones(3)).shape
    ember.Size([2, 3])
    """

    name = "normal"
    random = True
    kind = "opaque"
    allowed = {2}
    out = False

    def function(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False) -> Tensor:
        to_device(device)
        tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
        if not tensors:
            if size is None:
                raise op_error(TypeError, "normal", "with a number mean and std, give the output size: "
                               "normal(mean, std, size)")
            mean, std = _scalar(mean, "mean", "normal"), _scalar(std, "std", "normal")
            _check_std(std)
            shape = _size_args((size,), {}, "normal")
            dt = _float_dtype(_out_dtype(dtype, out, None, "normal"), "normal", "normal_kernel_cpu")
            values = mean + std * _standard_normal(_rng(generator), shape, dt)
            return _finish(values, dt, requires_grad, out, "normal")
        if size is not None:
            raise op_error(TypeError, "normal", "size is only accepted when mean and std are numbers")
        for t in tensors:
            if not t._dtype.is_floating_point:
                raise op_error(NotImplementedError, "normal", f'"normal_kernel_cpu" not implemented for '
                               f"'{_dt.torch_type_name(t._dtype)}'")
        if not isinstance(mean, Tensor):
            mean = _scalar(mean, "mean", "normal")
        if not isinstance(std, Tensor):
            std = _scalar(std, "std", "normal")
        _check_std(std)
        try:
            result = Normal(mean, std, generator=generator)
        except RuntimeError as e:
            if "broadcast" not in str(e):
                raise
            shapes = [tuple(t._data.shape) for t in tensors]
            raise op_error(RuntimeError, "normal", f"mean and std shapes {shapes[0]} and {shapes[-1]} can't be "
                           "broadcast together") from None
        if out is not None:
            return write_array_out(out, result._data, "normal")
        return result

    def forward(mean, std, generator=None):
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        dtype = np.result_type(mean, std)
        compute = np.float64 if dtype == np.float64 else np.float32
        noise = _rng(generator).standard_normal(shape, dtype=compute)
        return (np.asarray(mean, compute) + np.asarray(std, compute) * noise).astype(dtype)

    backward = _zero_grads


@register_op
class Bernoulli:
    """0/1 samples: with probabilities ``input`` (floating), or with a constant ``p`` in ``input``'s shape and
    dtype.

    >>> _ = ember.manual_seed(0); ember.bernoulli(ember.tensor([0.0, 1.0, 1.0]))
    tensor([0., 1., 1.])
    """

    name = "bernoulli"
    random = True
    kind = "opaque"
    promote = "none"
    method = True
    out = False

    def function(input, p=None, *, generator=None, out=None) -> Tensor:
        if not isinstance(input, Tensor):
            raise op_error(TypeError, "bernoulli", f"argument 'input' must be Tensor, not {type(input).__name__}")
        if p is not None:
            result = input.clone() if not input._requires_grad else input.detach().clone()
            return _bernoulli_fill(result, p, generator, "bernoulli")
        if not input._dtype.is_floating_point:
            raise op_error(NotImplementedError, "bernoulli", '"bernoulli_tensor_cpu_p_" not implemented for '
                           f"'{_dt.torch_type_name(input._dtype)}'")
        data = input._data
        if data.size and not bool(((data >= 0) & (data <= 1)).all()):
            raise op_error(RuntimeError, "bernoulli", "Expected p_in >= 0 && p_in <= 1 to be true, but got false: "
                           "every probability must be in [0, 1]")
        result = Bernoulli(input, generator=generator)
        if out is not None:
            return write_array_out(out, result._data, "bernoulli")
        return result

    def inplace(self, p=0.5, *, generator=None) -> Tensor:
        """Fill with 1 (probability ``p``, a number or a tensor) or 0.

        >>> ember.zeros(3).bernoulli_(1.0)
        tensor([1., 1., 1.])
        """
        return _bernoulli_fill(self, p, generator, "bernoulli_")

    def forward(p, generator=None):
        return (_rng(generator).random(p.shape) < p.astype(np.float64)).astype(p.dtype)

    backward = _zero_grads


@register_op
class Poisson:
    """Poisson samples with rates ``input`` (floating, non-negative).

    >>> _ = ember.manual_seed(0); x = ember.poisson(ember.full((10000,), 3.0))
    >>> abs(float(x.mean()) - 3.0) < 0.1
    True
    """

    name = "poisson"
    random = True
    kind = "opaque"
    promote = "none"
    out = False

    def function(input, generator=None) -> Tensor:
        if not isinstance(input, Tensor):
            raise op_error(TypeError, "poisson", f"argument 'input' must be Tensor, not {type(input).__name__}")
        if not input._dtype.is_floating_point:
            raise op_error(NotImplementedError, "poisson", f"\"poisson_cpu\" not implemented for "
                           f"'{_dt.torch_type_name(input._dtype)}'")
        if input._data.size and not bool((input._data >= 0).all()):
            raise op_error(RuntimeError, "poisson", "invalid Poisson rate, expected rate to be non-negative")
        return Poisson(input, generator=generator)

    def forward(rates, generator=None):
        return _rng(generator).poisson(rates.astype(np.float64)).astype(rates.dtype)

    backward = _zero_grads


@register_op
class RandomFill:
    """The values an in-place random fill (``uniform_``, ``normal_`` ...) writes; its gradient is zero."""

    name = "random_fill"
    random = True
    kind = "opaque"
    promote = "none"

    def forward(target, values):
        return values.astype(target.dtype, copy=False)

    backward = _zero_grads


def _check_std(std, op_name="normal"):
    if isinstance(std, Tensor):
        if std._data.size and bool((std._data < 0).any()):
            raise op_error(RuntimeError, op_name, "normal expects all elements of std >= 0.0")
    elif std < 0:
        raise op_error(RuntimeError, op_name, f"normal expects std >= 0.0, but found std {std}")


def _scalar(value, name, op_name):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise op_error(TypeError, op_name, f"{name} must be a number or a Tensor, got {type(value).__name__}")
    return float(value)


@register_function(method=True)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """Category indices drawn with probabilities proportional to the rows of ``input`` (1-D or 2-D); without
    replacement, the indices of each row are distinct.

    >>> _ = ember.manual_seed(0); ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 1)
    tensor([1])
    >>> sorted(ember.multinomial(ember.ones(4), 4).tolist())
    [0, 1, 2, 3]
    """
    if not isinstance(input, Tensor):
        raise op_error(TypeError, "multinomial", f"argument 'input' must be Tensor, not {type(input).__name__}")
    if not input._dtype.is_floating_point:
        raise op_error(RuntimeError, "multinomial", "multinomial only supports floating-point dtypes for input, "
                       f"got: {_dt.torch_type_name(input._dtype)}")
    data = input._data
    if data.ndim not in (1, 2):
        raise op_error(RuntimeError, "multinomial", f"prob_dist must be 1 or 2 dim, got shape {tuple(data.shape)}")
    num_samples = _integer_bound(num_samples, "num_samples", "multinomial")
    categories = data.shape[-1]
    if not replacement and num_samples > categories:
        raise op_error(RuntimeError, "multinomial", f"cannot sample n_sample > prob_dist.size(-1) samples without "
                       f"replacement (n_sample={num_samples}, {categories} categories)")
    if num_samples <= 0:
        raise op_error(RuntimeError, "multinomial", f"cannot sample n_sample <= 0 samples (got {num_samples})")
    if categories > (1 << 24):
        raise op_error(RuntimeError, "multinomial", "number of categories cannot exceed 2^24")
    probs = np.atleast_2d(data.astype(np.float64))
    if not bool((np.isfinite(probs) & (probs >= 0)).all()):
        raise op_error(RuntimeError, "multinomial", "probability tensor contains either `inf`, `nan` or element < 0")
    totals = probs.sum(axis=1)
    if not bool((totals > 0).all()):
        raise op_error(RuntimeError, "multinomial", "invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    if replacement:
        cumulative = np.cumsum(probs / totals[:, None], axis=1)
        cumulative[:, -1] = 1.0
        draws = rng.random((probs.shape[0], num_samples))
        picks = np.stack([np.searchsorted(c, d, side="right") for c, d in zip(cumulative, draws)])
        # A draw can land on a zero-width bucket only through rounding; move it to a category with mass.
        picks = np.minimum(picks, categories - 1)
    else:
        # Exponential race: the order of E_i / p_i (E_i ~ Exp(1)) is a draw without replacement.
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(probs.shape) / probs
        picks = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64)
    if data.ndim == 1:
        picks = picks[0]
    if out is not None:
        return write_array_out(out, picks, "multinomial")
    return from_array(picks)


# ------------------------------------------------------------------------------------ in-place fills
def _fill(self: Tensor, values: np.ndarray, op_name: str) -> Tensor:
    """Write sampled ``values`` into ``self`` as an in-place op: leaf checks, version bump, zero gradient."""
    check_inplace_allowed(self, op_name)
    if STATE.enabled and self._requires_grad:
        write_result_into(self, RandomFill(self, values=values), op_name)
        return self
    with np.errstate(all="ignore"):
        self._data[...] = values
    self._version.value += 1
    return self


def _require_float(self, op_name, kernel):
    if not self._dtype.is_floating_point:
        raise op_error(NotImplementedError, op_name, f'"{kernel}" not implemented for '
                       f"'{_dt.torch_type_name(self._dtype)}'")


@register_function(method=True)
def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs) -> Tensor:
    """Fill with uniform samples in ``[from, to)``.

    >>> x = ember.empty(1000).uniform_(2, 3).numpy(); bool(x.min() >= 2 and x.max() < 3)
    True
    """
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise op_error(TypeError, "uniform_", f"unexpected keyword arguments {sorted(kwargs)}")
    _require_float(self, "uniform_", "check_uniform_bounds")
    if from_ > to:
        raise op_error(RuntimeError, "uniform_", f"uniform_ expects to return a [from, to) range, but found "
                       f"from={from_} > to={to}")
    unit = _uniform01(_rng(generator), self._data.shape, self._dtype)
    compute = np.float64 if self._dtype is _dt.float64 else np.float32
    return _fill(self, (unit * compute(to - from_) + compute(from_)), "uniform_")


@register_function(method=True)
def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with normal samples.

    >>> _ = ember.manual_seed(0); x = ember.empty(10000).normal_(1.0, 2.0)
    >>> abs(float(x.mean()) - 1) < 0.1, abs(float(x.numpy().std()) - 2) < 0.1
    (True, True)
    """
    _require_float(self, "normal_", "normal_kernel_cpu")
    _check_std(std, "normal_")
    noise = _standard_normal(_rng(generator), self._data.shape, self._dtype)
    return _fill(self, mean + std * noise, "normal_")


@register_function(method=True)
def random_(self, from_=None, to=None, *, generator=None, **kwargs) -> Tensor:
    """Fill with integers: ``random_()`` spans the dtype (floats: ``[0, 2**mantissa]``), ``random_(to)`` is
    ``[0, to)``, ``random_(from, to)`` is ``[from, to)``.

    >>> sorted(set(ember.zeros(100, dtype=ember.int32).random_(-3, 3).tolist()))
    [-3, -2, -1, 0, 1, 2]
    """
    from_keyword = "from" in kwargs
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise op_error(TypeError, "random_", f"unexpected keyword arguments {sorted(kwargs)}")
    dt = self._dtype
    hi = _dtype_limits(dt)[1]
    if from_ is None and to is None:
        low, high = 0, hi + 1
    elif to is None and not from_keyword:
        low, high = 0, _integer_bound(from_, "to", "random_")
    else:
        low = 0 if from_ is None else _integer_bound(from_, "from", "random_")
        high = hi + 1 if to is None else _integer_bound(to, "to", "random_")
    _check_from_to(low, high, dt, "random_")
    values = _random_integers(_rng(generator), low, high, self._data.shape, dt)
    return _fill(self, values, "random_")


def _bernoulli_fill(self, p, generator, op_name):
    rng = _rng(generator)
    if isinstance(p, Tensor):
        probs = p._data.astype(np.float64)
        if probs.size and not bool(((probs >= 0) & (probs <= 1)).all()):
            raise op_error(RuntimeError, op_name, "Expected p_in >= 0 && p_in <= 1 to be true, but got false: "
                           "every probability must be in [0, 1]")
        try:
            probs = np.broadcast_to(probs, self._data.shape)
        except ValueError:
            raise op_error(RuntimeError, op_name, f"p of shape {tuple(p._data.shape)} can't be broadcast to the "
                           f"tensor's shape {tuple(self._data.shape)}") from None
    else:
        probs = float(p)
        if not 0 <= probs <= 1:
            raise op_error(RuntimeError, op_name, f"{op_name} expects p to be in [0, 1], but got p={p}")
    return _fill(self, rng.random(self._data.shape) < probs, op_name)


@register_function(method=True)
def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with exponential samples of rate ``lambd``.

    >>> _ = ember.manual_seed(0); x = ember.empty(10000).exponential_(2.0); abs(float(x.mean()) - 0.5) < 0.05
    True
    """
    if not self._dtype.is_floating_point:
        raise op_error(RuntimeError, "exponential_", "Exponential distribution is a continuous probability "
                       "distribution. dtype must be a floating point but you specified "
                       f"{_dt.torch_type_name(self._dtype)}")
    if not lambd > 0:
        raise op_error(RuntimeError, "exponential_", f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape), "exponential_")


@register_function(method=True)
def geometric_(self, p, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to the first success (values >= 1).

    >>> _ = ember.manual_seed(0); min(ember.empty(100).geometric_(0.3).tolist()) >= 1
    True
    """
    if not 0 < p < 1:
        raise op_error(RuntimeError, "geometric_", f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, _rng(generator).geometric(p, self._data.shape), "geometric_")


@register_function(method=True)
def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with samples whose logarithm is normal(``mean``, ``std``).

    >>> min(ember.empty(100).log_normal_().tolist()) > 0
    True
    """
    _require_float(self, "log_normal_", "log_normal_cpu")
    if not std > 0:
        raise op_error(RuntimeError, "log_normal_", f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(self, _rng(generator).lognormal(mean, std, self._data.shape), "log_normal_")


@register_function(method=True)
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with Cauchy samples.

    >>> _ = ember.manual_seed(0); x = ember.empty(10001).cauchy_(3.0, 1.0); abs(float(np.median(x.numpy())) - 3) < 0.1
    True
    """
    _require_float(self, "cauchy_", "cauchy_cpu")
    if not sigma > 0:
        raise op_error(RuntimeError, "cauchy_", f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    values = median + sigma * _rng(generator).standard_cauchy(self._data.shape)
    return _fill(self, values, "cauchy_")
