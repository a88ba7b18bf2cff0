"""ember.vision.transforms: shapes, dtypes and values (against torch arithmetic), randomness under a seed."""

import colorsys
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as T
from ember.vision.transforms import InterpolationMode
from ember.vision.transforms import functional as F


def _image(shape=(6, 8, 3), dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.random(shape).astype(dtype)


def _t(array):
    return ember.from_numpy(np.ascontiguousarray(array))


# ------------------------------------------------------------------------------------------ conversions

def test_to_tensor_matches_torch_arithmetic():
    for shape in ((5, 7), (5, 7, 3), (5, 7, 1)):
        image = _image(shape)
        out = T.ToTensor()(image)
        chw = image if image.ndim == 3 else image[:, :, None]
        expected = torch.from_numpy(chw.transpose(2, 0, 1).copy()).float().div(255)
        assert out.dtype == ember.float32 and tuple(out.shape) == tuple(expected.shape)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
    floats = _image((2, 3, 3), np.float64)
    out = T.ToTensor()(floats)
    assert out.dtype == ember.float64 and np.array_equal(out.numpy(), floats.transpose(2, 0, 1))
    out.numpy()[0, 0, 0] = 7  # never shares memory with the array
    assert floats[0, 0, 0] != 7


def test_to_tensor_pil_and_errors():
    Image = pytest.importorskip("PIL.Image")
    out = T.ToTensor()(Image.new("RGB", (4, 2), (255, 0, 51)))
    assert out.shape == (3, 2, 4) and out[:, 0, 0].tolist() == pytest.approx([1.0, 0.0, 0.2])
    with pytest.raises(TypeError, match="already is a tensor"):
        T.ToTensor()(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="NumPy array or a PIL Image"):
        T.ToTensor()([[1, 2]])


def test_pil_to_tensor_and_convert_image_dtype():
    image = _image((3, 4, 3))
    out = T.PILToTensor()(image)
    assert out.dtype == ember.uint8 and np.array_equal(out.numpy(), image.transpose(2, 0, 1))
    as_float = T.ConvertImageDtype(ember.float32)(out)
    np.testing.assert_array_equal(as_float.numpy(), torch.from_numpy(image.transpose(2, 0, 1).copy()).float().numpy() / 255)
    floats = torch.rand(2, 3, 3, dtype=torch.float32)
    back = F.convert_image_dtype(_t(floats.numpy()), ember.uint8)
    np.testing.assert_array_equal(back.numpy(), floats.mul(255.999).to(torch.uint8).numpy())
    wide = F.convert_image_dtype(_t(np.array([0, 1, 255], np.uint8)), ember.int16)
    assert wide.tolist() == [0, 128, 32640]
    assert F.convert_image_dtype(_t(np.array([0, 32767], np.int16)), ember.uint8).tolist() == [0, 255]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ember.zeros(2), ember.int64)
    assert F.convert_image_dtype(np.array([255], np.uint8), np.float64).dtype == np.float64


