"""The default ``ember train`` (what the README's first command runs) reaches >= 97% test accuracy on the digits.

Speed is measured in bench/, never asserted here; on 2 quiet cores a run takes about 3 s and reaches 98.1-98.6%
over seeds 0..4 (`for s in 0 1 2 3 4; do ember train --seed $s --quiet; done`)."""

import re

import pytest

from tests.cli.conftest import run_ember


@pytest.mark.slow
def test_default_train_reaches_97_percent(tmp_path):
    result = run_ember(["train"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"^test accuracy ([\d.]+)%", result.stdout, re.M).group(1))
    assert accuracy >= 97.0, result.stdout
    assert len(re.findall(r"^epoch \d+/10  loss", result.stdout, re.M)) == 10
    assert (tmp_path / "ember-digits.safetensors").exists()
