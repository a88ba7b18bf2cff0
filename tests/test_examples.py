"""Each script in examples/ runs in its short mode (EMBER_EXAMPLES_QUICK=1, as CI does), exits 0, and its loss falls."""

import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO_ROOT, "examples")


def run_example(name, *args, cwd):
    environment = dict(os.environ, EMBER_EXAMPLES_QUICK="1",
                       PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], cwd=cwd, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_loss_decreased(output):
    losses = [float(value) for value in re.findall(r"\bloss (\d+\.\d+)", output)]
    assert len(losses) >= 2, output
    assert losses[-1] < losses[0] and min(losses[1:]) < losses[0], output


@pytest.mark.parametrize("name", ["char_gpt.py", "lstm_sequence.py"])
def test_example_runs_and_learns(name, tmp_path):
    assert_loss_decreased(run_example(name, cwd=tmp_path))


def test_digits_cnn_then_finetune_from_its_checkpoint(tmp_path):
    output = run_example("digits_cnn.py", "--output", "digits.safetensors", cwd=tmp_path)
    assert_loss_decreased(output)
    assert float(re.search(r"test accuracy ([\d.]+)%", output).group(1)) > 80
    output = run_example("finetune_from_checkpoint.py", "digits.safetensors", cwd=tmp_path)
    assert_loss_decreased(output)
    assert float(re.search(r"even/odd test accuracy ([\d.]+)%", output).group(1)) > 80
    assert (tmp_path / "finetuned_parity.safetensors").exists()


def test_finetune_also_reads_ember_train_checkpoints(tmp_path):
    from ember.__main__ import main
    assert main(["train", "--epochs", "1", "--quiet", "--output", str(tmp_path / "ember-digits.safetensors")]) == 0
    assert_loss_decreased(run_example("finetune_from_checkpoint.py", cwd=tmp_path))
