"""Loss layers against torch.nn: repr, weight buffers in state_dict, values and input gradients, reductions and the
deprecated size_average/reduce mapping (tests/nn/parity.py)."""

from __future__ import annotations

import warnings

import pytest
import torch

import ember
from tests.nn.parity import check_layer_parity, to_ember

N, C = 4, 5


def _data():
    """Inputs shared by the cases: differentiable predictions and fixed targets."""
    g = torch.Generator().manual_seed(0)
    return {
        "x": torch.randn(N, C, generator=g),
        "x2": torch.randn(N, C, generator=g),
        "x3": torch.randn(N, C, generator=g),
        "y": torch.randn(N, C, generator=g),
        "prob": torch.rand(N, C, generator=g) * 0.8 + 0.1,
        "binary": (torch.rand(N, C, generator=g) > 0.5).float(),
        "signs": torch.where(torch.rand(N, C, generator=g) > 0.5, 1.0, -1.0),
        "row_signs": torch.tensor([1.0, -1.0, 1.0, -1.0]),
        "classes": torch.tensor([0, 3, 4, 1]),
        "classes_ignored": torch.tensor([0, 3, -100, 2]),
        "soft_labels": torch.softmax(torch.randn(N, C, generator=g), 1),
        "logp": torch.log_softmax(torch.randn(N, C, generator=g), 1),
        "image": torch.randn(2, C, 3, 2, generator=g),
        "image_classes": torch.randint(0, C, (2, 3, 2), generator=g),
        "positive_var": torch.rand(N, C, generator=g) + 0.5,
        "counts": torch.poisson(torch.full((N, C), 2.0), generator=g),
        "label_lists": torch.tensor([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0]]),
        "weight": torch.rand(C, generator=g) + 0.5,
    }