def test_normalize_matches_torch_and_inplace():
    x = torch.rand(3, 4, 5)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    expected = (x - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    source = _t(x.numpy())
    out = T.Normalize(mean, std)(source)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    assert np.array_equal(source.numpy(), x.numpy())
    same = T.Normalize(mean, std, inplace=True)(source)
    assert same is source
    np.testing.assert_allclose(source.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    batched = T.Normalize([0.5], [0.5])(ember.ones(2, 1, 2, 2))
    assert batched.shape == (2, 1, 2, 2) and float(batched.sum()) == 8.0
    assert T.Normalize([0.5], [0.5])(ember.ones(1, 1, 1, dtype=ember.float64)).dtype == ember.float64


def test_normalize_errors():
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize([0.5], [0.5])(ember.ones(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(TypeError, match="apply ToTensor"):
        T.Normalize([0.5], [0.5])(np.ones((2, 2, 1)))
    with pytest.raises(ValueError, match=r"\(..., C, H, W\)"):
        T.Normalize([0.5], [0.5])(ember.ones(2, 2))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.5], [0.0])(ember.ones(1, 2, 2))
    with pytest.raises(RuntimeError, match="one value per channel"):
        T.Normalize([0.5] * 3, [0.5] * 3)(ember.ones(1, 2, 2))


def test_normalize_is_differentiable():
    x = ember.ones(1, 2, 2, requires_grad=True)
    T.Normalize([0.0], [0.5])(x).sum().backward()
    assert x.grad.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]


# ------------------------------------------------------------------------------------------ geometry

@pytest.mark.parametrize("size,antialias,mode", [((5, 3), False, "bilinear"), ((13, 11), False, "bilinear"),
                                                 ((5, 3), True, "bilinear"), ((13, 11), True, "bilinear"),
                                                 ((4, 9), True, "bicubic"), ((3, 20), True, "bicubic"),
                                                 ((5, 3), False, "nearest"), ((13, 11), False, "nearest-exact")])
def test_resize_matches_torch_interpolate(size, antialias, mode):
    x = torch.rand(2, 3, 10, 8, dtype=torch.float64)
    kwargs = {} if mode.startswith("nearest") else {"align_corners": False, "antialias": antialias}
    expected = torch.nn.functional.interpolate(x, size=size, mode=mode, **kwargs)
    out = T.Resize(size, interpolation=InterpolationMode(mode), antialias=antialias)(_t(x.numpy()))
    assert out.dtype == ember.float64 and tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    single = T.Resize(size, interpolation=mode, antialias=antialias)(_t(x[0].float().numpy()))
    np.testing.assert_allclose(single.numpy(), expected[0].float().numpy(), rtol=1e-5, atol=1e-6)


def test_resize_uint8_arrays_round_like_torch():
    image = _image((12, 16, 3))
    out = T.Resize((5, 7))(image)
    assert out.dtype == np.uint8 and out.shape == (5, 7, 3)
    source = torch.from_numpy(image.transpose(2, 0, 1).copy())[None].float()
    expected = torch.nn.functional.interpolate(source, size=(5, 7), mode="bilinear", antialias=True,
                                               align_corners=False).round().to(torch.uint8)[0].permute(1, 2, 0)
    assert np.abs(out.astype(int) - expected.numpy().astype(int)).max() <= 1
    gray = T.Resize((24, 32), interpolation=InterpolationMode.BICUBIC)(image[:, :, 0])
    assert gray.shape == (24, 32) and gray.dtype == np.uint8
    up = T.Resize((24, 32), antialias=False)(_t(image.transpose(2, 0, 1)))
    assert up.dtype == ember.uint8 and up.shape == (3, 24, 32)


def test_resize_smaller_edge_and_max_size():
    assert T.Resize(5)(ember.zeros(3, 10, 20)).shape == (3, 5, 10)
    assert T.Resize([5])(np.zeros((21, 10), np.uint8)).shape == (10, 5)  # int(5 * 21 / 10) = 10
    assert T.Resize(5, max_size=8)(ember.zeros(1, 10, 20)).shape == (1, 4, 8)
    same = ember.zeros(1, 5, 10)
    assert T.Resize(5)(same) is same
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((4, 4), max_size=8)
    with pytest.raises(ValueError, match="strictly greater"):
        T.Resize(8, max_size=8)(ember.zeros(1, 10, 20))
    with pytest.raises(ValueError, match="PIL-only"):
        T.Resize(4, interpolation=InterpolationMode.LANCZOS)
    with pytest.raises(TypeError, match="size should be an int"):
        T.Resize((1, 2, 3))


def test_resize_without_antialias_is_differentiable():
    x = ember.ones(1, 1, 4, 4, requires_grad=True)
    F.resize(x, [2, 2], antialias=False).sum().backward()
    assert float(x.grad.sum()) == pytest.approx(4.0)


def test_center_crop_values_and_padding():
    image = np.arange(7 * 6).reshape(7, 6)
    np.testing.assert_array_equal(T.CenterCrop(3)(image), image[2:5, 2:5])  # round(2.0), round(1.5) = 2
    np.testing.assert_array_equal(T.CenterCrop((4, 2))(image), image[2:6, 2:4])  # round(1.5) = 2
    tensor = _t(np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4))
    out = T.CenterCrop((6, 5))(tensor)
    assert out.shape == (2, 6, 5)
    expected = np.zeros((2, 6, 5), np.float32)
    expected[:, 1:5, 0:4] = tensor.numpy()
    np.testing.assert_array_equal(out.numpy(), expected)


