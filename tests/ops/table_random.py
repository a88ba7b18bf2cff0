"""Op table entries: random sampling (ember/ops/random.py).

Random draws differ from PyTorch's generator, so these entries compare shapes, dtypes and gradients' shapes only
(``compare=False``); tests/test_random.py checks the distributions.
"""

from tests.ops.harness import ALL_FLOATS, FLOATS, OpInfo, Sample, T, inplace

OPS = [
    OpInfo("normal", fn=lambda lib, mean, std: lib.normal(mean, std), compare=False, dtypes=FLOATS,
           samples=[Sample((3, 4), T((3, 4), low=0.5, high=2.0)), Sample((3, 4), T((4,), low=0.5, high=2.0))]),
    OpInfo("bernoulli", compare=False, dtypes=ALL_FLOATS, grad=False,
           samples=[Sample(T((3, 4), low=0.0, high=1.0)), Sample(T((), low=0.0, high=1.0))]),
    OpInfo("poisson", compare=False, dtypes=FLOATS, grad=False, samples=[Sample(T((3, 4), low=0.0, high=5.0))]),
    OpInfo("uniform_", fn=inplace("uniform_"), compare=False, dtypes=FLOATS, samples=[Sample((3, 4))]),
    OpInfo("normal_", fn=inplace("normal_"), compare=False, dtypes=FLOATS, samples=[Sample((3, 4))]),
]
