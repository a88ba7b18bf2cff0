"""Shared by the command-line tests: a checkpoint trained once per session, and how to run ``python -m ember``."""

import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a longer end-to-end check (under a minute); deselect with -m 'not slow'")


def run_ember(args, cwd, timeout=120):
    """Run ``python -m ember ARGS`` in a fresh interpreter that imports this checkout of Ember."""
    environment = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "ember", *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory):
    """A default CNN trained for one epoch on the digits: (checkpoint path, what `ember train` printed)."""
    import contextlib
    import io

    from ember.__main__ import main
    path = str(tmp_path_factory.mktemp("cli") / "digits.safetensors")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["train", "--epochs", "1", "--quiet", "--output", path])
    assert code == 0, output.getvalue()
    return path, output.getvalue()