def test_crop_outside_is_zero_filled():
    image = np.arange(1, 10).reshape(3, 3)
    np.testing.assert_array_equal(F.crop(image, -1, 2, 2, 2), [[0, 0], [3, 0]])


@pytest.mark.parametrize("mode,torch_mode", [("reflect", "reflect"), ("edge", "replicate")])
def test_pad_modes_match_torch(mode, torch_mode):
    x = torch.rand(3, 4, 5)
    out = T.Pad((1, 2, 3, 1), padding_mode=mode)(_t(x.numpy()))
    expected = torch.nn.functional.pad(x[None], (1, 3, 2, 1), mode=torch_mode)[0]
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_pad_constant_symmetric_and_errors():
    image = np.array([[1, 2], [3, 4]], np.uint8)
    assert T.Pad(1, fill=9)(image).tolist() == [[9, 9, 9, 9], [9, 1, 2, 9], [9, 3, 4, 9], [9, 9, 9, 9]]
    np.testing.assert_array_equal(F.pad(image, 1, padding_mode="symmetric"), np.pad(image, 1, mode="symmetric"))
    colour = F.pad(np.zeros((1, 1, 3), np.uint8), (1, 0), fill=(1, 2, 3))
    assert colour.shape == (1, 3, 3) and colour[0, 0].tolist() == [1, 2, 3]
    assert F.pad(image, -1).shape == (0, 0) and F.pad(image, (0, 0, -1, 0)).tolist() == [[1], [3]]
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")


def test_random_crop_shapes_padding_and_reproducibility():
    image = _image((32, 32, 3))
    ember.manual_seed(3)
    first = T.RandomCrop(32, padding=4)(image)
    ember.manual_seed(3)
    assert np.array_equal(T.RandomCrop(32, padding=4)(image), first)
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8
    crops = {T.RandomCrop(32, padding=4, fill=255)(image).tobytes() for _ in range(10)}
    assert len(crops) > 1
    small = T.RandomCrop((6, 8), pad_if_needed=True)(ember.ones(1, 4, 5))
    assert small.shape == (1, 6, 8)
    with pytest.raises(ValueError, match="larger than the input image size"):
        T.RandomCrop(8)(ember.ones(1, 4, 5))
    whole = np.arange(16).reshape(4, 4)
    assert np.array_equal(T.RandomCrop(4)(whole), whole)
    inside = T.RandomCrop(2)(whole)
    assert any(np.array_equal(inside, whole[i:i + 2, j:j + 2]) for i in range(3) for j in range(3))


def test_flips():
    image = np.arange(6).reshape(2, 3)
    assert T.RandomHorizontalFlip(p=1.0)(image).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert T.RandomVerticalFlip(p=1.0)(image).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert T.RandomHorizontalFlip(p=0.0)(image) is image
    tensor = _t(np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3))
    np.testing.assert_array_equal(F.hflip(tensor).numpy(), torch.from_numpy(tensor.numpy()).flip(-1).numpy())
    ember.manual_seed(0)
    flips = [T.RandomHorizontalFlip()(image)[0, 0] == 2 for _ in range(200)]
    assert 60 < sum(flips) < 140
    ember.manual_seed(0)
    assert [T.RandomHorizontalFlip()(image)[0, 0] == 2 for _ in range(200)] == flips


