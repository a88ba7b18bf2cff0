"""``ember.vision.transforms``: torchvision's image transforms for NumPy arrays and ember tensors.

Two kinds of image go in:

- a NumPy array ``(H, W)`` or ``(H, W, C)`` (uint8 or float) — what Ember's datasets return, playing the part of
  torchvision's PIL image (a PIL image is accepted too and treated as its array). Transforms other than
  ``ToTensor``/``PILToTensor`` give back an array of the same layout and dtype.
- an ember Tensor ``(..., C, H, W)`` (or ``(H, W)``), as torchvision's tensor images. Transforms give back a
  tensor of the same dtype.

``ToTensor()`` turns an array into a float (C, H, W) tensor, dividing uint8 values by 255. Random transforms
draw from ember's default generator, so ``ember.manual_seed`` makes a pipeline reproducible (the numbers differ
from torchvision's). The arithmetic follows torchvision's tensor functions (e.g. uint8 results of colour
adjustments are truncated, resized ones rounded). ``Resize`` with ``antialias=True`` (the default, as torchvision)
filters like ``torch.nn.functional.interpolate(..., antialias=True)``; without antialiasing it calls
``ember.nn.functional.interpolate``. ``Normalize`` and antialias-free resizing of tensors run through ember ops (so
they are differentiable); the other transforms work on the data.

``ember.vision.transforms.functional`` holds the functional forms (``hflip``, ``resize``, ``normalize``...).

>>> from ember.vision import transforms
>>> pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
>>> pipeline(np.full((2, 2), 255, dtype=np.uint8))
tensor([[[1., 1.],
         [1., 1.]]])
"""

from __future__ import annotations

import enum
import math
import numbers
import sys
import types
import warnings
from collections.abc import Sequence

import numpy as np

import ember
from ember import dtypes as _dtypes
from ember.errors import MissingFeatureError
from ember.nn.module import Module
from ember.ops.random import default_generator
from ember.tensor import Tensor, from_array

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad",
           "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomResizedCrop", "ColorJitter", "Grayscale", "RandomGrayscale",
           "InterpolationMode", "functional"]

_FUNCTIONAL = ["to_tensor", "pil_to_tensor", "convert_image_dtype", "normalize", "resize", "center_crop", "crop",
               "resized_crop", "pad", "hflip", "vflip", "adjust_brightness", "adjust_contrast", "adjust_saturation",
               "adjust_hue", "rgb_to_grayscale", "to_grayscale", "get_dimensions", "get_image_size",
               "get_image_num_channels", "InterpolationMode"]


class InterpolationMode(enum.Enum):
    """Resampling filters, as ``torchvision.transforms.InterpolationMode``. Ember supports ``NEAREST``,
    ``NEAREST_EXACT``, ``BILINEAR`` and ``BICUBIC``; ``BOX``, ``HAMMING`` and ``LANCZOS`` (PIL-only filters in
    torchvision) raise.

    >>> from ember.vision.transforms import InterpolationMode
    >>> InterpolationMode.BILINEAR.value
    'bilinear'
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _rng():
    # Looked up per call: manual_seed replaces the stream inside the default generator.
    return default_generator.rng


# ------------------------------------------------------------------------------------------------- image plumbing

def _is_pil(img) -> bool:
    return hasattr(img, "getbands") and hasattr(img, "mode") and hasattr(img, "size")


def _describe(img) -> str:
    if isinstance(img, (np.ndarray, Tensor)):
        return f"{type(img).__name__} of shape {tuple(img.shape)} and dtype {img.dtype}"
    return type(img).__name__


def _unpack(img, name: str):
    """``img`` as an array (..., C, H, W) and a function that turns such an array back into ``img``'s kind."""
    if _is_pil(img):
        img = np.array(img)
    if isinstance(img, Tensor):
        data = img._data
        if data.ndim < 2:
            raise ValueError(f"{name}: a tensor image must have at least 2 dimensions (..., C, H, W) or (H, W), got "
                             f"shape {tuple(data.shape)}")
        if data.ndim == 2:
            return data[None], lambda out: from_array(np.ascontiguousarray(out[0]))
        return data, lambda out: from_array(np.ascontiguousarray(out))
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img[None], lambda out: np.ascontiguousarray(out[0]) if out.shape[0] == 1 else \
                np.ascontiguousarray(out.transpose(1, 2, 0))
        if img.ndim == 3:
            return img.transpose(2, 0, 1), lambda out: np.ascontiguousarray(out.transpose(1, 2, 0))
        raise ValueError(f"{name}: a NumPy image must be (H, W) or (H, W, C), got shape {img.shape}")
    raise TypeError(f"{name}: img should be a NumPy array (H, W[, C]), a PIL Image or an ember Tensor (..., C, H, W), "
                    f"got {type(img).__name__}")


def get_dimensions(img) -> list:
    """``[channels, height, width]`` of an image.

    >>> from ember.vision.transforms import functional as F
    >>> F.get_dimensions(np.zeros((4, 5, 3))), F.get_dimensions(ember.zeros(2, 4, 5))
    ([3, 4, 5], [2, 4, 5])
    """
    chw, _ = _unpack(img, "get_dimensions")
    return [int(chw.shape[-3]), int(chw.shape[-2]), int(chw.shape[-1])]


def get_image_size(img) -> list:
    """``[width, height]`` of an image (torchvision's order).

    >>> from ember.vision.transforms import functional as F
    >>> F.get_image_size(np.zeros((4, 5)))
    [5, 4]
    """
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img) -> int:
    """Number of channels of an image.

    >>> from ember.vision.transforms import functional as F
    >>> F.get_image_num_channels(np.zeros((4, 5, 3)))
    3
    """
    return get_dimensions(img)[0]


