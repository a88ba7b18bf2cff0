"""Normalization layers: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``,
``RMSNorm`` and ``LocalResponseNorm`` (``torch.nn`` semantics, including running statistics).

BatchNorm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers; in training they are
updated with ``momentum`` (or, with ``momentum=None``, as a cumulative average over the batches seen), and in
evaluation they replace the batch statistics.

>>> import ember
>>> from ember import nn
>>> bn = nn.BatchNorm1d(2)
>>> bn
BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
>>> bn(ember.tensor([[1.0, 10.0], [3.0, 20.0]]))
tensor([[-1.0000, -1.0000],
        [ 1.0000,  1.0000]], grad_fn=<BatchNormBackward0>)
>>> bn.running_mean, bn.num_batches_tracked
(tensor([0.2000, 1.5000]), tensor(1))
"""

from __future__ import annotations

import numbers
import warnings

import ember
from ember.nn import functional as F
from ember.nn.module import Module
from ember.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]



def _register_affine(module, shape, affine, bias, device, dtype):
    """Register ``weight`` (and ``bias`` when asked) of the given shape, or both as None when not affine."""
    module.register_parameter("weight", Parameter(ember.empty(shape, device=device, dtype=dtype)) if affine else None)
    module.register_parameter("bias", Parameter(ember.empty(shape, device=device, dtype=dtype)) if affine and bias else None)


def _reset_affine(module, affine):
    """Weight 1 and bias 0 (torch's default for every normalization layer)."""
    from ember.nn import init
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)

class _NormBase(Module):
    """Parameters and running-statistics buffers shared by BatchNorm and InstanceNorm."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, num_features, affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", ember.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ember.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", ember.tensor(0, dtype=ember.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the affine weight to 1 and bias to 0."""
        self.reset_running_stats()
        _reset_affine(self, self.affine)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return ("{num_features}, eps={eps}, momentum={momentum}, affine={affine}, bias={use_bias}, "
                "track_running_stats={track_running_stats}").format(**self.__dict__, use_bias=self.bias is not None)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # Checkpoints from before num_batches_tracked existed (torch < 0.4.1) still load, as in PyTorch.
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else ember.tensor(0, dtype=ember.long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        buffers = self._buffers
        running_mean, running_var = buffers["running_mean"], buffers["running_var"]
        momentum = self.momentum
        average_factor = 0.0 if momentum is None else momentum
        if self.training:
            bn_training = True  # batch statistics
            if self.track_running_stats:
                tracked = buffers["num_batches_tracked"]
                if tracked is not None:
                    # An int64 scalar counter: bumped in place without an op dispatch (this runs every step).
                    tracked._data[...] += 1
                    tracked._version.value += 1
                    if momentum is None:
                        average_factor = 1.0 / float(tracked._data)
            else:
                running_mean = running_var = None  # not updated
        else:
            # Evaluation uses the running statistics, or the batch's when there are none.
            bn_training = running_mean is None and running_var is None
        parameters = self._parameters
        return F.batch_norm(input, running_mean, running_var, parameters["weight"], parameters["bias"], bn_training,
                            average_factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    >>> bn = ember.nn.BatchNorm1d(3, momentum=None, affine=False)
    >>> _ = bn(ember.randn(4, 3)); _ = bn(ember.randn(4, 3))
    >>> int(bn.num_batches_tracked), bn.weight is None
    (2, True)
    """

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)`` input, per channel.

    >>> bn = ember.nn.BatchNorm2d(2).eval()
    >>> bn(ember.ones(1, 2, 2, 2)).shape
    ember.Size([1, 2, 2, 2])
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization over ``(N, C, D, H, W)`` input, per channel.

    >>> ember.nn.BatchNorm3d(2, track_running_stats=False)(ember.randn(2, 2, 2, 2, 2)).shape
    ember.Size([2, 2, 2, 2, 2])
    """

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _InstanceNorm(_NormBase):
    _no_batch_dim = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype,
                         bias=bias)

    def _check_input_dim(self, input):
        ndim = self._no_batch_dim
        if input.dim() not in (ndim, ndim + 1):
            raise ValueError(f"expected {ndim}D or {ndim + 1}D input (got {input.dim()}D input)")

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.size(feature_dim)}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        if input.dim() == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Normalize each channel of each sample of ``(N, C, L)`` (or ``(C, L)``) input over ``L``.

    >>> ember.nn.InstanceNorm1d(1)(ember.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.0000,  1.0000]]])
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Normalize each channel of each sample of ``(N, C, H, W)`` (or ``(C, H, W)``) input over ``H, W``.

    >>> norm = ember.nn.InstanceNorm2d(2, affine=True, track_running_stats=True)
    >>> norm
    InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> norm(ember.randn(3, 2, 4, 4)).shape
    ember.Size([3, 2, 4, 4])
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Normalize each channel of each sample of ``(N, C, D, H, W)`` input over ``D, H, W``.

    >>> ember.nn.InstanceNorm3d(1)(ember.randn(1, 1, 2, 2, 2)).shape
    ember.Size([1, 1, 2, 2, 2])
    """

    _no_batch_dim = 4


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims, with an elementwise affine transform.

    >>> norm = ember.nn.LayerNorm(2)
    >>> norm
    LayerNorm((2,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> norm(ember.tensor([[1.0, 3.0]]))
    tensor([[-1.0000,  1.0000]], grad_fn=<LayerNormBackward0>)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self, self.elementwise_affine)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return "{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, bias={use_bias}".format(
            **self.__dict__, use_bias=self.bias is not None)


class GroupNorm(Module):
    """Split the channels of ``(N, C, *)`` input into ``num_groups`` groups and normalize each group.

    >>> norm = ember.nn.GroupNorm(2, 4)
    >>> norm
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    >>> norm(ember.randn(3, 4, 5)).shape
    ember.Size([3, 4, 5])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self, self.affine)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return "{num_groups}, {num_channels}, eps={eps}, affine={affine}, bias={use_bias}".format(
            **self.__dict__, use_bias=self.bias is not None)


class RMSNorm(Module):
    """Scale by the reciprocal root-mean-square over the trailing ``normalized_shape`` dims.

    ``eps=None`` uses the dtype's machine epsilon, as PyTorch.

    >>> norm = ember.nn.RMSNorm(2)
    >>> norm
    RMSNorm((2,), eps=None, elementwise_affine=True)
    >>> norm(ember.tensor([[3.0, 4.0]]))
    tensor([[0.8485, 1.1314]], grad_fn=<RmsNormBackward0>)
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ember.empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight 1."""
        from ember.nn import init
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return "{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}".format(**self.__dict__)


class LocalResponseNorm(Module):
    """Normalize each position by the activity of ``size`` neighbouring channels (AlexNet's LRN).

    >>> lrn = ember.nn.LocalResponseNorm(2)
    >>> lrn
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    >>> lrn(ember.ones(1, 3, 2, 2)).shape
    ember.Size([1, 3, 2, 2])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
