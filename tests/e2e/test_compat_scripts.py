"""Ordinary PyTorch training scripts run unchanged under ``python -m ember.compat``; per-step losses match torch's.

Each script starts from the same weights (the torch run writes them, the Ember run loads them) and the same
data, then trains a few steps; every recorded loss must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")
EMBER_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))


def run(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SCRIPTS, EMBER_ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize("script, rtol", [
    ("mlp", 1e-4), ("cnn_bn", 1e-4), ("lstm_lm", 1e-4), ("transformer", 1e-4), ("gru_tagger", 1e-4)])
def test_script_losses_match_torch(script, rtol, tmp_path):
    path = os.path.join(SCRIPTS, f"{script}.py")
    init = str(tmp_path / "init.npz")
    run([path, "--init", init, "--out", str(tmp_path / "torch.json")], tmp_path)
    run(["-m", "ember.compat", path, "--init", init, "--out", str(tmp_path / "ember.json")], tmp_path)
    torch_losses = json.loads((tmp_path / "torch.json").read_text())
    ember_losses = json.loads((tmp_path / "ember.json").read_text())
    assert len(ember_losses) == len(torch_losses) > 5
    np.testing.assert_allclose(ember_losses, torch_losses, rtol=rtol, atol=1e-5)
    assert not np.allclose(torch_losses[0], torch_losses[-1]), "the script should actually train"