def _max_value(dtype: np.dtype):
    if dtype.kind in "iu":
        return int(np.iinfo(dtype).max)
    if dtype.kind == "b":
        return 1
    return 1.0


def _float_type(dtype: np.dtype) -> np.dtype:
    # torchvision computes integer images in float32 and keeps float images in their own precision.
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def _cast_back(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results to ``dtype`` as torchvision's tensor ops do: a plain (truncating) cast, clipped to range."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(values, info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _check_channels(chw: np.ndarray, permitted, name: str) -> int:
    channels = chw.shape[-3]
    if channels not in permitted:
        raise TypeError(f"{name}: input image tensor permitted channel values are {list(permitted)}, but found "
                        f"{channels} channels")
    return channels


def _size_pair(size, name: str, error_message: str = "Please provide only two dimensions (h, w) for size."):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"{name}: {error_message} Got {size!r}")
    return int(size[0]), int(size[1])


# --------------------------------------------------------------------------------------------- conversions

def to_tensor(pic) -> Tensor:
    """A NumPy array (H, W) / (H, W, C) or PIL image as a (C, H, W) tensor; uint8 values are divided by 255 into
    the default float dtype, other dtypes are kept (as torchvision's ``to_tensor``).

    >>> from ember.vision.transforms import functional as F
    >>> F.to_tensor(np.array([[0, 51], [102, 255]], dtype=np.uint8))
    tensor([[[0.0000, 0.2000],
             [0.4000, 1.0000]]])
    """
    if isinstance(pic, Tensor):
        raise TypeError(f"to_tensor: pic should be a NumPy array (H, W[, C]) or a PIL Image, got an ember Tensor of "
                        f"shape {tuple(pic.shape)} — it already is a tensor, so drop ToTensor() from the pipeline "
                        "(or use ConvertImageDtype to change its dtype)")
    if _is_pil(pic):
        pic = np.array(pic)
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"to_tensor: pic should be a NumPy array or a PIL Image, got {type(pic).__name__}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"to_tensor: pic should be 2/3 dimensional (H, W[, C]), got {pic.ndim} dimensions "
                         f"(shape {pic.shape})")
    chw = (pic[:, :, None] if pic.ndim == 2 else pic).transpose(2, 0, 1)
    if pic.dtype == np.uint8 or pic.dtype == np.bool_:
        default = ember.get_default_dtype().numpy_dtype
        scale = 255 if pic.dtype == np.uint8 else 1
        return from_array(np.ascontiguousarray(chw, dtype=default) / default.type(scale))
    return from_array(np.array(chw, order="C"))


def pil_to_tensor(pic) -> Tensor:
    """A NumPy array (H, W) / (H, W, C) or PIL image as a (C, H, W) tensor of the same dtype (no scaling).

    >>> from ember.vision.transforms import functional as F
    >>> F.pil_to_tensor(np.full((2, 3, 3), 7, dtype=np.uint8)).shape
    ember.Size([3, 2, 3])
    """
    if _is_pil(pic):
        pic = np.array(pic)
    if not isinstance(pic, np.ndarray) or pic.ndim not in (2, 3):
        raise TypeError(f"pil_to_tensor: pic should be a NumPy array (H, W[, C]) or a PIL Image, got {_describe(pic)}")
    chw = (pic[:, :, None] if pic.ndim == 2 else pic).transpose(2, 0, 1)
    return from_array(np.array(chw, order="C"))


