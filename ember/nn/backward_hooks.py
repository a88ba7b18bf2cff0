"""Module full backward hooks: identity Functions around a module's inputs and outputs catch the
gradients flowing through them (PyTorch's BackwardHook design)."""

from __future__ import annotations

from ember.autograd.function import Function
from ember.tensor import Tensor


class _GradientTap(Function):
    """Identity in forward; in backward hands the incoming gradients to ``callback``."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        replaced = ctx.callback(grads)
        return (None,) + tuple(replaced if replaced is not None else grads)


class BackwardHookState:
    """The gradients seen at one call of a module, shared by its input and output taps."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_tapped = False

    def wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = len([a for a in args if isinstance(a, Tensor)])
        if not positions:
            return args
        self.input_tapped = True
        tapped = _GradientTap.apply(self._on_input_grads, *[args[i] for i in positions])
        args = list(args)
        for i, t in zip(positions, tapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        outs = (output,) if single else output
        if not isinstance(outs, (tuple, list)):
            return output
        positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output
        tapped = _GradientTap.apply(self._on_output_grads, *[outs[i] for i in positions])
        new = list(outs)
        for i, t in zip(positions, tapped):
            new[i] = t
        return new[0] if single else type(outs)(new)

    def _on_output_grads(self, grads):
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_outputs = grads
        if not self.input_tapped:
            for hook in list(self.module._backward_hooks.values()):
                hook(self.module, (None,) * max(self.n_inputs, 1), grads)
        return grads

    def _on_input_grads(self, grads):
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grads, self.grad_outputs)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        return grads
