"""The ``ember`` command: train, eval, predict, info, resume, data sources and the one-line errors (exit code 2)."""

import gzip
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.__main__ import main
from ember.cli.common import CLIError

from tests.cli.conftest import REPO_ROOT, run_ember

DIGITS_FILE = os.path.join(os.path.dirname(ember.__file__), "datasets", "data", "digits.csv.gz")


def raw_digits(count=5):
    """The first ``count`` rows of the shipped digits file: (pixel counts 0..16 (N, 64), labels)."""
    with gzip.open(DIGITS_FILE, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", max_rows=count)
    return table[:, :64], table[:, 64].astype(np.int64)


def final_accuracy(text):
    return float(re.search(r"test accuracy ([\d.]+)%", text).group(1))


def assert_one_line_error(capsys, code, command, *fragments):
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ember {command}: error: "), captured.err
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in captured.err


def test_train_saves_a_complete_checkpoint(trained_checkpoint):
    path, output = trained_checkpoint
    assert f"saved checkpoint to {path}" in output
    assert 80.0 <= final_accuracy(output) <= 100.0
    checkpoint = ember.load(path)
    assert checkpoint["epoch"] == 1
    assert checkpoint["config"]["model"] == {"name": "cnn", "input_shape": [1, 8, 8], "num_classes": 10, "width": 32}
    assert checkpoint["config"]["optimizer"]["name"] == "adam" and checkpoint["config"]["data"] == "digits"
    assert set(checkpoint["normalization"]) == {"mean", "std", "raw_max"} and checkpoint["normalization"]["raw_max"] == 16.0
    assert len(checkpoint["optimizer"]["state"]) == len(checkpoint["model"]) - 6  # BN running stats are buffers
    assert checkpoint["metrics"]["test_accuracy"] == pytest.approx(final_accuracy(output) / 100, abs=5e-4)


def test_train_prints_epoch_lines(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--epochs", "2", "--batch-size", "64", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^epoch 1/2  loss \d+\.\d{4}  train acc [\d.]+%  test acc [\d.]+%  \(\d+\.\d s\)$", out, re.M), out
    assert "epoch 2/2" in out and "test accuracy" in out
    assert os.path.exists(tmp_path / "ember-digits.safetensors")  # --output a folder: the default name inside it


def test_eval_reports_accuracy_and_confusion(trained_checkpoint, capsys):
    path, output = trained_checkpoint
    assert main(["eval", path]) == 0
    out = capsys.readouterr().out
    assert f"accuracy {final_accuracy(output):.1f}%" in out
    assert "(rows: true class, columns: predicted" in out and re.search(r"^\s+9\s+[\d.]+%\s+\d+", out, re.M)
    assert main(["eval", path, "--split", "train"]) == 0
    assert "1437 images" in capsys.readouterr().out


def test_predict_arrays_csv_and_top_k(trained_checkpoint, tmp_path, capsys):
    path, _ = trained_checkpoint
    pixels, labels = raw_digits()
    np.save(tmp_path / "raw.npy", pixels)  # raw counts 0..16: scaled like the training data
    np.save(tmp_path / "scaled.npy", (pixels / 16).reshape(5, 1, 8, 8).astype(np.float32))
    np.savetxt(tmp_path / "rows.csv", np.column_stack([pixels, labels]), delimiter=",", fmt="%d")
    assert main(["predict", path, str(tmp_path / "raw.npy"), str(tmp_path / "scaled.npy"), str(tmp_path / "rows.csv")]) == 0
    out = capsys.readouterr().out
    predictions = re.findall(r"^(\S+\[\d\])\s+(\d) \(([\d.]+)%\)$", out, re.M)
    assert len(predictions) == 15
    assert [int(p[1]) for p in predictions[:5]] == [int(p[1]) for p in predictions[5:10]] == [int(p[1]) for p in predictions[10:]]
    assert sum(int(p[1]) == label for p, label in zip(predictions[:5], labels)) >= 4
    assert "divided by 16" in out

    assert main(["predict", path, str(tmp_path / "raw.npy"), "--top-k", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("raw.npy[")]
    assert len(rows) == 5 and all(len(re.findall(r"\d \([\d.]+%\)", row)) == 3 for row in rows)


def test_predict_image_files(trained_checkpoint, tmp_path, capsys):
    image_module = pytest.importorskip("PIL.Image")
    path, _ = trained_checkpoint
    pixels, labels = raw_digits()
    folder = tmp_path / "images"
    folder.mkdir()
    for index, sample in enumerate(pixels):
        dark_on_light = (255 - sample.reshape(8, 8) * 255 / 16).astype(np.uint8)  # as a scanned digit looks
        image_module.fromarray(dark_on_light).resize((32, 32), image_module.NEAREST).save(folder / f"digit{index}.png")
    assert main(["predict", path, str(folder)]) == 0
    out = capsys.readouterr().out
    predicted = [int(digit) for digit in re.findall(r"^digit\d\.png\s+(\d) ", out, re.M)]
    assert len(predicted) == 5 and sum(p == label for p, label in zip(predicted, labels)) >= 4
    assert "inverted" in out


def test_resume_continues_from_the_saved_epoch(trained_checkpoint, tmp_path, capsys):
    path, _ = trained_checkpoint
    resumed = str(tmp_path / "resumed.safetensors")
    shutil.copy(path, resumed)
    assert main(["train", "--resume", resumed, "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "epoch 2/2" in out and "epoch 1/2" not in out
    assert main(["train", "--epochs", "2", "--quiet", "--output", str(tmp_path / "direct.safetensors")]) == 0
    capsys.readouterr()
    after_resume, direct = ember.load(resumed), ember.load(str(tmp_path / "direct.safetensors"))
    assert after_resume["epoch"] == direct["epoch"] == 2
    # The learning rate and the shuffling depend only on (seed, epoch): resuming reproduces the uninterrupted run.
    for name, value in direct["model"].items():
        np.testing.assert_allclose(after_resume["model"][name].numpy(), value.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)

    assert main(["train", "--resume", resumed]) == 0  # already at its last epoch: reports, trains nothing
    assert "already at epoch 2 of 2" in capsys.readouterr().out
    assert_one_line_error(capsys, main(["train", "--resume", resumed, "--model", "mlp"]), "train", "cnn model")


def test_data_sources(tmp_path, capsys):
    from ember.datasets import write_idx
    pixels, labels = raw_digits(300)
    images = np.kron(pixels.reshape(-1, 8, 8), np.ones((2, 2))).astype(np.uint8) * 15  # 16x16 uint8 "MNIST"
    np.savez(tmp_path / "split.npz", x_train=images[:240], y_train=labels[:240], x_test=images[240:], y_test=labels[240:])
    np.savetxt(tmp_path / "table.csv", np.column_stack([pixels, labels]), delimiter=",", fmt="%d")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, rows in (("train", slice(0, 240)), ("t10k", slice(240, None))):
        write_idx(str(raw / f"{prefix}-images-idx3-ubyte.gz"), images[rows])
        write_idx(str(raw / f"{prefix}-labels-idx1-ubyte.gz"), labels[rows].astype(np.uint8))
    for data, test_count in (("split.npz", 60), ("table.csv", 60), (".", 60)):
        output = str(tmp_path / f"{data.strip('.') or 'mnist'}.safetensors")
        assert main(["train", "--data", str(tmp_path / data), "--model", "mlp", "--epochs", "1", "--quiet", "--output", output]) == 0
        assert f"/{test_count})" in capsys.readouterr().out
        assert main(["eval", output]) == 0
        assert f"{test_count} images" in capsys.readouterr().out
    assert ember.load(str(tmp_path / "mnist.safetensors"))["config"]["model"]["input_shape"] == [1, 16, 16]


def test_info_reports_without_importing_torch(tmp_path):
    code = "import sys; from ember.__main__ import main; code = main(['info']); print('torch imported:', 'torch' in sys.modules)"
    environment = dict(os.environ, PYTHONPATH=REPO_ROOT)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=environment,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    for label in ("ember ", "python ", "numpy ", "BLAS ", "threads ", "CPU ", "extras "):
        assert re.search(rf"^{label}", result.stdout, re.M), result.stdout
    assert "torch " in result.stdout  # listed among the extras (found with find_spec) ...
    assert result.stdout.strip().endswith("torch imported: False")  # ... but never imported


def test_python_m_ember_train_in_a_subprocess(tmp_path):
    result = run_ember(["train", "--model", "mlp", "--epochs", "1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "epoch 1/1  loss" in result.stdout and "test accuracy" in result.stdout
    assert "saved checkpoint to ember-digits.safetensors" in result.stdout
    assert (tmp_path / "ember-digits.safetensors").exists()
    assert "%|" not in result.stderr and "batch/s" not in result.stderr  # no progress bar when output is not a terminal


def test_user_errors_are_one_line_with_exit_code_2(trained_checkpoint, tmp_path, capsys):
    path, _ = trained_checkpoint
    missing = str(tmp_path / "missing.safetensors")
    assert_one_line_error(capsys, main(["eval", missing]), "eval", "missing.safetensors", "no such file")
    assert_one_line_error(capsys, main(["predict", missing, "x.npy"]), "predict", "no such file")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    assert_one_line_error(capsys, main(["eval", str(corrupt)]), "eval", "cannot read it")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(open(path, "rb").read()[:-100])
    assert_one_line_error(capsys, main(["eval", str(truncated)]), "eval", "cannot read it")
    foreign = str(tmp_path / "weights.safetensors")
    ember.save({"weight": ember.ones(2)}, foreign)
    assert_one_line_error(capsys, main(["eval", foreign]), "eval", "not a checkpoint written by `ember train`")
    assert_one_line_error(capsys, main(["train", "--data", str(tmp_path / "nowhere")]), "train", "no such file or folder")
    assert_one_line_error(capsys, main(["eval", path, "--data", str(tmp_path)]), "eval", "MNIST")
    np.save(tmp_path / "bad.npy", np.zeros((3, 7)))
    assert_one_line_error(capsys, main(["predict", path, str(tmp_path / "bad.npy")]), "predict", "(3, 7)", "(N, 64)")
    np.save(tmp_path / "ok.npy", np.zeros((1, 64)))
    assert_one_line_error(capsys, main(["predict", path, str(tmp_path / "ok.npy"), "--top-k", "11"]), "predict", "10 classes")
    assert_one_line_error(capsys, main(["predict", path, str(tmp_path / "nothing.npy")]), "predict", "no such file")
    with pytest.raises(CLIError):
        main(["eval", missing, "--debug"])
    with pytest.raises(CLIError):
        main(["--debug", "eval", missing])
    assert main(["train", "--epochs", "0"]) == 2  # argparse's own usage error
    assert "positive integer" in capsys.readouterr().err


def test_errors_in_a_subprocess_have_no_traceback(tmp_path):
    result = run_ember(["eval", "missing.safetensors"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "ember eval: error: checkpoint missing.safetensors: no such file"


@pytest.mark.parametrize("input_shape", [[1, 8, 8], [1, 28, 28], [3, 32, 32], [1, 4, 6]])
def test_default_models_fit_any_image_size(input_shape):
    from ember.cli.models import build_model, default_config
    for name in ("cnn", "mlp"):
        model = build_model(default_config(name, input_shape, num_classes=7))
        assert model(ember.zeros(2, *input_shape)).shape == (2, 7)


def test_cnn_rejects_images_smaller_than_4x4(tmp_path, capsys):
    np.savez(tmp_path / "rows.npz", x=np.random.rand(50, 10).astype(np.float32), y=np.arange(50) % 2)
    code = main(["train", "--data", str(tmp_path / "rows.npz"), "--epochs", "1", "--output", str(tmp_path)])
    assert_one_line_error(capsys, code, "train", "--model cnn", "use the mlp model")
    assert main(["train", "--data", str(tmp_path / "rows.npz"), "--model", "mlp", "--epochs", "1", "--quiet",
                 "--output", str(tmp_path)]) == 0