def convert_image_dtype(image, dtype=None):
    """Convert an image's dtype, rescaling values as torchvision: floats span [0, 1], integers [0, max].

    Float to integer multiplies by ``max + 1 - 0.001`` and truncates; integer to float divides by the input's max.

    >>> from ember.vision.transforms import functional as F
    >>> F.convert_image_dtype(ember.tensor([0, 128, 255], dtype=ember.uint8), ember.float32)
    tensor([0.0000, 0.5020, 1.0000])
    >>> F.convert_image_dtype(ember.tensor([0.0, 0.5, 1.0]), ember.uint8)
    tensor([  0, 127, 255], dtype=ember.uint8)
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    if isinstance(image, Tensor):
        values = image._data
        target = dtype.numpy_dtype if isinstance(dtype, _dtypes.dtype) else np.dtype(dtype)
        wrap = from_array
    elif isinstance(image, np.ndarray) or _is_pil(image):
        values = np.asarray(image)
        target = dtype.numpy_dtype if isinstance(dtype, _dtypes.dtype) else np.dtype(dtype)
        wrap = np.asarray
    else:
        raise TypeError(f"convert_image_dtype: image should be an ember Tensor or a NumPy array, got {_describe(image)}")
    return wrap(_convert_dtype(values, target))


def _convert_dtype(values: np.ndarray, target: np.dtype) -> np.ndarray:
    source = values.dtype
    if source == target:
        return values
    if source.kind == "f":
        if target.kind == "f" or str(target) == "bfloat16":
            return values.astype(target)
        if (source == np.float32 and target in (np.int32, np.int64)) or (source == np.float64 and target == np.int64):
            raise RuntimeError(f"convert_image_dtype: the cast from {source} to {target} cannot be performed safely")
        scaled = values * source.type(_max_value(target) + 1.0 - 1e-3)
        return scaled.astype(target)
    input_max = _max_value(source)
    if target.kind == "f" or str(target) == "bfloat16":
        return (values.astype(target) / target.type(input_max)).astype(target)
    output_max = _max_value(target)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return (values // factor).astype(target)
    factor = (output_max + 1) // (input_max + 1)
    return values.astype(target) * target.type(factor)


def normalize(tensor, mean, std, inplace=False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float tensor image (..., C, H, W); ``inplace`` writes into it.

    >>> from ember.vision.transforms import functional as F
    >>> F.normalize(ember.ones(2, 1, 1), mean=[0.5, 0.0], std=[0.5, 2.0])
    tensor([[[1.0000]],
    <BLANKLINE>
            [[0.5000]]])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"normalize: img should be an ember Tensor image (C, H, W), got {_describe(tensor)}; "
                        "apply ToTensor() first")
    if not tensor.is_floating_point():
        raise TypeError(f"normalize: input tensor should be a float tensor, got {tensor.dtype} (use ToTensor() or "
                        "ConvertImageDtype(ember.float32) first)")
    if tensor.ndim < 3:
        raise ValueError(f"normalize: expected tensor to be a tensor image of size (..., C, H, W), got tensor.size() "
                         f"= {tuple(tensor.shape)}")
    numpy_dtype = tensor._data.dtype
    mean = np.asarray(mean.detach().numpy() if isinstance(mean, Tensor) else mean, dtype=numpy_dtype)
    std = np.asarray(std.detach().numpy() if isinstance(std, Tensor) else std, dtype=numpy_dtype)
    if (std == 0).any():
        raise ValueError(f"normalize: std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
                         "zero")
    if mean.ndim == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.ndim == 1:
        std = std.reshape(-1, 1, 1)
    try:
        fits = np.broadcast_shapes(tensor._data.shape, mean.shape, std.shape) == tensor._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"normalize: mean (shape {mean.shape}) and std (shape {std.shape}) must give one value per "
                           f"channel of the image of shape {tuple(tensor.shape)} (..., C, H, W)")
    if inplace or tensor.requires_grad:
        # Through ember ops: autograd records them and in-place writes bump the tensor's version.
        mean, std = from_array(mean), from_array(std)
        return tensor.sub_(mean).div_(std) if inplace else (tensor - mean) / std
    # Data-pipeline fast path: the same float arithmetic without per-op dispatch.
    return from_array((tensor._data - mean) / std)


# ------------------------------------------------------------------------------------------------- geometry

def hflip(img):
    """Mirror an image left to right.

    >>> from ember.vision.transforms import functional as F
    >>> F.hflip(np.array([[1, 2, 3]]))
    array([[3, 2, 1]])
    """
    chw, rebuild = _unpack(img, "hflip")
    return rebuild(chw[..., ::-1])


def vflip(img):
    """Flip an image upside down.

    >>> from ember.vision.transforms import functional as F
    >>> F.vflip(ember.tensor([[[1], [2]]]))
    tensor([[[2],
             [1]]])
    """
    chw, rebuild = _unpack(img, "vflip")
    return rebuild(chw[..., ::-1, :])


def _padding_ltrb(padding, name: str):
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"{name}: got inappropriate padding arg {padding!r}: expected an int or a sequence of ints")
    if isinstance(padding, numbers.Number):
        if not isinstance(padding, numbers.Integral):
            raise TypeError(f"{name}: padding must be an int or a sequence of ints, got {padding!r}")
        return (int(padding),) * 4
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"{name}: padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                         "tuple")
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    return tuple(padding)


def _pad_chw(chw: np.ndarray, ltrb, fill, padding_mode: str, name: str) -> np.ndarray:
    left, top, right, bottom = ltrb
    height, width = chw.shape[-2:]
    # Negative padding crops, as torchvision's.
    chw = chw[..., max(-top, 0):height - max(-bottom, 0), max(-left, 0):width - max(-right, 0)]
    left, top, right, bottom = (max(p, 0) for p in ltrb)
    if not (left or top or right or bottom):
        return chw
    if padding_mode != "constant":
        numpy_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode]
        if padding_mode == "reflect" and (max(top, bottom) >= chw.shape[-2] or max(left, right) >= chw.shape[-1]):
            raise ValueError(f"{name}: reflect padding ({left}, {top}, {right}, {bottom}) must be smaller than the "
                             f"image's size {tuple(chw.shape[-2:])} (height, width)")
        widths = [(0, 0)] * (chw.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(chw, widths, mode=numpy_mode)
    channels = chw.shape[-3]
    out = np.empty(chw.shape[:-2] + (top + chw.shape[-2] + bottom, left + chw.shape[-1] + right), dtype=chw.dtype)
    if isinstance(fill, (tuple, list)):
        if len(fill) not in (1, channels):
            raise ValueError(f"{name}: fill has {len(fill)} values but the image has {channels} channels")
        out[...] = np.asarray(fill, dtype=np.float64).reshape(-1, 1, 1).astype(chw.dtype)
    else:
        out[...] = np.asarray(fill).astype(chw.dtype)
    out[..., top:top + chw.shape[-2], left:left + chw.shape[-1]] = chw
    return out


def _check_pad_arguments(fill, padding_mode, name):
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"{name}: got inappropriate fill arg {fill!r}: expected a number or a sequence of numbers")
    if not isinstance(padding_mode, str):
        raise TypeError(f"{name}: got inappropriate padding_mode arg {padding_mode!r}")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"{name}: padding mode should be either constant, edge, reflect or symmetric, got "
                         f"{padding_mode!r}")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad an image's borders: ``padding`` is an int (all sides), ``(left/right, top/bottom)`` or ``(left, top,
    right, bottom)``; ``padding_mode`` is ``constant`` (with ``fill``, a number or one per channel), ``edge``,
    ``reflect`` or ``symmetric``. Negative padding crops.

    >>> from ember.vision.transforms import functional as F
    >>> F.pad(np.array([[1, 2]]), (1, 0), fill=9)
    array([[9, 1, 2, 9]])
    >>> F.pad(ember.tensor([[[1, 2, 3]]]), (2, 0), padding_mode="reflect")
    tensor([[[3, 2, 1, 2, 3, 2, 1]]])
    """
    ltrb = _padding_ltrb(padding, "pad")
    _check_pad_arguments(fill, padding_mode, "pad")
    chw, rebuild = _unpack(img, "pad")
    return rebuild(_pad_chw(chw, ltrb, fill, padding_mode, "pad"))


