"""Spectral normalization with the hook-based API (``torch.nn.utils.spectral_norm``), https://arxiv.org/abs/1802.05957.

``weight`` is divided by its largest singular value ``sigma``, estimated by power iteration: the Parameter moves to
``weight_orig`` and the singular-vector estimates live in the buffers ``weight_u`` and ``weight_v``. In training mode
every forward runs ``n_power_iterations`` steps (updating the buffers in place); in eval mode the stored vectors are
used as they are.

>>> import ember
>>> class Scale(ember.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.weight = ember.nn.Parameter(ember.tensor([[2.0, 0.0], [0.0, 1.0]]))
...     def forward(self, x):
...         return x @ self.weight
>>> m = ember.nn.utils.spectral_norm(Scale(), n_power_iterations=20)
>>> list(m.state_dict())
['weight_orig', 'weight_u', 'weight_v']
>>> _ = m(ember.ones(1, 2))
>>> m.weight
tensor([[1.0000, 0.0000],
        [0.0000, 0.5000]], grad_fn=<DivBackward0>)
"""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import Parameter, UninitializedParameter

__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook", "spectral_norm",
           "remove_spectral_norm"]

_CONV_TRANSPOSE = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


class SpectralNorm:
    """The forward pre-hook computing ``module.<name> = <name>_orig / sigma`` (see :func:`spectral_norm`).

    >>> SpectralNorm("weight", n_power_iterations=2).n_power_iterations
    2
    """

    # Version 1 (as torch): W is not a buffer, v is one, and eval mode uses u @ W_orig @ v instead of a stored W.
    _version: int = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(self.dim, *[d for d in range(weight_mat.dim()) if d != self.dim])
        height = weight_mat.size(0)
        return weight_mat.reshape(height, -1)

    def compute_weight(self, module, do_power_iteration: bool):
        from ember import ops
        from ember.nn import functional as F
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            # u and v are updated in place so that module copies sharing the buffers see the new estimates, then
            # cloned so that a graph built in an earlier forward keeps the values it saved.
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v = F.normalize(ops.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    u = F.normalize(ops.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                u = u.clone()
                v = v.clone()
        sigma = ops.dot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        # A v with u = normalize(W @ v) and u @ W @ v = sigma; pinverse in case W^T W is singular.
        from ember import ops
        from ember.linalg import multi_dot
        v = multi_dot([ops.pinverse(weight_mat.t().mm(weight_mat)), weight_mat.t(), u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / ops.dot(u, ops.mv(weight_mat, v)))

    @staticmethod
    def apply(module, name: str, n_power_iterations: int, dim: int, eps: float) -> "SpectralNorm":
        from ember.nn import functional as F
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying spectral normalization")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # Code (e.g. weight initialization) expects module.<name> to exist; a plain tensor attribute, not a Parameter.
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Converts a version-0 state dict (holding ``<name>`` and no ``<name>_v``) while loading.

    Given ``u = normalize(W_orig @ v)`` and ``W = W_orig / sigma``, it solves for ``v`` and rescales it.

    >>> SpectralNormLoadStateDictPreHook(SpectralNorm()).fn.name
    'weight'
    """

    def __init__(self, fn) -> None:
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is None or version < 1:
            weight_key = prefix + fn.name
            if (version is None and all(weight_key + s in state_dict for s in ("_orig", "_u", "_v"))
                    and weight_key not in state_dict):
                return  # a current state dict without metadata (e.g. built by hand)
            has_missing_keys = False
            for suffix in ("_orig", "", "_u"):
                key = weight_key + suffix
                if key not in state_dict:
                    has_missing_keys = True
                    if strict:
                        missing_keys.append(key)
            if has_missing_keys:
                return
            with no_grad():
                weight_orig = _as_tensor(state_dict[weight_key + "_orig"])
                weight = _as_tensor(state_dict.pop(weight_key))
                sigma = (weight_orig / weight).mean()
                weight_mat = fn.reshape_weight_to_matrix(weight_orig)
                u = _as_tensor(state_dict[weight_key + "_u"])
                v = fn._solve_v_and_rescale(weight_mat, u, sigma)
                state_dict[weight_key + "_v"] = v


class SpectralNormStateDictHook:
    """Records the spectral-norm version in the state-dict metadata.

    >>> SpectralNormStateDictHook(SpectralNorm()).fn._version
    1
    """

    def __init__(self, fn) -> None:
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata) -> None:
        if "spectral_norm" not in local_metadata:
            local_metadata["spectral_norm"] = {}
        key = self.fn.name + ".version"
        if key in local_metadata["spectral_norm"]:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        local_metadata["spectral_norm"][key] = self.fn._version


def _as_tensor(value):
    from ember.tensor import Tensor
    if isinstance(value, Tensor):
        return value
    from ember.nn.module import _to_numpy
    from ember.ops import tensor
    return tensor(_to_numpy(value))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim: int | None = None):
    """Divide ``module.<name>`` by its spectral norm (largest singular value), estimated by power iteration.

    ``dim`` is the output dimension (default 0, or 1 for ConvTranspose layers). Returns ``module``.

    >>> m = ember.nn.Module(); m.weight = ember.nn.Parameter(ember.ones(3, 2))
    >>> m = ember.nn.utils.spectral_norm(m)
    >>> m.weight_u.shape, m.weight_v.shape
    (ember.Size([3]), ember.Size([2]))
    """
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def _is_conv_transpose(module) -> bool:
    from ember import nn
    kinds = tuple(getattr(nn, kind) for kind in _CONV_TRANSPOSE if hasattr(nn, kind))
    return bool(kinds) and isinstance(module, kinds)


def remove_spectral_norm(module, name: str = "weight"):
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a Parameter holding the current normalized weight.

    >>> m = ember.nn.Module(); m.weight = ember.nn.Parameter(ember.ones(3, 2))
    >>> [n for n, _ in ember.nn.utils.remove_spectral_norm(ember.nn.utils.spectral_norm(m)).named_parameters()]
    ['weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for k, hook in module._state_dict_hooks.items():
        if isinstance(hook, SpectralNormStateDictHook) and hook.fn.name == name:
            del module._state_dict_hooks[k]
            break
    for k, hook in module._load_state_dict_pre_hooks.items():
        if isinstance(hook, SpectralNormLoadStateDictPreHook) and hook.fn.name == name:
            del module._load_state_dict_pre_hooks[k]
            break
    return module
