"""ember.load on files written by torch.save: every dtype, views and shared storages, Parameters, safety."""

from __future__ import annotations

import collections
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember import serialization

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD_FILE_ERRORS = (RuntimeError, ValueError, pickle.UnpicklingError)


class Settings:
    """A custom class that torch.save pickles by reference to this module."""

    def __init__(self, width):
        self.width = width

    def __eq__(self, other):
        return isinstance(other, Settings) and other.width == self.width


def torch_file(obj, tmp_path, name="ckpt.pt", **save_kwargs):
    path = tmp_path / name
    torch.save(obj, path, **save_kwargs)
    return path


def assert_matches_torch(expected, actual, path="obj"):
    """ember's load of a torch file equals torch's load of it: types (mapped), dtypes, shapes, values."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, ember.Tensor), path
        assert type(actual).__name__ == type(expected).__name__, path
        assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1], path
        assert tuple(actual.shape) == tuple(expected.shape), path
        assert actual.requires_grad == expected.requires_grad, path
        expected_values = expected.detach()
        if expected.dtype == torch.bfloat16:
            expected_values, actual_values = expected_values.float().numpy(), actual.detach().float().numpy()
        else:
            expected_values, actual_values = expected_values.numpy(), actual.detach().numpy()
        np.testing.assert_array_equal(actual_values, expected_values, err_msg=path)
    elif isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected), path
        for key in expected:
            assert_matches_torch(expected[key], actual[key], f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)) and not isinstance(expected, torch.Size):
        assert type(actual) is type(expected) and len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_matches_torch(e, a, f"{path}[{i}]")
    elif isinstance(expected, torch.Size):
        assert type(actual) is ember.Size and tuple(actual) == tuple(expected), path
    elif isinstance(expected, torch.dtype):
        assert actual is getattr(ember, str(expected).split(".")[1]), path
    elif isinstance(expected, torch.device):
        assert isinstance(actual, ember.device) and str(actual) == str(expected), path
    else:
        assert type(actual) is type(expected) and actual == expected, path


def load_both(path, **kwargs):
    return torch.load(path, **kwargs), ember.load(path, **kwargs)


TORCH_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16,
                torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
def test_every_dtype(dtype, tmp_path):
    values = torch.tensor([[0, 1, -2], [3, 100, -128]]).to(dtype)
    path = torch_file({"t": values, "scalar": values[1, 1].clone(), "empty": torch.zeros(0, 2, dtype=dtype),
                       "strided": values.t()}, tmp_path)
    expected, actual = load_both(path)
    assert_matches_torch(expected, actual)
    assert_matches_torch(expected, ember.load(path, mmap=True))


def test_views_and_shared_storage_share_memory(tmp_path):
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"base": base, "row": base[2], "column": base[:, 3], "block": base[1:3, 2:5], "transposed": base.t(),
           "expanded": base[0, :1].expand(3, 5), "flat": base.view(-1)[5:17:3]}
    path = torch_file(obj, tmp_path)
    expected, actual = load_both(path)
    assert_matches_torch(expected, actual)
    for name in obj:
        assert actual[name].stride() == expected[name].stride(), name
        assert actual[name].storage_offset() == expected[name].storage_offset(), name
    actual["base"][2, 3] = -1.0
    expected["base"][2, 3] = -1.0
    assert_matches_torch(expected, actual)
    assert actual["row"][3].item() == -1.0 and actual["column"][2].item() == -1.0


def test_parameters_ordered_dicts_and_plain_values(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    obj = {
        "state_dict": model.state_dict(),
        "parameter": torch.nn.Parameter(torch.randn(2, 2)),
        "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
        "leaf": torch.ones(3, requires_grad=True),
        "nested": {"list": [1, 2.5, "x", None, True], "tuple": (torch.ones(1), (torch.zeros(1),)), 3: {4: "five"}},
        "size": torch.Size([2, 3]), "dtype": torch.bfloat16, "device": torch.device("cpu"),
        "set": {1, 2}, "bytes": b"\x00\xffraw", "complex": 1 - 2j, "bytearray": bytearray(b"ab"),
        "counter": collections.Counter("abca"), "ordered": collections.OrderedDict(b=1, a=2),
    }
    path = torch_file(obj, tmp_path)
    expected, actual = load_both(path)
    assert_matches_torch(expected, actual)
    assert actual["state_dict"]._metadata == expected["state_dict"]._metadata
    assert type(actual["parameter"]) is ember.nn.Parameter


def test_parameter_with_python_attributes(tmp_path):
    parameter = torch.nn.Parameter(torch.ones(2))
    parameter.tag = "shared"
    tensor = torch.zeros(3)
    tensor.note = 7
    path = torch_file({"p": parameter, "t": tensor}, tmp_path)
    loaded = ember.load(path)
    assert loaded["p"].tag == "shared" and loaded["t"].note == 7


def test_torch_state_dict_loads_into_ember_model(tmp_path):
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    path = torch_file(torch_model.state_dict(), tmp_path, name="model.pth")
    ember_model = ember.nn.Sequential(ember.nn.Linear(5, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    ember_model.load_state_dict(ember.load(path))
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(ember_model(ember.tensor(x)).detach().numpy(),
                               torch_model(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_torch_optimizer_state_dict(tmp_path):
    # What torch.optim.Adam(...).state_dict() holds after a step, written out by hand: building a torch
    # optimizer spends seconds importing torch._dynamo.
    model = torch.nn.Linear(3, 2)
    state = {"state": {index: {"step": torch.tensor(1.0), "exp_avg": torch.randn_like(parameter),
                               "exp_avg_sq": torch.rand_like(parameter)}
                       for index, parameter in enumerate(model.parameters())},
             "param_groups": [{"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-08, "weight_decay": 0, "amsgrad": False,
                               "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                               "fused": None, "decoupled_weight_decay": False, "params": [0, 1]}]}
    path = torch_file(state, tmp_path)
    expected, actual = load_both(path)
    assert_matches_torch(expected, actual)
    assert all(type(k) is int for k in actual["state"])


def test_archive_prefix_name_and_file_objects(tmp_path):
    obj = {"w": torch.randn(3)}
    path = tmp_path / "my_weights.bin"
    torch.save(obj, path)
    expected = torch.load(path)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "renamed.bin", "w") as target:
        for info in source.infolist():
            target.writestr("other_prefix/" + info.filename.split("/", 1)[1], source.read(info))
    assert_matches_torch(expected, ember.load(tmp_path / "renamed.bin"))
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    assert_matches_torch(expected, ember.load(buffer))


def _malicious_checkpoint(path, marker):
    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weights": Exploit()}, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")


def test_malicious_global_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    _malicious_checkpoint(path, marker)
    global_name = f"{os.system.__module__}.system"
    with pytest.raises(pickle.UnpicklingError, match=f"refuses to load global '{global_name}'") as info:
        ember.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with serialization.safe_globals([os.system]):
        with pytest.raises(pickle.UnpicklingError, match="blocked"):
            ember.load(path)
    assert not marker.exists()


def test_whole_torch_module_refused_even_without_weights_only(tmp_path):
    path = torch_file(torch.nn.Linear(2, 2), tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match="state_dict"):
        ember.load(path, weights_only=False)


def test_custom_class_needs_safe_globals_like_torch(tmp_path):
    path = torch_file({"settings": Settings(3), "w": torch.ones(2)}, tmp_path)
    for load, module in ((torch.load, torch.serialization), (ember.load, serialization)):
        with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
            load(path)
        with module.safe_globals([Settings]):
            assert load(path)["settings"] == Settings(3)
        assert load(path, weights_only=False)["settings"] == Settings(3)


def test_map_location(tmp_path):
    path = torch_file({"w": torch.arange(4.0)}, tmp_path)
    for map_location in (None, "cpu", ember.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage):
        assert ember.load(path, map_location=map_location)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    for map_location in ("cuda", "cuda:0", {"cpu": "cuda"}):
        with pytest.raises(RuntimeError, match="only the CPU"):
            ember.load(path, map_location=map_location)
    with pytest.raises(TypeError, match="map_location"):
        ember.load(path, map_location=3.5)


def test_storages_saved_on_cuda_load_on_cpu(tmp_path):
    path = torch_file({"w": torch.arange(3.0)}, tmp_path)
    cuda_path = tmp_path / "cuda.pt"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(cuda_path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
                assert b"cuda:0" in data
            target.writestr(info, data)
    assert ember.load(cuda_path)["w"].tolist() == [0.0, 1.0, 2.0]
    assert ember.load(cuda_path, map_location={"cuda:0": "cpu"})["w"].tolist() == [0.0, 1.0, 2.0]
    seen = []
    ember.load(cuda_path, map_location=lambda storage, location: seen.append(location))
    assert seen == ["cuda:0"]
    with pytest.raises(RuntimeError, match="only the CPU"):
        ember.load(cuda_path, map_location="cuda")


def test_big_endian_checkpoint(tmp_path):
    path = torch_file({"w": torch.arange(5, dtype=torch.int32), "h": torch.tensor([1.5, -2.0], dtype=torch.float16)},
                      tmp_path)
    big_path = tmp_path / "big.pt"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(big_path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                data = np.frombuffer(data, np.int32 if len(data) == 20 else np.float16).byteswap().tobytes()
            target.writestr(info, data)
    loaded = ember.load(big_path)
    assert loaded["w"].tolist() == [0, 1, 2, 3, 4] and loaded["h"].tolist() == [1.5, -2.0]


def test_loads_without_torch_installed(tmp_path):
    base = torch.arange(6.0).reshape(2, 3)
    path = torch_file({"base": base, "row": base[1], "p": torch.nn.Parameter(torch.ones(2)),
                       "h": torch.ones(2, dtype=torch.bfloat16)}, tmp_path)
    script = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        sys.path.insert(0, {ROOT!r})
        import ember
        loaded = ember.load({str(path)!r})
        loaded["base"][1, 0] = 42.0
        assert loaded["row"].tolist() == [42.0, 4.0, 5.0], loaded["row"]
        assert type(loaded["p"]).__name__ == "Parameter" and loaded["h"].dtype is ember.bfloat16
        assert not any(name == "torch" or name.startswith("torch.") for name, m in sys.modules.items() if m)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_legacy_format_rejected_with_advice(tmp_path):
    path = torch_file({"w": torch.ones(2)}, tmp_path, _use_new_zipfile_serialization=False)
    with pytest.raises(BAD_FILE_ERRORS, match="legacy") as info:
        ember.load(path)
    assert "torch.save" in str(info.value) and str(path) in str(info.value)


def test_torchscript_archive_rejected(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(BAD_FILE_ERRORS, match="TorchScript"):
        ember.load(path)


def test_truncated_and_corrupt_torch_files(tmp_path):
    path = torch_file({"w": torch.randn(64), "v": torch.arange(10)}, tmp_path)
    data = path.read_bytes()
    for cut in (10, len(data) // 3, len(data) // 2, len(data) - 30):
        cut_path = tmp_path / f"cut{cut}.pt"
        cut_path.write_bytes(data[:cut])
        with pytest.raises(BAD_FILE_ERRORS) as info:
            ember.load(cut_path)
        assert str(cut_path) in str(info.value)
    # A record whose size disagrees with the pickle, and a pickle that is garbage.
    for broken_name, change in (("short_record.pt", lambda name, raw: raw[:-4] if "/data/0" in name else raw),
                                ("bad_pickle.pt", lambda name, raw: b"\x80\x02garbage" if name.endswith("data.pkl")
                                 else raw)):
        broken = tmp_path / broken_name
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
            for info in source.infolist():
                target.writestr(info.filename, change(info.filename, source.read(info)))
        with pytest.raises(BAD_FILE_ERRORS) as info:
            ember.load(broken)
        assert str(broken) in str(info.value)


def test_hostile_tensor_layout_refused(tmp_path):
    path = torch_file({"w": torch.arange(4.0)}, tmp_path)
    hostile = tmp_path / "hostile.pt"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(hostile, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data.pkl"):
                # size (4,) -> (100,): a view reaching far past the 4-element storage
                data = data.replace(b"K\x04\x85", b"Kd\x85", 1)
            target.writestr(info, data)
    with pytest.raises(pickle.UnpicklingError, match="reaches element"):
        ember.load(hostile)


@pytest.mark.parametrize("tensor, fragment", [
    (lambda: torch.zeros(2, dtype=torch.uint16), "dtype torch.uint16"),
    (lambda: torch.zeros(2, dtype=torch.complex64), "ComplexFloatStorage"),
    (lambda: torch.zeros(4).to_sparse(), "sparse"),
], ids=["uint16", "complex64", "sparse"])
def test_unsupported_tensors_give_clear_errors(tensor, fragment, tmp_path):
    path = torch_file({"x": tensor()}, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match=fragment) as info:
        ember.load(path)
    assert str(path) in str(info.value)


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_bare_storages_load_as_one_dimensional_tensors(tmp_path):
    values = torch.arange(4.0)
    path = torch_file({"typed": values.storage(), "untyped": values.clone().untyped_storage()}, tmp_path)
    loaded = ember.load(path)
    assert loaded["typed"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert loaded["untyped"].dtype is ember.uint8 and loaded["untyped"].numpy().tobytes() == values.numpy().tobytes()