def crop(img, top: int, left: int, height: int, width: int):
    """The ``height`` x ``width`` region whose top-left corner is (``top``, ``left``); parts outside the image
    are zero-filled.

    >>> from ember.vision.transforms import functional as F
    >>> F.crop(np.arange(9).reshape(3, 3), 1, 1, 2, 2)
    array([[4, 5],
           [7, 8]])
    """
    chw, rebuild = _unpack(img, "crop")
    return rebuild(_crop_chw(chw, int(top), int(left), int(height), int(width)))


def _crop_chw(chw, top, left, height, width):
    image_height, image_width = chw.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > image_width or bottom > image_height:
        ltrb = (max(-left + min(0, right), 0), max(-top + min(0, bottom), 0), max(right - max(image_width, left), 0),
                max(bottom - max(image_height, top), 0))
        return _pad_chw(chw[..., max(top, 0):bottom, max(left, 0):right], ltrb, 0, "constant", "crop")
    return chw[..., top:bottom, left:right]


def center_crop(img, output_size):
    """The central ``output_size`` (int or (h, w)) region; an image smaller than that is zero-padded first.

    >>> from ember.vision.transforms import functional as F
    >>> F.center_crop(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  6],
           [ 9, 10]])
    """
    crop_height, crop_width = _size_pair(output_size, "center_crop")
    chw, rebuild = _unpack(img, "center_crop")
    return rebuild(_center_crop_chw(chw, crop_height, crop_width))