# (id, factory(lib) -> loss module, names of differentiable inputs, names of fixed inputs)
CASES = [
    ("L1Loss", lambda nn, w: nn.L1Loss(), ["x"], ["y"]),
    ("L1Loss-sum", lambda nn, w: nn.L1Loss(reduction="sum"), ["x"], ["y"]),
    ("MSELoss", lambda nn, w: nn.MSELoss(), ["x"], ["y"]),
    ("MSELoss-none", lambda nn, w: nn.MSELoss(reduction="none"), ["x"], ["y"]),
    ("CrossEntropyLoss", lambda nn, w: nn.CrossEntropyLoss(), ["x"], ["classes"]),
    ("CrossEntropyLoss-weight-ignore-smooth",
     lambda nn, w: nn.CrossEntropyLoss(weight=w, ignore_index=-100, label_smoothing=0.2), ["x"], ["classes_ignored"]),
    ("CrossEntropyLoss-ignore-3", lambda nn, w: nn.CrossEntropyLoss(ignore_index=3, reduction="sum"), ["x"],
     ["classes"]),
    ("CrossEntropyLoss-probabilities", lambda nn, w: nn.CrossEntropyLoss(weight=w, label_smoothing=0.1), ["x"],
     ["soft_labels"]),
    ("CrossEntropyLoss-image", lambda nn, w: nn.CrossEntropyLoss(reduction="none"), ["image"], ["image_classes"]),
    ("NLLLoss", lambda nn, w: nn.NLLLoss(), ["logp"], ["classes"]),
    ("NLLLoss-weight-ignore", lambda nn, w: nn.NLLLoss(weight=w, ignore_index=3), ["logp"], ["classes"]),
    ("BCELoss", lambda nn, w: nn.BCELoss(), ["prob"], ["binary"]),
    ("BCELoss-weight", lambda nn, w: nn.BCELoss(weight=w, reduction="sum"), ["prob"], ["binary"]),
    ("BCEWithLogitsLoss", lambda nn, w: nn.BCEWithLogitsLoss(), ["x"], ["binary"]),
    ("BCEWithLogitsLoss-pos_weight", lambda nn, w: nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2), ["x"],
     ["binary"]),
    ("KLDivLoss", lambda nn, w: nn.KLDivLoss(reduction="batchmean"), ["logp"], ["soft_labels"]),
    ("KLDivLoss-log_target", lambda nn, w: nn.KLDivLoss(reduction="sum", log_target=True), ["logp"], ["x2"]),
    ("HuberLoss", lambda nn, w: nn.HuberLoss(delta=0.5), ["x"], ["y"]),
    ("SmoothL1Loss", lambda nn, w: nn.SmoothL1Loss(beta=0.5), ["x"], ["y"]),
    ("SoftMarginLoss", lambda nn, w: nn.SoftMarginLoss(), ["x"], ["signs"]),
    ("MultiLabelSoftMarginLoss", lambda nn, w: nn.MultiLabelSoftMarginLoss(weight=w), ["x"], ["binary"]),
    ("MultiMarginLoss", lambda nn, w: nn.MultiMarginLoss(), ["x"], ["classes"]),
    ("MultiMarginLoss-p2-weight", lambda nn, w: nn.MultiMarginLoss(p=2, margin=0.5, weight=w), ["x"], ["classes"]),
    ("MultiLabelMarginLoss", lambda nn, w: nn.MultiLabelMarginLoss(), ["x"], ["label_lists"]),
    ("CosineEmbeddingLoss", lambda nn, w: nn.CosineEmbeddingLoss(margin=0.2), ["x", "x2"], ["row_signs"]),
    ("MarginRankingLoss", lambda nn, w: nn.MarginRankingLoss(margin=0.3), ["x", "x2"], ["signs"]),
    ("HingeEmbeddingLoss", lambda nn, w: nn.HingeEmbeddingLoss(margin=0.5), ["x"], ["signs"]),
    ("TripletMarginLoss", lambda nn, w: nn.TripletMarginLoss(), ["x", "x2", "x3"], []),
    ("TripletMarginLoss-p1-swap", lambda nn, w: nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True), ["x", "x2", "x3"],
     []),
    ("TripletMarginWithDistanceLoss", lambda nn, w: nn.TripletMarginWithDistanceLoss(), ["x", "x2", "x3"], []),
    ("TripletMarginWithDistanceLoss-cosine",
     lambda nn, w: nn.TripletMarginWithDistanceLoss(distance_function=nn.CosineSimilarity(), margin=0.5, swap=True),
     ["x", "x2", "x3"], []),
    ("PoissonNLLLoss", lambda nn, w: nn.PoissonNLLLoss(), ["x"], ["counts"]),
    ("PoissonNLLLoss-rate-full", lambda nn, w: nn.PoissonNLLLoss(log_input=False, full=True), ["prob"], ["counts"]),
    ("GaussianNLLLoss", lambda nn, w: nn.GaussianNLLLoss(), ["x", "y", "positive_var"], []),
    ("GaussianNLLLoss-full-sum", lambda nn, w: nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum"),
     ["x", "y", "positive_var"], []),
]


