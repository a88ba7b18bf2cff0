"""Containers against torch.nn: indexing, mutation, reprs, state_dict keys and parity of a Sequential model."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests.nn.parity import check_layer_parity


def _pair(kind, *args):
    """The same layer in both libraries (kind is the class name shared by torch.nn and ember.nn)."""
    return getattr(nn, kind)(*args), getattr(torch.nn, kind)(*args)


def _build(specs):
    pairs = [_pair(kind, *args) for kind, *args in specs]
    return [e for e, _ in pairs], [t for _, t in pairs]


SPECS = [("Linear", 4, 3), ("Flatten",), ("Identity",), ("Linear", 3, 2), ("Flatten", 0)]


def _names(seq):
    return [(k, type(m).__name__) for k, m in seq._modules.items()]


def test_sequential_parity_and_repr():
    e_layers, t_layers = _build(SPECS[:4])
    e_seq, t_seq = nn.Sequential(*e_layers), torch.nn.Sequential(*t_layers)
    check_layer_parity(e_seq, t_seq, torch.randn(5, 4))


def test_sequential_ordered_dict_constructor():
    e_layers, t_layers = _build(SPECS[:2])
    e_seq = nn.Sequential(OrderedDict([("fc", e_layers[0]), ("flat", e_layers[1])]))
    t_seq = torch.nn.Sequential(OrderedDict([("fc", t_layers[0]), ("flat", t_layers[1])]))
    check_layer_parity(e_seq, t_seq, torch.randn(2, 4))
    assert list(e_seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert e_seq.fc is e_layers[0]


@pytest.mark.parametrize("index", [0, 2, -1, -4, slice(1, 3), slice(None, None, -1), slice(None, None, 2)])
def test_sequential_getitem(index):
    e_layers, t_layers = _build(SPECS[:4])
    e_seq, t_seq = nn.Sequential(*e_layers), torch.nn.Sequential(*t_layers)
    e_item, t_item = e_seq[index], t_seq[index]
    if isinstance(index, slice):
        assert type(e_item) is nn.Sequential and _names(e_item) == _names(t_item)
        assert repr(e_item) == repr(t_item)
    else:
        assert e_item is e_layers[index]


@pytest.mark.parametrize("index,error", [(4, IndexError), (-5, IndexError), ("0", TypeError), (1.0, TypeError)])
def test_sequential_index_errors(index, error):
    e_seq, t_seq = nn.Sequential(*_build(SPECS[:4])[0]), torch.nn.Sequential(*_build(SPECS[:4])[1])
    with pytest.raises(error):
        t_seq[index]
    with pytest.raises(error):
        e_seq[index]


def _mutations():
    def setitem(seq, lib):
        seq[-1] = lib.Identity()

    def delitem(seq, lib):
        del seq[1]

    def delslice(seq, lib):
        del seq[::2]

    def insert(seq, lib):
        seq.insert(-1, lib.Flatten(0))
        seq.insert(0, lib.Identity())
        seq.insert(len(seq), lib.Flatten())

    def pop(seq, lib):
        seq.pop(0)
        seq.pop(-1)

    def append_extend(seq, lib):
        seq.append(lib.Identity()).extend([lib.Flatten(), lib.Identity()])

    def iadd(seq, lib):
        seq += lib.Sequential(lib.Identity())

    def imul(seq, lib):
        seq *= 2

    return [setitem, delitem, delslice, insert, pop, append_extend, iadd, imul]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_sequential_mutations_match_torch(mutate):
    e_seq, t_seq = nn.Sequential(*_build(SPECS[:4])[0]), torch.nn.Sequential(*_build(SPECS[:4])[1])
    result_e, result_t = mutate(e_seq, nn), mutate(t_seq, torch.nn)
    assert (result_e is None) == (result_t is None)
    assert _names(e_seq) == _names(t_seq)
    assert repr(e_seq) == repr(t_seq)
    assert [k for k in e_seq.state_dict()] == [k for k in t_seq.state_dict()]


def test_sequential_operators():
    e_layers, t_layers = _build(SPECS[:2])
    e_seq, t_seq = nn.Sequential(*e_layers), torch.nn.Sequential(*t_layers)
    for e_out, t_out in [(e_seq + e_seq, t_seq + t_seq), (e_seq * 3, t_seq * 3), (2 * e_seq, 2 * t_seq)]:
        assert _names(e_out) == _names(t_out) and repr(e_out) == repr(t_out)
    assert (e_seq * 3)[2] is e_layers[0]  # repetition shares modules, as in torch
    assert len(e_seq) == 2 and list(e_seq) == e_layers
    for bad, error in [(lambda s: s + [1], ValueError), (lambda s: s * 0, ValueError), (lambda s: s * 1.5, TypeError)]:
        with pytest.raises(error):
            bad(t_seq)
        with pytest.raises(error):
            bad(e_seq)
    with pytest.raises(AssertionError):
        e_seq.insert(0, "not a module")
    with pytest.raises(IndexError):
        e_seq.insert(5, nn.Identity())


def test_sequential_is_lean():
    seq = nn.Sequential(nn.Identity(), nn.Identity())
    x = ember.ones(1)
    assert seq(x) is x
    assert "0" not in dir(seq)


def test_modulelist_indexing_and_mutation():
    e_layers, t_layers = _build(SPECS)
    e_list, t_list = nn.ModuleList(e_layers), torch.nn.ModuleList(t_layers)
    assert len(e_list) == 5 and e_list[-2] is e_layers[-2]
    assert _names(e_list[1:4]) == _names(t_list[1:4]) and type(e_list[::2]) is nn.ModuleList
    for lst, lib in ((e_list, nn), (t_list, torch.nn)):
        lst[0] = lib.Identity()
        del lst[-1]
        del lst[:1]
        lst.insert(1, lib.Flatten(0))
        lst.append(lib.Identity())
        lst.extend([lib.Identity()])
        lst += [lib.Flatten()]
        lst.pop(2)
    assert _names(e_list) == _names(t_list)
    assert repr(e_list) == repr(t_list)
    assert _names(e_list + e_list) == _names(t_list + t_list)
    with pytest.raises(IndexError):
        e_list[10]
    with pytest.raises(TypeError):
        e_list.extend(3)
    with pytest.raises(TypeError):
        nn.ModuleList([1])


def test_modulelist_insert_negative_follows_list_semantics():
    ml = nn.ModuleList([nn.Identity(), nn.Identity()])
    ml.insert(-1, nn.Flatten())
    assert [type(m).__name__ for m in ml] == ["Identity", "Flatten", "Identity"]


def test_modulelist_compressed_repr():
    def build(lib):
        inner = lib.Sequential(lib.Linear(2, 2), lib.Flatten())
        return lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [inner, lib.Identity(), lib.Identity(),
                                                                       lib.Linear(2, 3)])
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


def test_modulelist_parameters_and_state_dict():
    e_layers, t_layers = _build([("Linear", 2, 3), ("Linear", 3, 1)])
    e_list, t_list = nn.ModuleList(e_layers), torch.nn.ModuleList(t_layers)
    assert list(e_list.state_dict()) == list(t_list.state_dict())
    assert len(list(e_list.parameters())) == 4
    with pytest.raises(NotImplementedError):
        e_list(ember.ones(1))


def test_moduledict():
    e_layers, t_layers = _build(SPECS[:3])
    e_dict = nn.ModuleDict({"b": e_layers[0], "a": e_layers[1]})
    t_dict = torch.nn.ModuleDict({"b": t_layers[0], "a": t_layers[1]})
    e_dict.update([("c", e_layers[2])])
    t_dict.update([("c", t_layers[2])])
    assert list(e_dict) == list(t_dict) == ["b", "a", "c"]
    assert repr(e_dict) == repr(t_dict)
    assert list(e_dict.state_dict()) == list(t_dict.state_dict())
    assert "a" in e_dict and e_dict["a"] is e_layers[1] and len(e_dict) == 3
    assert list(e_dict.keys()) == list(t_dict.keys()) and list(e_dict.values()) == e_layers[:1] + e_layers[1:3]
    assert [k for k, _ in e_dict.items()] == ["b", "a", "c"]
    e_dict["d"] = nn.Identity()
    del e_dict["b"]
    assert e_dict.pop("a") is e_layers[1] and list(e_dict) == ["c", "d"]
    e_dict.update(nn.ModuleDict({"x": nn.Identity()}))
    assert list(e_dict) == ["c", "d", "x"]
    e_dict.clear()
    assert len(e_dict) == 0
    for bad, error in [(3, TypeError), ([3], TypeError), ([("a", nn.Identity(), 1)], ValueError)]:
        with pytest.raises(error):
            torch.nn.ModuleDict(bad if not isinstance(bad, list) or bad == [3] else [("a", torch.nn.Identity(), 1)])
        with pytest.raises(error):
            nn.ModuleDict(bad)


def test_parameterlist():
    values = [np.ones((2, 3), np.float32), np.zeros(4, np.float32)]
    e_list = nn.ParameterList([ember.tensor(values[0]), nn.Parameter(ember.tensor(values[1]))])
    t_list = torch.nn.ParameterList([torch.tensor(values[0]), torch.nn.Parameter(torch.tensor(values[1]))])
    e_list.append("extra")
    t_list.append("extra")
    assert repr(e_list) == repr(t_list).replace("torch.float32", "ember.float32")
    assert all(isinstance(p, nn.Parameter) for p in list(e_list)[:2])
    assert [n for n, _ in e_list.named_parameters()] == [n for n, _ in t_list.named_parameters()] == ["0", "1"]
    assert list(e_list.state_dict()) == list(t_list.state_dict())
    assert len(e_list) == 3 and e_list[-1] == "extra" and tuple(e_list[0].shape) == (2, 3)
    sliced = e_list[:2]
    assert type(sliced) is nn.ParameterList and len(sliced) == 2 and sliced[1] is e_list[1]
    e_list[0] = ember.zeros(1)
    assert isinstance(e_list[0], nn.Parameter) and tuple(e_list[0].shape) == (1,)
    with pytest.raises(TypeError):
        e_list.extend(ember.zeros(3))
    with pytest.raises(IndexError):
        e_list[3]
    with pytest.raises(RuntimeError):
        e_list(ember.ones(1))


def test_parameterdict():
    w = np.ones((2, 3), np.float32)
    e_dict = nn.ParameterDict({"w": ember.tensor(w), "b": nn.Parameter(ember.zeros(2)), "s": "note"})
    t_dict = torch.nn.ParameterDict({"w": torch.tensor(w), "b": torch.nn.Parameter(torch.zeros(2)), "s": "note"})
    assert list(e_dict) == list(t_dict) == ["b", "s", "w"]  # a plain dict is added in sorted key order
    assert repr(e_dict) == repr(t_dict)
    assert list(e_dict.state_dict()) == list(t_dict.state_dict())
    assert isinstance(e_dict["w"], nn.Parameter) and "w" in e_dict and len(e_dict) == 3
    ordered = nn.ParameterDict(OrderedDict([("z", ember.zeros(1)), ("a", ember.zeros(1))]))
    assert list(ordered) == ["z", "a"] and list(reversed(ordered)) == ["a", "z"]
    assert ordered.get("missing", 5) == 5 and ordered.setdefault("c", ember.ones(1)) is ordered["c"]
    key, value = ordered.popitem()
    assert key == "c" and "c" not in ordered
    assert ordered.pop("z").shape == (1,) and list(ordered) == ["a"]
    merged = ordered | nn.ParameterDict({"q": ember.zeros(2)})
    assert list(merged) == ["a", "q"] and merged["a"] is ordered["a"]
    ordered |= {"r": ember.zeros(3)}
    assert list(ordered) == ["a", "r"] and list(ordered.copy()) == ["a", "r"]
    assert list(ordered.fromkeys(["x", "y"])) == ["x", "y"]
    assert [k for k, _ in ordered.items()] == ["a", "r"] and len(list(ordered.values())) == 2
    del ordered["a"]
    ordered.clear()
    assert len(ordered) == 0
    with pytest.raises(TypeError):
        ordered[1]
    with pytest.raises(TypeError):
        nn.ParameterDict(3)
    with pytest.raises(ValueError):
        nn.ParameterDict([("a", ember.zeros(1), 3)])
    with pytest.raises(RuntimeError):
        e_dict(ember.ones(1))


def test_container_deprecated():
    with pytest.warns(FutureWarning):
        c = nn.Container(a=nn.Identity())
    assert list(c._modules) == ["a"]


def test_nested_model_load_torch_checkpoint():
    def build(lib):
        return lib.Sequential(lib.Linear(4, 3), lib.ModuleList([lib.Linear(3, 3), lib.Identity()]),
                              lib.ModuleDict({"head": lib.Linear(3, 2)}))
    e_model, t_model = build(nn), build(torch.nn)
    check_layer_parity(e_model, t_model, forward=lambda m, x: m[2]["head"](m[1][0](m[0](x))), *[torch.randn(3, 4)])