def test_random_resized_crop_params():
    image = np.zeros((40, 60), np.uint8)
    ember.manual_seed(0)
    for _ in range(50):
        top, left, height, width = T.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= top and top + height <= 40 and 0 <= left and left + width <= 60
        assert 0.08 * 2400 * 0.8 <= height * width <= 2400
        assert 3 / 4 * 0.8 <= width / height <= 4 / 3 * 1.25
    # An impossible scale falls back to the central crop clipped to the ratio range.
    assert T.RandomResizedCrop.get_params(image, (2.0, 3.0), (1.0, 1.0)) == (0, 10, 40, 40)
    assert T.RandomResizedCrop.get_params(np.zeros((60, 10)), (2.0, 3.0), (1.0, 2.0)) == (25, 0, 10, 10)
    out = T.RandomResizedCrop(16)(ember.rand(3, 40, 60))
    assert out.shape == (3, 16, 16)
    assert T.RandomResizedCrop((8, 4))(image).shape == (8, 4)
    with pytest.warns(UserWarning, match="should be of kind"):
        T.RandomResizedCrop(8, scale=(1.0, 0.5))


def test_random_resized_crop_equals_crop_then_resize():
    image = _t(np.random.default_rng(0).random((3, 30, 30)).astype(np.float32))
    ember.manual_seed(7)
    top, left, height, width = T.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
    ember.manual_seed(7)
    out = T.RandomResizedCrop(10)(image)
    crop = torch.from_numpy(image.numpy()[:, top:top + height, left:left + width].copy())[None]
    expected = torch.nn.functional.interpolate(crop, size=(10, 10), mode="bilinear", antialias=True)[0]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ colour

def _torch_gray(img):
    r, g, b = img.unbind(-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)


def _torch_blend(a, b, ratio):
    bound = 1.0 if a.is_floating_point() else 255.0
    return (ratio * a + (1.0 - ratio) * b).clamp(0, bound).to(a.dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_colour_adjustments_match_torchvision_formulas(dtype):
    chw = _image((3, 5, 6), dtype)
    x = torch.from_numpy(chw.copy())
    compute = x.dtype if x.is_floating_point() else torch.float32
    checks = [
        (F.adjust_brightness(_t(chw), 1.3), _torch_blend(x, torch.zeros_like(x), 1.3)),
        (F.adjust_saturation(_t(chw), 0.4), _torch_blend(x, _torch_gray(x), 0.4)),
        (F.adjust_contrast(_t(chw), 1.7),
         _torch_blend(x, torch.mean(_torch_gray(x).to(compute), dim=(-3, -2, -1), keepdim=True), 1.7)),
        (F.rgb_to_grayscale(_t(chw)), _torch_gray(x)),
    ]
    for out, expected in checks:
        assert out.dtype == ember.from_numpy(expected.numpy()).dtype and out.shape == tuple(expected.shape)
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected.numpy().astype(np.float64),
                                   atol=1 if dtype == np.uint8 else 1e-6)


def test_colour_adjustments_on_arrays_equal_tensors():
    image = _image((4, 5, 3))
    tensor = _t(image.transpose(2, 0, 1))
    for name, factor in (("adjust_brightness", 0.7), ("adjust_contrast", 0.5), ("adjust_saturation", 1.5),
                         ("adjust_hue", -0.2)):
        from_array = getattr(F, name)(image, factor)
        from_tensor = getattr(F, name)(tensor, factor)
        assert from_array.shape == image.shape and from_array.dtype == np.uint8
        np.testing.assert_array_equal(from_array, from_tensor.numpy().transpose(1, 2, 0))


def test_adjust_hue_matches_colorsys():
    image = _image((3, 4, 3), np.float64)
    out = F.adjust_hue(image, 0.25)
    for pixel, shifted in zip(image.reshape(-1, 3), out.reshape(-1, 3)):
        h, s, v = colorsys.rgb_to_hsv(*pixel)
        np.testing.assert_allclose(shifted, colorsys.hsv_to_rgb((h + 0.25) % 1.0, s, v), atol=1e-9)
    gray = np.full((2, 2), 7, np.uint8)
    assert F.adjust_hue(gray, 0.3) is gray
    with pytest.raises(ValueError, match=r"not in \[-0.5, 0.5\]"):
        F.adjust_hue(image, 0.6)


