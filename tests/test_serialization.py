"""ember.save / ember.load: round trips, the safetensors layout, weights_only, atomic writes, bad files."""

from __future__ import annotations

import collections
import fractions
import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time

import ml_dtypes
import numpy as np
import pytest
import torch
from safetensors.numpy import load_file as safetensors_load_file
from safetensors.numpy import save_file as safetensors_save_file

import ember
from ember import serialization

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD_FILE_ERRORS = (RuntimeError, ValueError, pickle.UnpicklingError)


class Config:
    """A custom class, pickled into checkpoints by reference to this module."""

    def __init__(self, depth):
        self.depth = depth

    def __eq__(self, other):
        return isinstance(other, Config) and other.depth == self.depth


def round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer, **load_kwargs)


def assert_same(expected, actual, path="obj"):
    """Types and values equal all the way down (tensors by dtype, shape and values)."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, ember.Tensor):
        assert actual.dtype is expected.dtype and actual.shape == expected.shape, path
        np.testing.assert_array_equal(actual.detach().numpy(), expected.detach().numpy(), err_msg=path)
        assert actual.requires_grad == expected.requires_grad, path
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for key in expected:
            assert type(key) is type(next(k for k in actual if k == key)), f"{path}: key {key!r}"
            assert_same(expected[key], actual[key], f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{path}[{i}]")
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(actual), path
    else:
        assert actual == expected, path
        if isinstance(expected, float):
            assert np.copysign(1, actual) == np.copysign(1, expected), path


# ----------------------------------------------------------------------------------------------- round trips
def test_nested_structure_keeps_types():
    obj = {
        "model": collections.OrderedDict([("fc.weight", ember.randn(3, 2)), ("fc.bias", ember.zeros(3))]),
        "epoch": 7, "lr": 0.125, "big": 2 ** 80, "neg_zero": -0.0, "nan": float("nan"), "inf": float("-inf"),
        "flag": True, "none": None, "name": "run-1", "unicode": "héllo ✓",
        "nested": [1, (2, [3, {"x": ember.tensor([1, 2])}]), ()], "empty": {}, "empty_list": [],
        3: "int key", 2.5: "float key", (1, "a"): "tuple key", None: "none key", False: "bool key",
    }
    assert_same(obj, round_trip(obj))


def test_top_level_values():
    for obj in (ember.arange(5), [ember.ones(1)], (ember.ones(1), 2), 3, "text", None, 1.5):
        assert_same(obj, round_trip(obj))


def test_ordered_dict_attributes_kept():
    state = collections.OrderedDict(weight=ember.ones(2))
    state._metadata = {"": {"version": 2}}
    loaded = round_trip(state)
    assert type(loaded) is collections.OrderedDict and loaded._metadata == {"": {"version": 2}}


def test_shared_containers_stay_shared():
    shared = [1, 2]
    loaded = round_trip({"a": shared, "b": shared, "c": [1, 2]})
    assert loaded["a"] is loaded["b"] and loaded["a"] is not loaded["c"]
    cyclic = []
    cyclic.append(cyclic)
    loaded = round_trip(cyclic)
    assert loaded[0] is loaded


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                                   "float32", "float64"])
def test_every_dtype(dtype, tmp_path):
    dtype = getattr(ember, dtype)
    values = np.array([[0, 1, 2], [3, -4, 127]]) if dtype is not ember.bool else np.array([[True, False, True]] * 2)
    tensor = ember.tensor(values.astype(dtype.numpy_dtype))
    obj = {"t": tensor, "scalar": ember.tensor(values.astype(dtype.numpy_dtype)[0, 1]), "empty": ember.zeros(0, 3, dtype=dtype)}
    path = tmp_path / "ckpt.safetensors"
    ember.save(obj, path)
    assert_same(obj, ember.load(path))
    assert_same(obj, ember.load(path, mmap=True))
    on_disk = safetensors_load_file(str(path))
    assert on_disk["t"].dtype == dtype.numpy_dtype
    np.testing.assert_array_equal(on_disk["t"], values.astype(dtype.numpy_dtype))


def test_bfloat16_values_exact():
    values = np.array([1.0, -2.5, 3.140625, 1e-38, np.inf], dtype=ml_dtypes.bfloat16)
    loaded = round_trip(ember.tensor(values))
    assert loaded.dtype is ember.bfloat16
    assert loaded.numpy().tobytes() == values.tobytes()


def test_file_is_safetensors_with_path_names(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.ReLU(), ember.nn.Linear(3, 1))
    path = tmp_path / "model.safetensors"
    ember.save({"model": model.state_dict(), "step": 4}, path)
    on_disk = safetensors_load_file(str(path))
    assert sorted(on_disk) == ["model.0.bias", "model.0.weight", "model.2.bias", "model.2.weight"]
    np.testing.assert_array_equal(on_disk["model.2.weight"], model.state_dict()["2.weight"].numpy())
    # The header is what the spec says: length, JSON, contiguous data.
    raw = path.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + length])
    assert header["__metadata__"]["format"] == "pt"
    assert header["model.0.weight"] == {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]}
    # A flat state dict is exactly a Hugging Face-style model.safetensors.
    ember.save(model.state_dict(), path)
    assert sorted(safetensors_load_file(str(path))) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_reserved_and_colliding_names_are_made_unique(tmp_path):
    obj = {"__metadata__": ember.ones(1), "a.b": ember.zeros(1), "a": {"b": ember.full((1,), 2.0)}}
    path = tmp_path / "c.safetensors"
    ember.save(obj, path)
    names = sorted(safetensors_load_file(str(path)))
    assert len(names) == 3 and "__metadata__" not in names
    assert_same(obj, ember.load(path))


def test_tied_weights_written_once_and_loaded_as_one_object(tmp_path):
    shared = ember.nn.Parameter(ember.randn(4, 2))
    path = tmp_path / "tied.safetensors"
    ember.save({"encoder": shared, "decoder": shared}, path)
    assert list(safetensors_load_file(str(path))) == ["encoder"]
    loaded = ember.load(path)
    assert loaded["encoder"] is loaded["decoder"] and type(loaded["encoder"]) is ember.nn.Parameter


def test_aliases_of_the_same_memory_share_memory_after_loading():
    weight = ember.randn(3, 3)
    loaded = round_trip({"a": weight, "b": weight.detach()})
    assert loaded["a"] is not loaded["b"]
    loaded["a"].add_(1)
    np.testing.assert_array_equal(loaded["a"].numpy(), loaded["b"].numpy())


def test_views_of_part_are_written_as_their_own_data(tmp_path):
    base = ember.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "column": base[:, 2]}
    path = tmp_path / "views.safetensors"
    ember.save(obj, path)
    on_disk = safetensors_load_file(str(path))
    assert on_disk["row"].shape == (4,) and on_disk["column"].shape == (3,)
    loaded = ember.load(path)
    assert_same(obj, loaded)
    loaded["base"].zero_()
    assert loaded["row"].sum().item() == 4 + 5 + 6 + 7  # independent after loading (documented)


def test_non_contiguous_tensors():
    base = ember.arange(24.0).reshape(2, 3, 4)
    obj = [base.transpose(0, 2), base[:, ::2, 1::2], ember.tensor([1.0, 2.0]).expand(3, 2), base.permute(1, 2, 0)[1:]]
    assert not any(t.is_contiguous() for t in obj)
    for expected, actual in zip(obj, round_trip(obj)):
        assert_same(expected, actual)
        assert actual.is_contiguous()


def test_requires_grad_and_parameters_as_torch():
    parameter = ember.nn.Parameter(ember.ones(2))
    frozen = ember.nn.Parameter(ember.ones(2), requires_grad=False)
    leaf = ember.ones(2, requires_grad=True)
    computed = leaf * 2
    loaded = round_trip([parameter, frozen, leaf, computed, leaf.detach()])
    torch_leaf = torch.ones(2, requires_grad=True)
    buffer = io.BytesIO()
    torch.save([torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2), requires_grad=False), torch_leaf,
                torch_leaf * 2, torch_leaf.detach()], buffer)
    buffer.seek(0)
    expected = torch.load(buffer)
    for ours, theirs in zip(loaded, expected):
        assert (type(ours).__name__, ours.requires_grad, ours.is_leaf) == \
               (type(theirs).__name__, theirs.requires_grad, theirs.is_leaf)


def test_module_state_dict_values_come_back_as_tensors():
    model = ember.nn.Linear(3, 2)
    loaded = round_trip(model.state_dict())
    assert all(type(v) is ember.Tensor and not v.requires_grad for v in loaded.values())
    fresh = ember.nn.Linear(3, 2)
    fresh.load_state_dict(loaded)
    x = ember.randn(4, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_optimizer_state_dict_round_trips_exactly():
    model = ember.nn.Linear(3, 2)
    optimizer = ember.optim.Adam(model.parameters(), lr=1e-3, betas=(0.8, 0.95), amsgrad=True)
    for _ in range(2):
        optimizer.zero_grad()
        model(ember.randn(5, 3)).pow(2).sum().backward()
        optimizer.step()
    state = optimizer.state_dict()
    loaded = round_trip(state)
    assert_same(state, loaded)
    assert all(type(k) is int for k in loaded["state"])
    fresh_model = ember.nn.Linear(3, 2)
    fresh_model.load_state_dict(model.state_dict())
    fresh = ember.optim.Adam(fresh_model.parameters(), lr=1e-3, betas=(0.8, 0.95), amsgrad=True)
    fresh.load_state_dict(loaded)
    x = ember.randn(5, 3)
    for m, opt in ((model, optimizer), (fresh_model, fresh)):
        opt.zero_grad()
        m(x).pow(2).sum().backward()
        opt.step()
    np.testing.assert_array_equal(fresh_model.weight.detach().numpy(), model.weight.detach().numpy())


# ----------------------------------------------------------------------------------------------- weights_only
def test_pickled_objects_need_weights_only_false(tmp_path):
    model = ember.nn.Linear(2, 2)
    obj = {"model": model, "array": np.arange(3), "config": Config(4), "weight": model.weight}
    path = tmp_path / "full.pt"
    ember.save(obj, path)
    with pytest.raises(pickle.UnpicklingError, match="Linear") as info:
        ember.load(path)
    assert isinstance(info.value, serialization.UnpicklingError)
    assert "add_safe_globals" in str(info.value) and str(path) in str(info.value)
    loaded = ember.load(path, weights_only=False)
    assert isinstance(loaded["model"], ember.nn.Linear) and loaded["config"] == Config(4)
    np.testing.assert_array_equal(loaded["array"], np.arange(3))
    assert loaded["weight"] is loaded["model"].weight  # one object inside and outside the pickle


def test_safe_globals_behave_like_torch(tmp_path):
    config = {"config": Config(3), "w": ember.ones(1)}
    ember_path, torch_path = tmp_path / "e.pt", tmp_path / "t.pt"
    ember.save(config, ember_path)
    torch.save({"config": Config(3), "w": torch.ones(1)}, torch_path)
    name = f"{Config.__module__}.Config"
    for load, path, module in ((ember.load, ember_path, serialization), (torch.load, torch_path, torch.serialization)):
        with pytest.raises(pickle.UnpicklingError, match=f"Unsupported global: GLOBAL {name}"):
            load(path)
        with module.safe_globals([Config]):
            assert load(path)["config"] == Config(3)
        assert Config not in module.get_safe_globals()
        module.add_safe_globals([Config])
        try:
            assert load(path)["config"] == Config(3)
            assert Config in module.get_safe_globals()
        finally:
            module.clear_safe_globals()
        with pytest.raises(pickle.UnpicklingError):
            load(path)
        with module.safe_globals([(Config, name)]):
            assert load(path)["config"] == Config(3)


def test_numpy_arrays_need_safe_globals_like_torch():
    buffer = io.BytesIO()
    ember.save({"array": np.arange(4.0)}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        ember.load(buffer)
    numpy_globals = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.float64))]
    with serialization.safe_globals(numpy_globals):
        buffer.seek(0)
        np.testing.assert_array_equal(ember.load(buffer)["array"], np.arange(4.0))


def test_plain_builtins_and_ember_types_allowed_by_default():
    obj = {"set": {1, 2}, "frozen": frozenset("ab"), "complex": 1 + 2j, "bytes": b"\x00\xff", "size": ember.Size([2, 3]),
           "dtype": ember.float16, "device": ember.device("cpu"), "slice": slice(1, 5, 2)}
    loaded = round_trip(obj)
    assert loaded == obj and type(loaded["size"]) is ember.Size and loaded["dtype"] is ember.float16


def test_blocked_modules_cannot_be_allowed():
    buffer = io.BytesIO()
    ember.save({"fn": os.getcwd}, buffer)
    with serialization.safe_globals([os.getcwd, (os.getcwd, "posix.getcwd")]):
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="blocked"):
            ember.load(buffer)


def test_add_safe_globals_validates_entries():
    with pytest.raises(ValueError, match="length 2"):
        serialization.add_safe_globals([(Config, "a", "b")])
    with pytest.raises(TypeError):
        serialization.add_safe_globals([(Config, 3)])
    assert serialization.get_safe_globals() == []


def test_explicit_pickle_module_with_weights_only_refused():
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(io.BytesIO(b""), pickle_module=pickle, weights_only=True)


# ----------------------------------------------------------------------------------------------- map_location / mmap
@pytest.mark.parametrize("map_location", [None, "cpu", "cpu:0", ember.device("cpu"), {"cpu": "cpu"},
                                          lambda storage, location: storage, lambda storage, location: None])
def test_map_location_accepted(map_location):
    obj = {"w": ember.randn(2, 2)}
    assert_same(obj, round_trip(obj, map_location=map_location))


@pytest.mark.parametrize("map_location", ["cuda", "cuda:0", ember.device("cuda"), {"cpu": "cuda:1"},
                                          lambda storage, location: "cuda"])
def test_map_location_cuda_is_a_clear_error(map_location):
    with pytest.raises(RuntimeError, match="only the CPU"):
        round_trip({"w": ember.ones(1)}, map_location=map_location)


def test_mmap_is_copy_on_write(tmp_path):
    path = tmp_path / "m.safetensors"
    ember.save({"w": ember.ones(1000)}, path)
    before = path.read_bytes()
    loaded = ember.load(path, mmap=True)
    loaded["w"].add_(1)
    assert loaded["w"].sum().item() == 2000
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="mmap"):
        ember.load(io.BytesIO(before), mmap=True)


# ----------------------------------------------------------------------------------------------- files
def test_file_objects_and_paths(tmp_path):
    obj = {"w": ember.randn(3)}
    path = tmp_path / "f.safetensors"
    with open(path, "wb") as f:
        ember.save(obj, f)
    assert_same(obj, ember.load(str(path)))
    with open(path, "rb") as f:
        assert_same(obj, ember.load(f))
    # Reading from the middle of a stream, and from a non-seekable pipe-like stream.
    data = path.read_bytes()
    stream = io.BytesIO(b"junk" + data)
    stream.seek(4)
    assert_same(obj, ember.load(stream))

    class Unseekable(io.RawIOBase):
        def __init__(self, payload):
            self.inner = io.BytesIO(payload)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.inner.readinto(buffer)

    assert_same(obj, ember.load(io.BufferedReader(Unseekable(data))))
    with pytest.raises(TypeError, match="text mode"):
        with open(path, "r", encoding="latin1") as f:
            ember.load(f)


def test_save_to_path_is_atomic_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"v": 1}, path)
    ember.save({"v": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"] and ember.load(path) == {"v": 2}
    with pytest.raises(RuntimeError, match="does not exist"):
        ember.save({"v": 1}, tmp_path / "missing" / "ckpt.pt")


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"v": ember.ones(10)}, path)

    def failing_writer(f, data):
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_bytes", failing_writer)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.zeros(10)}, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    assert ember.load(path)["v"].sum().item() == 10


def test_sigkill_mid_save_leaves_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"generation": 1, "w": ember.ones(100)}, path)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {ROOT!r})
        import ember
        from ember import serialization

        def slow_writer(f, data):
            for start in range(0, len(data), 4096):
                f.write(data[start:start + 4096])
                f.flush()
                print("writing", flush=True)
                time.sleep(0.05)

        serialization._write_bytes = slow_writer
        ember.save({{"generation": 2, "w": ember.zeros(1 << 20)}}, {str(path)!r})
        print("finished", flush=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "writing"
        time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    loaded = ember.load(path)
    assert loaded["generation"] == 1 and loaded["w"].sum().item() == 100


def test_plain_and_sharded_safetensors_files(tmp_path):
    first = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "a.bias": np.ones(2, np.float16)}
    second = {"b.weight": np.arange(4, dtype=np.int64)}
    safetensors_save_file(first, str(tmp_path / "model-00001-of-00002.safetensors"))
    safetensors_save_file(second, str(tmp_path / "model-00002-of-00002.safetensors"))
    loaded = ember.load(tmp_path / "model-00001-of-00002.safetensors")
    assert set(loaded) == set(first) and loaded["a.bias"].dtype is ember.float16
    weight_map = {"a.weight": "model-00001-of-00002.safetensors", "a.bias": "model-00001-of-00002.safetensors",
                  "b.weight": "model-00002-of-00002.safetensors"}
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 44}, "weight_map": weight_map}))
    merged = ember.load(index)
    assert list(merged) == list(weight_map)
    for name, array in {**first, **second}.items():
        np.testing.assert_array_equal(merged[name].numpy(), array)
    index.write_text(json.dumps({"weight_map": {"x": "../elsewhere.safetensors"}}))
    with pytest.raises(RuntimeError, match="inside the index's folder"):
        ember.load(index)


def test_safetensors_written_by_torch_library(tmp_path):
    from safetensors.torch import save_file
    tensors = {"emb": torch.randn(4, 3).to(torch.bfloat16), "mask": torch.tensor([True, False])}
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    loaded = ember.load(tmp_path / "model.safetensors")
    assert loaded["emb"].dtype is ember.bfloat16
    np.testing.assert_array_equal(loaded["emb"].float().numpy(), tensors["emb"].float().numpy())
    np.testing.assert_array_equal(loaded["mask"].numpy(), tensors["mask"].numpy())


# ----------------------------------------------------------------------------------------------- bad input
def _write(tmp_path, data, name="bad.safetensors"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _safetensors_bytes(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _expect_clear_error(path, *fragments):
    with pytest.raises(BAD_FILE_ERRORS) as info:
        ember.load(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_truncated_checkpoints(tmp_path):
    buffer = io.BytesIO()
    ember.save({"w": ember.randn(100), "step": 3}, buffer)
    data = buffer.getvalue()
    for cut in (0, 4, 8, 20, len(data) // 2, len(data) - 1):
        _expect_clear_error(_write(tmp_path, data[:cut], f"cut{cut}.pt"))


@pytest.mark.parametrize("header, data, fragment", [
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "past the end"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}, b"\0" * 12, "need 8 bytes"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, "overlap"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "belong to no tensor"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "trailing bytes"),
    ({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "does not support"),
    ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "non-negative"),
    ({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 4]}}, b"\0" * 4, "need"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, b"\0" * 4, "begin <= end"),
    ({"w": [1, 2]}, b"", "exactly"),
    ({"__metadata__": {"a": 1}}, b"", "strings to strings"),
    ({"__metadata__": {"ember.checkpoint": "{not json"}}, b"", "not valid JSON"),
    ({"__metadata__": {"ember.checkpoint": '{"version": 99}'}}, b"", "version 99"),
    ({"__metadata__": {"ember.checkpoint": '{"version": 1, "tree": ["t", 5], "tensors": []}'}}, b"", "out of range"),
    ({"__metadata__": {"ember.checkpoint": '{"version": 1, "tree": ["t", 0], "tensors": [["x", false, "tensor"]]}'}},
     b"", "does not hold"),
    ({"__metadata__": {"ember.checkpoint": '{"version": 1, "tree": ["eval", 1], "tensors": []}'}}, b"", "unexpected"),
])
def test_lying_headers(tmp_path, header, data, fragment):
    _expect_clear_error(_write(tmp_path, _safetensors_bytes(header, data)), fragment)


def test_header_length_checked_before_reading(tmp_path):
    path = _write(tmp_path, struct.pack("<Q", 1 << 62) + b"{}")
    _expect_clear_error(path, "claims")
    path = _write(tmp_path, struct.pack("<Q", 8) + b"[1,2,3] ")
    _expect_clear_error(path, "not a checkpoint")
    path = _write(tmp_path, struct.pack("<Q", 4) + b"{\xff\xfe}")
    _expect_clear_error(path, "not valid JSON")


def test_files_of_other_formats(tmp_path):
    _expect_clear_error(_write(tmp_path, b"", "empty.pt"), "empty")
    _expect_clear_error(_write(tmp_path, b"hello, this is a text file\n" * 3, "notes.txt"), "not a checkpoint")
    _expect_clear_error(_write(tmp_path, b"\x89PNG\r\n\x1a\n" + bytes(64), "image.png"), "not a checkpoint")
    _expect_clear_error(_write(tmp_path, b'{"hello": 1}', "config.json"), "weight_map")
    with pytest.raises(IsADirectoryError):
        ember.load(tmp_path)
    import zipfile
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hi")
    _expect_clear_error(tmp_path / "other.zip", "no data.pkl")
    _expect_clear_error(_write(tmp_path, b"PK\x03\x04" + bytes(100), "broken.zip"), "zip")


def test_corrupt_pickle_entry(tmp_path):
    buffer = io.BytesIO()
    ember.save({"s": {1, 2}}, buffer)
    data = bytearray(buffer.getvalue())
    position = data.rindex(b".")  # the pickle's STOP opcode is the file's last byte
    data[position] = ord("!")
    _expect_clear_error(_write(tmp_path, bytes(data)), "corrupt")


def test_save_rejects_bad_targets():
    with pytest.raises(TypeError, match="path"):
        ember.save({}, 42)
    with pytest.raises(ValueError, match="contains itself"):
        inner = []
        outer = (inner,)
        inner.append(outer)
        ember.save(outer, io.BytesIO())


def test_fraction_pickled_with_safe_globals():
    with serialization.safe_globals([fractions.Fraction]):
        assert round_trip({"f": fractions.Fraction(1, 3)})["f"] == fractions.Fraction(1, 3)