def _center_crop_chw(chw, crop_height, crop_width):
    image_height, image_width = chw.shape[-2:]
    if crop_width > image_width or crop_height > image_height:
        ltrb = ((crop_width - image_width) // 2 if crop_width > image_width else 0,
                (crop_height - image_height) // 2 if crop_height > image_height else 0,
                (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                (crop_height - image_height + 1) // 2 if crop_height > image_height else 0)
        chw = _pad_chw(chw, ltrb, 0, "constant", "center_crop")
        image_height, image_width = chw.shape[-2:]
        if crop_width == image_width and crop_height == image_height:
            return chw
    # Python's round (half to even), as torchvision.
    top = int(round((image_height - crop_height) / 2.0))
    left = int(round((image_width - crop_width) / 2.0))
    return _crop_chw(chw, top, left, crop_height, crop_width)


def _interpolation(interpolation, name: str) -> InterpolationMode:
    if isinstance(interpolation, str):
        try:
            interpolation = InterpolationMode(interpolation)
        except ValueError:
            pass
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError(f"{name}: argument interpolation should be an InterpolationMode (or its string value), "
                        f"got {interpolation!r}")
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT, InterpolationMode.BILINEAR,
                             InterpolationMode.BICUBIC):
        raise ValueError(f"{name}: interpolation {interpolation.value!r} is a PIL-only filter in torchvision and is "
                         "not supported by Ember; use NEAREST, NEAREST_EXACT, BILINEAR or BICUBIC")
    return interpolation


def _resized_output_size(image_size, size, max_size):
    height, width = image_size
    short, long = (width, height) if width <= height else (height, width)
    requested_short = size if isinstance(size, int) else size[0]
    new_short, new_long = requested_short, int(requested_short * long / short)
    if max_size is not None:
        if max_size <= requested_short:
            raise ValueError(f"resize: max_size = {max_size} must be strictly greater than the requested size for the "
                             f"smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_height, new_width]


def _check_resize_size(size, max_size, name):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = [int(size)]
    elif isinstance(size, Sequence) and len(size) in (1, 2):
        size = [int(s) for s in size]
    else:
        raise TypeError(f"{name}: size should be an int or a sequence of 1 or 2 ints, got {size!r}")
    if len(size) == 2 and max_size is not None:
        raise ValueError(f"{name}: max_size should only be passed if size specifies the length of the smaller edge, "
                         "i.e. size should be an int or a sequence of length 1")
    if any(s <= 0 for s in size):
        raise ValueError(f"{name}: size must be positive, got {size}")
    return size


def _antialias_weights(in_size: int, out_size: int, bicubic: bool) -> np.ndarray:
    """(out, in) filter matrix of torch's antialiased interpolation (PIL's resampling filters)."""
    scale = in_size / out_size
    support = (2.0 if bicubic else 1.0) * max(scale, 1.0)
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    centers = scale * (np.arange(out_size) + 0.5)
    starts = np.maximum((centers - support + 0.5).astype(np.int64), 0)
    stops = np.minimum((centers + support + 0.5).astype(np.int64), in_size)
    offsets = (np.arange(in_size)[None, :] - centers[:, None] + 0.5) * inverse
    x = np.abs(offsets)
    if bicubic:
        a = -0.5
        weights = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                           np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    else:
        weights = np.maximum(1.0 - x, 0.0)
    columns = np.arange(in_size)[None, :]
    weights = np.where((columns >= starts[:, None]) & (columns < stops[:, None]), weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    return weights / np.where(totals == 0, 1.0, totals)


def _resize_values(chw: np.ndarray, output_size, mode: InterpolationMode, antialias: bool) -> np.ndarray:
    """Resize (..., C, H, W) data to ``output_size`` keeping its dtype (integers computed in float32, rounded)."""
    dtype = chw.dtype
    flat = chw.reshape((-1,) + chw.shape[-3:])
    out_shape = chw.shape[:-2] + tuple(output_size)
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        resized = ember.nn.functional.interpolate(from_array(np.ascontiguousarray(flat)), size=list(output_size),
                                                  mode=mode.value)
        return resized._data.reshape(out_shape)
    compute = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)
    if antialias:
        bicubic = mode is InterpolationMode.BICUBIC
        rows = _antialias_weights(flat.shape[-2], output_size[0], bicubic)
        cols = _antialias_weights(flat.shape[-1], output_size[1], bicubic)
        # Contiguous operands keep np.matmul on BLAS; integer images are filtered in float32, as torch does.
        # The horizontal pass is one GEMM over all rows of all channels.
        flat = np.ascontiguousarray(flat, dtype=compute)
        across = (flat.reshape(-1, flat.shape[-1]) @ np.ascontiguousarray(cols.T, dtype=compute))
        values = np.matmul(rows.astype(compute), across.reshape(flat.shape[:-1] + (output_size[1],)))
    else:
        values = ember.nn.functional.interpolate(from_array(np.ascontiguousarray(flat, dtype=compute)),
                                                 size=list(output_size), mode=mode.value, align_corners=False)._data
    if dtype.kind in "iu":
        values = np.round(values)
    return _cast_back(values, dtype).reshape(out_shape)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize an image to ``size``: (h, w), or an int / 1-sequence for the smaller edge keeping the aspect ratio
    (the longer edge is then ``int(size * long / short)``, capped by ``max_size``).

    ``antialias=True`` (default; ignored by the nearest modes) filters like
    ``torch.nn.functional.interpolate(..., antialias=True)`` (PIL's filters, which torchvision uses for images);
    ``False`` calls ``ember.nn.functional.interpolate``. Integer images are computed in float32 and rounded back.

    >>> from ember.vision.transforms import functional as F
    >>> F.resize(ember.ones(3, 10, 20), 5).shape
    ember.Size([3, 5, 10])
    >>> F.resize(np.zeros((10, 20, 3), dtype=np.uint8), [4, 4]).shape
    (4, 4, 3)
    """
    size = _check_resize_size(size, max_size, "resize")
    mode = _interpolation(interpolation, "resize")
    chw, rebuild = _unpack(img, "resize")
    height, width = chw.shape[-2:]
    output_size = size if len(size) == 2 else _resized_output_size((height, width), size, max_size)
    if [height, width] == list(output_size):
        return img
    filtered = antialias and mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    is_nearest = mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT)
    if isinstance(img, Tensor) and not filtered and (is_nearest or img.dtype in (ember.float32, ember.float64)):
        # Through ember's op on the tensor itself, so the result keeps autograd history.
        batch = img.reshape((-1,) + tuple(chw.shape[-3:]))
        resized = ember.nn.functional.interpolate(batch, size=list(output_size), mode=mode.value,
                                                  align_corners=None if is_nearest else False)
        return resized.reshape(tuple(img.shape[:-2]) + tuple(output_size))
    return rebuild(_resize_values(chw, output_size, mode, bool(antialias)))


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize`` to ``size``.

    >>> from ember.vision.transforms import functional as F
    >>> F.resized_crop(ember.ones(1, 8, 8), 0, 0, 4, 4, [2, 2]).shape
    ember.Size([1, 2, 2])
    """
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


# ------------------------------------------------------------------------------------------------- colour

def _gray_chw(chw: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601-2) of (..., 3, H, W) data, as (..., 1, H, W) in the input dtype."""
    compute = _float_type(chw.dtype)
    red, green, blue = (chw[..., i, :, :].astype(compute, copy=False) for i in range(3))
    luma = compute.type(0.2989) * red + compute.type(0.587) * green + compute.type(0.114) * blue
    return _cast_back(luma, chw.dtype)[..., None, :, :]


def _blend(first: np.ndarray, second: np.ndarray, ratio: float) -> np.ndarray:
    compute = _float_type(first.dtype)
    mixed = compute.type(ratio) * first.astype(compute, copy=False) + \
        compute.type(1.0 - ratio) * second.astype(compute, copy=False)
    return _cast_back(np.clip(mixed, 0, _max_value(first.dtype)), first.dtype)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Greyscale ``0.2989 R + 0.587 G + 0.114 B`` with 1 or 3 output channels (a 1-channel image passes through).
    A NumPy (H, W, 3) image gives (H, W) for one output channel, like PIL's ``convert("L")``.

    >>> from ember.vision.transforms import functional as F
    >>> F.rgb_to_grayscale(ember.tensor([[[1.0]], [[0.0]], [[0.0]]]))
    tensor([[[0.2989]]])
    """
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels should be either 1 or 3, got {num_output_channels}")
    chw, rebuild = _unpack(img, "rgb_to_grayscale")
    channels = _check_channels(chw, (1, 3), "rgb_to_grayscale")
    gray = _gray_chw(chw) if channels == 3 else chw.copy()
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:])
    out = rebuild(gray)
    if isinstance(out, np.ndarray) and out.ndim == 3 and out.shape[-1] == 1:
        out = out[..., 0]
    return out


to_grayscale = rgb_to_grayscale


def adjust_brightness(img, brightness_factor: float):
    """Multiply by ``brightness_factor`` (0 gives black, 1 the original), clipped to the dtype's range.

    >>> from ember.vision.transforms import functional as F
    >>> F.adjust_brightness(np.array([[100, 200]], dtype=np.uint8), 1.5)
    array([[150, 255]], dtype=uint8)
    """
    if brightness_factor < 0:
        raise ValueError(f"adjust_brightness: brightness_factor ({brightness_factor}) is not non-negative")
    chw, rebuild = _unpack(img, "adjust_brightness")
    _check_channels(chw, (1, 3), "adjust_brightness")
    return rebuild(_blend(chw, np.zeros_like(chw), brightness_factor))


def adjust_contrast(img, contrast_factor: float):
    """Blend with the image's mean grey level (0 gives solid grey, 1 the original).

    >>> from ember.vision.transforms import functional as F
    >>> F.adjust_contrast(ember.tensor([[[0.0, 1.0]]]), 0.5)
    tensor([[[0.2500, 0.7500]]])
    """
    if contrast_factor < 0:
        raise ValueError(f"adjust_contrast: contrast_factor ({contrast_factor}) is not non-negative")
    chw, rebuild = _unpack(img, "adjust_contrast")
    channels = _check_channels(chw, (1, 3), "adjust_contrast")
    compute = _float_type(chw.dtype)
    gray = _gray_chw(chw) if channels == 3 else chw
    mean = gray.astype(compute).mean(axis=(-3, -2, -1), keepdims=True, dtype=compute)
    return rebuild(_blend(chw, mean, contrast_factor))


def adjust_saturation(img, saturation_factor: float):
    """Blend with the greyscale image (0 gives grey, 1 the original, 2 doubles saturation).

    >>> from ember.vision.transforms import functional as F
    >>> F.adjust_saturation(ember.tensor([[[1.0]], [[0.0]], [[0.0]]]), 0.0)
    tensor([[[0.2989]],
    <BLANKLINE>
            [[0.2989]],
    <BLANKLINE>
            [[0.2989]]])
    """
    if saturation_factor < 0:
        raise ValueError(f"adjust_saturation: saturation_factor ({saturation_factor}) is not non-negative")
    chw, rebuild = _unpack(img, "adjust_saturation")
    if _check_channels(chw, (1, 3), "adjust_saturation") == 1:
        return img
    return rebuild(_blend(chw, _gray_chw(chw), saturation_factor))


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    red, green, blue = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc = rgb.max(axis=-3)
    minc = rgb.min(axis=-3)
    equal = maxc == minc
    chroma = maxc - minc
    ones = np.ones_like(maxc)
    saturation = chroma / np.where(equal, ones, maxc)
    divisor = np.where(equal, ones, chroma)
    red_c, green_c, blue_c = (maxc - red) / divisor, (maxc - green) / divisor, (maxc - blue) / divisor
    hue_red = (maxc == red) * (blue_c - green_c)
    hue_green = ((maxc == green) & (maxc != red)) * (2.0 + red_c - blue_c)
    hue_blue = ((maxc != green) & (maxc != red)) * (4.0 + green_c - red_c)
    hue = np.fmod((hue_red + hue_green + hue_blue) / 6.0 + 1.0, 1.0)
    return np.stack((hue, saturation, maxc), axis=-3)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    hue, saturation, value = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    sector = np.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p = np.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = np.clip(value * (1.0 - saturation * fraction), 0.0, 1.0)
    t = np.clip(value * (1.0 - saturation * (1.0 - fraction)), 0.0, 1.0)
    table = np.stack([np.stack(channel, axis=-3) for channel in
                      ((value, q, p, p, t, value), (t, value, value, q, p, p), (p, p, t, value, value, q))], axis=-4)
    picked = np.take_along_axis(table, sector[..., None, None, :, :], axis=-3)
    return picked[..., 0, :, :]


def adjust_hue(img, hue_factor: float):
    """Shift the hue by ``hue_factor`` in [-0.5, 0.5] turns (through HSV, as torchvision's tensor path).

    >>> from ember.vision.transforms import functional as F
    >>> F.adjust_hue(ember.tensor([[[1.0]], [[0.0]], [[0.0]]]), 1 / 3)
    tensor([[[0.]],
    <BLANKLINE>
            [[1.]],
    <BLANKLINE>
            [[0.]]])
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor ({hue_factor}) is not in [-0.5, 0.5]")
    chw, rebuild = _unpack(img, "adjust_hue")
    if _check_channels(chw, (1, 3), "adjust_hue") == 1:
        return img
    original = chw.dtype
    values = _convert_dtype(chw, np.dtype(np.float32)) if original.kind != "f" else chw
    hsv = _rgb_to_hsv(values)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + values.dtype.type(hue_factor)) % 1.0
    return rebuild(_convert_dtype(_hsv_to_rgb(hsv).astype(values.dtype, copy=False), original))


# ------------------------------------------------------------------------------------------------- transforms

class Compose:
    """Apply transforms one after another.

    >>> from ember.vision import transforms
    >>> transforms.Compose([transforms.ToTensor(), transforms.CenterCrop(2)])(np.zeros((4, 4), np.uint8)).shape
    ember.Size([1, 2, 2])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """NumPy array (H, W[, C]) or PIL image -> (C, H, W) tensor; uint8 values / 255 in the default float dtype.

    >>> from ember.vision import transforms
    >>> transforms.ToTensor()(np.full((2, 2, 3), 255, dtype=np.uint8)).shape
    ember.Size([3, 2, 2])
    """

    def __call__(self, pic):
        return to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class PILToTensor:
    """NumPy array (H, W[, C]) or PIL image -> (C, H, W) tensor of the same dtype, no scaling.

    >>> from ember.vision import transforms
    >>> transforms.PILToTensor()(np.full((2, 2), 9, dtype=np.uint8))
    tensor([[[9, 9],
             [9, 9]]], dtype=ember.uint8)
    """

    def __call__(self, pic):
        return pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ConvertImageDtype(Module):
    """Convert an image to ``dtype`` rescaling values (see ``functional.convert_image_dtype``).

    >>> from ember.vision import transforms
    >>> transforms.ConvertImageDtype(ember.float32)(ember.tensor([255], dtype=ember.uint8))
    tensor([1.])
    """

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}(dtype={self.dtype})"