def _fixed_inputs_forward(fixed):
    """Call the loss with the differentiable inputs first and the fixed targets (in the module's library) after."""
    ember_fixed = [to_ember(t) for t in fixed]

    def forward(module, *inputs):
        return module(*inputs, *(fixed if isinstance(module, torch.nn.Module) else ember_fixed))
    return forward


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(case):
    _, factory, grad_names, fixed_names = case
    data = _data()
    t = factory(torch.nn, data["weight"])
    e = factory(ember.nn, to_ember(data["weight"]))
    check_layer_parity(e, t, *(data[n] for n in grad_names), modes=("train",),
                       forward=_fixed_inputs_forward([data[n] for n in fixed_names]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_matches_torch(reduction):
    g = torch.Generator().manual_seed(0)
    log_probs = torch.randn(6, 2, 4, generator=g).log_softmax(2)
    targets = torch.tensor([[1, 2, 2], [3, 1, 0]])
    input_lengths, target_lengths = torch.tensor([6, 5]), torch.tensor([3, 2])
    t, e = torch.nn.CTCLoss(blank=0, reduction=reduction), ember.nn.CTCLoss(blank=0, reduction=reduction)
    check_layer_parity(e, t, log_probs, modes=("train",),
                       forward=_fixed_inputs_forward([targets, input_lengths, target_lengths]))
    assert ember.nn.CTCLoss(zero_infinity=True).zero_infinity


def test_weight_buffers_are_in_state_dict_and_load_like_torch():
    weight = torch.tensor([1.0, 2.0, 3.0])
    for name, kwargs in [("CrossEntropyLoss", {"weight": weight}), ("NLLLoss", {"weight": weight}),
                         ("BCELoss", {"weight": weight}), ("MultiLabelSoftMarginLoss", {"weight": weight}),
                         ("MultiMarginLoss", {"weight": weight}),
                         ("BCEWithLogitsLoss", {"weight": weight, "pos_weight": weight + 1}),
                         ("BCEWithLogitsLoss", {"pos_weight": weight}), ("CrossEntropyLoss", {})]:
        t = getattr(torch.nn, name)(**kwargs)
        e = getattr(ember.nn, name)(**{k: to_ember(v) for k, v in kwargs.items()})
        assert list(e.state_dict()) == list(t.state_dict()), name
        assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()], name
        for key in t.state_dict():
            assert e.state_dict()[key].tolist() == t.state_dict()[key].tolist()
    e = ember.nn.CrossEntropyLoss(weight=ember.ones(3))
    e.load_state_dict({"weight": ember.tensor([0.0, 1.0, 0.0])})
    assert e.weight.tolist() == [0.0, 1.0, 0.0]
    assert e.double().weight.dtype == ember.float64


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True),
                                                  (True, False), (None, True)])
def test_deprecated_size_average_and_reduce_map_to_reduction_like_torch(size_average, reduce):
    for name in ["MSELoss", "CrossEntropyLoss", "KLDivLoss", "TripletMarginLoss", "PoissonNLLLoss"]:
        with warnings.catch_warnings(record=True) as torch_warnings:
            warnings.simplefilter("always")
            t = getattr(torch.nn, name)(size_average=size_average, reduce=reduce)
        with warnings.catch_warnings(record=True) as ember_warnings:
            warnings.simplefilter("always")
            e = getattr(ember.nn, name)(size_average=size_average, reduce=reduce)
        assert e.reduction == t.reduction, name
        assert [str(w.message) for w in ember_warnings] == [str(w.message) for w in torch_warnings]
        assert all(w.filename == __file__ for w in ember_warnings), [w.filename for w in ember_warnings]


def test_attributes_defaults_and_reprs_match_torch():
    for name in ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
                 "HuberLoss", "SmoothL1Loss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
                 "MultiLabelMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
                 "TripletMarginLoss", "TripletMarginWithDistanceLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss"]:
        t, e = getattr(torch.nn, name)(), getattr(ember.nn, name)()
        assert repr(e) == repr(t)
        public = {k: v for k, v in vars(t).items() if not k.startswith("_") and k != "training"}
        for attr, value in public.items():
            if isinstance(value, torch.nn.Module):
                assert type(getattr(e, attr)).__name__ == type(value).__name__
            else:
                assert getattr(e, attr) == value, (name, attr)
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        assert repr(ember.nn.NLLLoss2d()) == "NLLLoss2d()"


def test_constructor_errors_match_torch():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
            lib.nn.MultiMarginLoss(p=3)
        with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
            lib.nn.MultiMarginLoss(weight=lib.ones(2, 2))
        with pytest.raises(ValueError, match="expected margin to be greater than 0"):
            lib.nn.TripletMarginLoss(margin=0.0)
        with pytest.raises(ValueError, match="expected margin to be greater than 0"):
            lib.nn.TripletMarginWithDistanceLoss(margin=-1.0)
        with pytest.raises(TypeError, match="delta must be a float or int"):
            lib.nn.HuberLoss(delta="1")
        with pytest.raises(TypeError):
            lib.nn.GaussianNLLLoss(True)
