"""ember.execution_hook: a hook that overrides nothing changes nothing, and ember.compile's capture refuses to
start beside another hook without leaving anything behind."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import execution_hook
from ember.optim import optimizer as optimizer_module


def _training_objects():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.5)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    return model, optimizer, scheduler


def _host_work(model, optimizer, scheduler):
    """The Python work the hook's host_call receives: zero_grad (module and optimizer), a scheduler step and a
    dropout mask; returns what they left."""
    model(ember.ones(1, 3)).sum().backward()
    model.zero_grad()
    model(ember.ones(1, 3)).sum().backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)
    scheduler.step()
    ember.manual_seed(1)
    dropped = ember.nn.functional.dropout(ember.ones(8), 0.5, training=True)
    return ([p.grad.numpy().copy() for p in model.parameters()], optimizer.param_groups[0]["lr"], dropped.numpy(),
            [p.detach().numpy().copy() for p in model.parameters()])


def test_a_hook_that_overrides_nothing_changes_nothing():
    expected = _host_work(*_training_objects())
    with execution_hook.installed(execution_hook.Hook()):
        watched = _host_work(*_training_objects())
    for want, got in zip(expected, watched):
        if isinstance(want, list):
            for a, b in zip(want, got):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(want, got)


def test_capture_beside_another_hook_raises_and_leaves_no_optimizer_hooks():
    before = (len(optimizer_module._global_optimizer_pre_hooks), len(optimizer_module._global_optimizer_post_hooks))
    with execution_hook.installed(execution_hook.Hook()):
        with pytest.raises(RuntimeError, match="another hook is installed"):
            ember.compiler.explain(lambda x: x * 2, ember.ones(2))
    after = (len(optimizer_module._global_optimizer_pre_hooks), len(optimizer_module._global_optimizer_post_hooks))
    assert after == before
    assert execution_hook.ACTIVE is None
