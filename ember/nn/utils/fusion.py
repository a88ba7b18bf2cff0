"""Fold an eval-mode BatchNorm into the preceding Conv or Linear layer (``torch.nn.utils.fusion``).

For inference, ``bn(conv(x))`` equals ``fused(x)`` where the fused layer's weight is scaled per output channel by
``bn.weight / sqrt(running_var + eps)`` and its bias absorbs the running mean and ``bn.bias``.

>>> import ember
>>> w, b = ember.nn.utils.fuse_linear_bn_weights(ember.ones(2, 3), None, ember.zeros(2), ember.full((2,), 3.0), 1.0,
...                                               ember.tensor([1.0, 2.0]), ember.tensor([0.5, 0.0]))
>>> w
Parameter containing:
tensor([[0.5000, 0.5000, 0.5000],
        [1.0000, 1.0000, 1.0000]])
>>> b
Parameter containing:
tensor([0.5000, 0.0000])
"""

from __future__ import annotations

import copy

from ember.nn.parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` with the eval-mode ``bn`` that follows it folded into its weight and bias.

    Both modules must be in eval mode (``AssertionError`` otherwise, as torch). ``transpose=True`` for
    ConvTranspose layers (output channels on dim 1 of the weight).

    >>> conv, bn = ember.nn.Conv2d(2, 3, 1).eval(), ember.nn.BatchNorm2d(3).eval()
    >>> x = ember.randn(1, 2, 4, 4)
    >>> bool((ember.nn.utils.fuse_conv_bn_eval(conv, bn)(x) - bn(conv(x))).abs().max() < 1e-5)
    True
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_conv = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(fused_conv.weight, fused_conv.bias, bn.running_mean,
                                                              bn.running_var, bn.eps, bn.weight, bn.bias, transpose)
    return fused_conv


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b, transpose: bool = False):
    """The (weight, bias) Parameters of a convolution followed by batch norm with the given statistics.

    ``conv_b``, ``bn_w`` and ``bn_b`` may be None (zero bias, unit scale, zero shift).

    >>> w, b = ember.nn.utils.fuse_conv_bn_weights(ember.ones(2, 1, 1, 1), None, ember.zeros(2), ember.ones(2), 0.0,
    ...                                            None, None)
    >>> w.shape, b.requires_grad
    (ember.Size([2, 1, 1, 1]), False)
    """
    from ember import ops
    conv_weight_dtype = conv_w.dtype
    conv_bias_dtype = conv_b.dtype if conv_b is not None else conv_weight_dtype
    if conv_b is None:
        conv_b = ops.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ops.ones_like(bn_rm)
    if bn_b is None:
        bn_b = ops.zeros_like(bn_rm)
    bn_var_rsqrt = ops.rsqrt(bn_rv + bn_eps)
    if transpose:
        shape = [1, -1] + [1] * (len(conv_w.shape) - 2)
    else:
        shape = [-1, 1] + [1] * (len(conv_w.shape) - 2)
    fused_conv_w = (conv_w * (bn_w * bn_var_rsqrt).reshape(shape)).to(dtype=conv_weight_dtype)
    fused_conv_b = ((conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b).to(dtype=conv_bias_dtype)
    return Parameter(fused_conv_w, conv_w.requires_grad), Parameter(fused_conv_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with the eval-mode ``bn`` that follows it folded into its weight and bias.

    ``bn.num_features`` must equal ``linear.out_features`` or be 1.

    >>> lin, bn = ember.nn.Linear(3, 2).eval(), ember.nn.BatchNorm1d(2).eval()
    >>> x = ember.randn(4, 3)
    >>> bool((ember.nn.utils.fuse_linear_bn_eval(lin, bn)(x) - bn(lin(x))).abs().max() < 1e-5)
    True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_linear = copy.deepcopy(linear)
    # BatchNorm acts on the channel dim while Linear acts on the last one: the fused weight keeps the Linear's
    # shape only when the two broadcast together.
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
                             f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_linear.weight, fused_linear.bias = fuse_linear_bn_weights(fused_linear.weight, fused_linear.bias,
                                                                    bn.running_mean, bn.running_var, bn.eps,
                                                                    bn.weight, bn.bias)
    return fused_linear


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b):
    """The (weight, bias) Parameters of a linear layer followed by batch norm with the given statistics.

    >>> w, b = ember.nn.utils.fuse_linear_bn_weights(ember.ones(1, 2), ember.ones(1), ember.ones(1), ember.ones(1),
    ...                                              0.0, ember.ones(1), ember.zeros(1))
    >>> b
    Parameter containing:
    tensor([0.])
    """
    from ember import ops
    linear_weight_dtype = linear_w.dtype
    linear_bias_dtype = linear_b.dtype if linear_b is not None else linear_weight_dtype
    if linear_b is None:
        linear_b = ops.zeros_like(bn_rm)
    bn_scale = bn_w * ops.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * bn_scale.unsqueeze(-1).to(dtype=linear_weight_dtype)
    fused_b = ((linear_b - bn_rm) * bn_scale + bn_b).to(dtype=linear_bias_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