class Normalize(Module):
    """``(image - mean) / std`` per channel of a float tensor image (..., C, H, W).

    >>> from ember.vision import transforms
    >>> transforms.Normalize(mean=[0.5], std=[0.25])(ember.ones(1, 1, 2))
    tensor([[[2., 2.]]])
    """

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Resize(Module):
    """Resize to ``size`` ((h, w), or an int for the smaller edge); see ``functional.resize``.

    >>> from ember.vision import transforms
    >>> transforms.Resize(4)(ember.rand(3, 8, 16)).shape
    ember.Size([3, 4, 8])
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        _check_resize_size(size, max_size, "Resize")
        self.size = size
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation, "Resize")
        self.antialias = antialias

    def forward(self, img):
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(Module):
    """Crop the centre to ``size`` (int or (h, w)); zero-pads images smaller than that.

    >>> from ember.vision import transforms
    >>> transforms.CenterCrop((2, 3))(np.zeros((5, 5, 3))).shape
    (2, 3, 3)
    """

    def __init__(self, size):
        super().__init__()
        self.size = _size_pair(size, "CenterCrop")

    def forward(self, img):
        return center_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(Module):
    """Pad the borders (see ``functional.pad``).

    >>> from ember.vision import transforms
    >>> transforms.Pad(1)(ember.zeros(1, 2, 2)).shape
    ember.Size([1, 4, 4])
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        _padding_ltrb(padding, "Pad")
        _check_pad_arguments(fill, padding_mode, "Pad")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class Lambda:
    """Apply a user function as a transform.

    >>> from ember.vision import transforms
    >>> transforms.Lambda(lambda x: x * 2)(3)
    6
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomApply(Module):
    """Apply the list of ``transforms`` with probability ``p``.

    >>> from ember.vision import transforms
    >>> transforms.RandomApply([transforms.Lambda(lambda x: x + 1)], p=1.0)(1)
    2
    """

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = list(transforms)
        self.p = p

    def forward(self, img):
        if self.p < _rng().random():
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class RandomChoice:
    """Apply one transform picked at random (weighted by ``p`` if given).

    >>> from ember.vision import transforms
    >>> transforms.RandomChoice([transforms.Lambda(lambda x: x + 1)])(1)
    2
    """

    def __init__(self, transforms, p=None):
        self.transforms = list(transforms)
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"RandomChoice: the number of p values ({len(p)}) must match the number of transforms "
                             f"({len(self.transforms)})")
        total = None if p is None else float(sum(p))
        self.p = [1.0 / len(self.transforms)] * len(self.transforms) if p is None else [v / total for v in p]

    def __call__(self, img):
        index = int(_rng().choice(len(self.transforms), p=self.p))
        return self.transforms[index](img)

    def __repr__(self):
        return f"{type(self).__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder:
    """Apply the transforms in a random order.

    >>> from ember.vision import transforms
    >>> transforms.RandomOrder([transforms.Lambda(lambda x: x * 2), transforms.Lambda(lambda x: x * 3)])(1)
    6
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for index in _rng().permutation(len(self.transforms)):
            img = self.transforms[int(index)](img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(transforms={self.transforms})"


class RandomCrop(Module):
    """Crop a random ``size`` region, after optional ``padding`` (and ``pad_if_needed`` for small images, which
    pads both sides by the shortfall, as torchvision).

    >>> from ember.vision import transforms
    >>> _ = ember.manual_seed(0)
    >>> transforms.RandomCrop(32, padding=4)(np.zeros((32, 32, 3), dtype=np.uint8)).shape
    (32, 32, 3)
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = _size_pair(size, "RandomCrop")
        if padding is not None:
            _padding_ltrb(padding, "RandomCrop")
        _check_pad_arguments(fill, padding_mode, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """Random ``(top, left, height, width)`` of a crop of ``output_size`` inside ``img``.

        >>> from ember.vision import transforms
        >>> transforms.RandomCrop.get_params(np.zeros((4, 4)), (4, 4))
        (0, 0, 4, 4)
        """
        _, height, width = get_dimensions(img)
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(f"RandomCrop: required crop size {(crop_height, crop_width)} is larger than the input "
                             f"image size {(height, width)}; pass pad_if_needed=True or padding")
        if width == crop_width and height == crop_height:
            return 0, 0, height, width
        top = int(_rng().integers(0, height - crop_height + 1))
        left = int(_rng().integers(0, width - crop_width + 1))
        return top, left, crop_height, crop_width

    def forward(self, img):
        chw, rebuild = _unpack(img, "RandomCrop")
        if self.padding is not None:
            chw = _pad_chw(chw, _padding_ltrb(self.padding, "RandomCrop"), self.fill, self.padding_mode, "RandomCrop")
        height, width = chw.shape[-2:]
        if self.pad_if_needed and width < self.size[1]:
            shortfall = self.size[1] - width
            chw = _pad_chw(chw, (shortfall, 0, shortfall, 0), self.fill, self.padding_mode, "RandomCrop")
        if self.pad_if_needed and chw.shape[-2] < self.size[0]:
            shortfall = self.size[0] - chw.shape[-2]
            chw = _pad_chw(chw, (0, shortfall, 0, shortfall), self.fill, self.padding_mode, "RandomCrop")
        top, left, height, width = self.get_params(from_array(chw), self.size)
        return rebuild(_crop_chw(chw, top, left, height, width))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Module):
    """Mirror left to right with probability ``p``.

    >>> from ember.vision import transforms
    >>> transforms.RandomHorizontalFlip(p=1.0)(np.array([[1, 2]]))
    array([[2, 1]])
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if _rng().random() < self.p:
            return hflip(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(Module):
    """Flip upside down with probability ``p``.

    >>> from ember.vision import transforms
    >>> transforms.RandomVerticalFlip(p=1.0)(np.array([[1], [2]]))
    array([[2],
           [1]])
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if _rng().random() < self.p:
            return vflip(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomResizedCrop(Module):
    """Crop a random region (area fraction in ``scale``, aspect ratio in ``ratio``, sampled log-uniformly as
    torchvision, 10 tries then a central crop) and resize it to ``size``.

    >>> from ember.vision import transforms
    >>> _ = ember.manual_seed(0)
    >>> transforms.RandomResizedCrop(8)(ember.rand(3, 32, 24)).shape
    ember.Size([3, 8, 8])
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        super().__init__()
        self.size = _size_pair(size, "RandomResizedCrop")
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError(f"RandomResizedCrop: scale should be a sequence of length 2, got {scale!r}")
        if not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise TypeError(f"RandomResizedCrop: ratio should be a sequence of length 2, got {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = _interpolation(interpolation, "RandomResizedCrop")
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """Random ``(top, left, height, width)`` of the crop, by torchvision's sampling algorithm.

        >>> from ember.vision import transforms
        >>> _ = ember.manual_seed(0)
        >>> top, left, height, width = transforms.RandomResizedCrop.get_params(np.zeros((10, 10)), (0.5, 0.5), (1, 1))
        >>> height, width
        (7, 7)
        """
        _, height, width = get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        rng = _rng()
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            crop_width = int(round(math.sqrt(target_area * aspect_ratio)))
            crop_height = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < crop_width <= width and 0 < crop_height <= height:
                top = int(rng.integers(0, height - crop_height + 1))
                left = int(rng.integers(0, width - crop_width + 1))
                return top, left, crop_height, crop_width
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            crop_width = width
            crop_height = int(round(crop_width / min(ratio)))
        elif in_ratio > max(ratio):
            crop_height = height
            crop_width = int(round(crop_height * max(ratio)))
        else:
            crop_width, crop_height = width, height
        return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width

    def forward(self, img):
        top, left, height, width = self.get_params(img, self.scale, self.ratio)
        return resized_crop(img, top, left, height, width, list(self.size), self.interpolation, self.antialias)

    def __repr__(self):
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _jitter_range(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"ColorJitter: if {name} is a single number, it must be non negative, got {value}")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"ColorJitter: {name} should be a single number or a list/tuple with length 2, got {value!r}")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"ColorJitter: {name} values should be between {bound}, but got {value}")
    if value[0] == value[1] == center:
        return None
    return tuple(value)


class ColorJitter(Module):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Each of ``brightness``, ``contrast``, ``saturation`` is a number ``x`` (factor drawn from [max(0, 1 - x),
    1 + x]) or a (min, max) pair; ``hue`` is ``x`` in [0, 0.5] (shift drawn from [-x, x]) or a pair in
    [-0.5, 0.5].

    >>> from ember.vision import transforms
    >>> _ = ember.manual_seed(0)
    >>> jitter = transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    >>> jitter(np.full((2, 2, 3), 128, dtype=np.uint8)).shape
    (2, 2, 3)
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """A random order of the four adjustments and the factors drawn for them (None where disabled).

        >>> from ember.vision import transforms
        >>> _ = ember.manual_seed(0)
        >>> order, b, c, s, h = transforms.ColorJitter.get_params((0.5, 1.5), None, None, None)
        >>> sorted(order.tolist()), 0.5 <= b <= 1.5, c
        ([0, 1, 2, 3], True, None)
        """
        rng = _rng()
        order = ember.from_numpy(rng.permutation(4).astype(np.int64))
        factors = [None if bounds is None else float(rng.uniform(bounds[0], bounds[1]))
                   for bounds in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def forward(self, img):
        order, brightness, contrast, saturation, hue = self.get_params(self.brightness, self.contrast,
                                                                       self.saturation, self.hue)
        for index in order.tolist():
            if index == 0 and brightness is not None:
                img = adjust_brightness(img, brightness)
            elif index == 1 and contrast is not None:
                img = adjust_contrast(img, contrast)
            elif index == 2 and saturation is not None:
                img = adjust_saturation(img, saturation)
            elif index == 3 and hue is not None:
                img = adjust_hue(img, hue)
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(Module):
    """Convert to greyscale with 1 or 3 output channels (see ``functional.rgb_to_grayscale``).

    >>> from ember.vision import transforms
    >>> transforms.Grayscale()(np.zeros((2, 2, 3), dtype=np.uint8)).shape
    (2, 2)
    """

    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(Module):
    """Convert to greyscale (keeping the channel count) with probability ``p``.

    >>> from ember.vision import transforms
    >>> transforms.RandomGrayscale(p=1.0)(ember.ones(3, 1, 1))
    tensor([[[0.9999]],
    <BLANKLINE>
            [[0.9999]],
    <BLANKLINE>
            [[0.9999]]])
    """

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        channels = get_dimensions(img)[0]
        if _rng().random() < self.p:
            return rgb_to_grayscale(img, num_output_channels=channels)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


functional = types.ModuleType(f"{__name__}.functional", "Functional image transforms (torchvision.transforms."
                              "functional's names): to_tensor, normalize, resize, crop, pad, hflip, adjust_hue...")
for _name in _FUNCTIONAL:
    setattr(functional, _name, globals()[_name])
functional.__all__ = list(_FUNCTIONAL)
# Lets `import ember.vision.transforms.functional as F` work like torchvision's import.
sys.modules[functional.__name__] = functional


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise MissingFeatureError(f"torchvision.transforms.{name} is not implemented in Ember")
