"""A few training steps of a model, eager or compiled, for tests that compare the two."""

import ember


def train(build, x, target, compiled: bool, steps: int = 4):
    """``(losses, parameters after the steps, the step function)`` of ``build() -> (model, optimizer)`` trained on
    a squared error, with the whole step ``ember.compile``-d when ``compiled``."""
    model, opt = build()

    def step():
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    run = ember.compile(step) if compiled else step
    losses = [float(run()) for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], run
