"""ember.compat: `import torch` resolves to Ember; probes answer; missing APIs raise NotImplementedError naming them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import ember
import ember.compat


@pytest.fixture
def fake_torch():
    ember.compat.install()
    try:
        import torch
        yield torch
    finally:
        ember.compat.uninstall()


def test_torch_and_submodules_resolve_to_ember(fake_torch):
    import torch.nn
    import torch.nn.functional as F
    import torch.optim
    assert torch.nn is ember.nn and F is ember.nn.functional and torch.optim is ember.optim
    assert fake_torch.Tensor is ember.Tensor and fake_torch.float32 is ember.float32
    assert fake_torch.tensor([1.0, 2.0]).sum().item() == 3.0
    assert ember.nn.__spec__.name == "ember.nn", "aliasing must not rename ember's own modules"


def test_device_probes_answer_like_a_cpu_only_torch(fake_torch):
    assert fake_torch.cuda.is_available() is False and fake_torch.cuda.device_count() == 0
    assert fake_torch.backends.mps.is_available() is False
    assert fake_torch.accelerator.is_available() is False
    assert str(fake_torch.device("cpu")) == "cpu"
    assert fake_torch.__version__ == ember.__version__
    fake_torch.cuda.manual_seed_all(0)  # seeding "just in case" keeps working
    fake_torch.backends.cudnn.benchmark = True
    with pytest.raises(RuntimeError, match="no CUDA device"):
        fake_torch.cuda.current_device()


def test_missing_api_raises_not_implemented_naming_it(fake_torch):
    with pytest.raises(NotImplementedError, match=r"torch\.no_such_function is not implemented in Ember"):
        fake_torch.no_such_function
    assert not hasattr(fake_torch, "no_such_function")
    import torch.no_such_module as unused  # importing a module Ember lacks works; using it fails clearly
    with pytest.raises(NotImplementedError, match=r"torch\.no_such_module\.thing is not implemented in Ember"):
        unused.thing
    with pytest.raises(NotImplementedError, match=r"torch\.no_such_module\.Thing is not implemented in Ember"):
        from torch.no_such_module import Thing  # noqa: F401


def test_uninstall_restores_the_real_torch():
    import torch as real
    ember.compat.install()
    import torch as fake
    assert fake is not real
    ember.compat.uninstall()
    import torch as again
    assert again is real


def test_command_line_runs_a_script_with_arguments(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        print(torch.__name__, torch.nn.Module.__module__, sys.argv[1:])
        """))
    root = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    done = subprocess.run([sys.executable, "-m", "ember.compat", str(script), "--lr", "0.1"], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["torch", "ember.nn.module", "['--lr',", "'0.1']"]