def test_colour_errors():
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_brightness(np.zeros((2, 2)), -1)
    with pytest.raises(TypeError, match="permitted channel values"):
        F.adjust_contrast(np.zeros((2, 2, 4)), 1.0)
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match="between"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="length 2"):
        T.ColorJitter(contrast=(1, 2, 3))


def test_color_jitter_ranges_and_reproducibility():
    jitter = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.3), saturation=0, hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.contrast == (0.2, 0.3)
    assert jitter.saturation is None and jitter.hue == (-0.1, 0.1)
    image = _image((8, 8, 3))
    ember.manual_seed(11)
    first = jitter(image)
    ember.manual_seed(11)
    assert np.array_equal(jitter(image), first)
    assert first.shape == image.shape and first.dtype == np.uint8 and not np.array_equal(first, image)
    ember.manual_seed(11)
    order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and 0.5 <= b <= 1.5 and 0.2 <= c <= 0.3 and s is None
    assert -0.1 <= h <= 0.1
    assert T.ColorJitter()(image) is image


def test_grayscale_transforms():
    image = _image((4, 5, 3))
    gray = T.Grayscale()(image)
    assert gray.shape == (4, 5) and gray.dtype == np.uint8
    three = T.Grayscale(num_output_channels=3)(_t(image.transpose(2, 0, 1)))
    assert three.shape == (3, 4, 5) and np.array_equal(three.numpy()[0], three.numpy()[2])
    assert T.RandomGrayscale(p=1.0)(image).shape == (4, 5, 3)
    assert T.RandomGrayscale(p=0.0)(image) is image
    with pytest.raises(ValueError, match="1 or 3"):
        F.rgb_to_grayscale(image, 2)


# ------------------------------------------------------------------------------------------ composition

def test_compose_lambda_and_random_containers():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2)])
    assert float(pipeline(np.full((1, 1), 255, np.uint8))[0, 0, 0]) == 2.0
    assert "ToTensor()" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
    add = T.Lambda(lambda x: x + 1)
    double = T.Lambda(lambda x: x * 2)
    assert T.RandomApply([add], p=0.0)(1) == 1 and T.RandomApply([add, double], p=1.0)(1) == 4
    ember.manual_seed(0)
    picks = {T.RandomChoice([add, double], p=[1, 3])(10) for _ in range(30)}
    assert picks == {11, 20}
    orders = {T.RandomOrder([add, double])(1) for _ in range(30)}
    assert orders == {3, 4}
    with pytest.raises(ValueError, match="number of p values"):
        T.RandomChoice([add], p=[0.5, 0.5])


def test_training_pipeline_reproducible_under_seed():
    pipeline = T.Compose([T.RandomResizedCrop(16), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                          T.RandomGrayscale(0.3), T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)])
    image = _image((24, 32, 3))
    ember.manual_seed(42)
    first = [pipeline(image).numpy() for _ in range(3)]
    ember.manual_seed(42)
    second = [pipeline(image).numpy() for _ in range(3)]
    for a, b in zip(first, second):
        assert a.shape == (3, 16, 16) and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_functional_module_and_helpers():
    import ember.vision.transforms.functional as functional
    assert functional is F and F.get_image_size(np.zeros((4, 5))) == [5, 4]
    assert F.get_image_num_channels(ember.zeros(2, 3, 3)) == 2
    with pytest.raises(TypeError, match="NumPy array"):
        F.hflip([1, 2])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        F.vflip(np.zeros((1, 2, 3, 4)))
    with pytest.raises(NotImplementedError, match="torchvision.transforms.RandomRotation"):
        T.RandomRotation
    assert math.isclose(float(F.adjust_brightness(ember.ones(1, 1, 1), 0.5)), 0.5)
