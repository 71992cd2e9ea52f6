"""The strong view of FixMatch on ImageNet as the EMAN paper's code makes it:
RandAugment(n=2, m=10) with a random level per operation and no Cutout.

Why a transform of its own: mmpretrain's ``RandAugment`` applies each chosen operation with
its own probability and draws the magnitude from a normal or a *continuous* uniform law,
its ``SolarizeAdd`` has no sign and no solarisation, and it has no identity operation.  The
official code (``data/randaugment.py``, class ``RandAugment`` with ``imagenet_augment_pool``,
used by ``data/transforms.py`` for ``--strong-type RandAugment``) applies every chosen
operation, at an integer level drawn uniformly from ``1 .. m - 1``, from the 16 operations
below.  This module reproduces that sampling and those ranges on PIL images.
"""
from typing import Callable, Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageEnhance, ImageOps


def _sign(value, rng):
    """``value`` or ``-value`` with probability 1/2 each."""
    return -value if rng.random_sample() < 0.5 else value


def _enhance(kind) -> Callable:
    return lambda img, x, rng: kind(img).enhance(x)


def _affine(matrix: Callable) -> Callable:
    return lambda img, x, rng: img.transform(img.size, Image.AFFINE, matrix(img, _sign(x, rng)))


def _solarize_add(img: Image.Image, x: int, rng) -> Image.Image:
    """Shift every pixel by +-x (clipped to 0..255), then invert the pixels >= 128."""
    shifted = np.clip(np.asarray(img).astype(np.int16) + _sign(x, rng), 0, 255).astype(np.uint8)
    return ImageOps.solarize(Image.fromarray(shifted), 128)


# name -> (operation(img, value, rng), span, offset, integer): at level v of total T the
# value is v * span / T + offset, truncated to an int where ``integer``.
OPERATIONS: Dict[str, Tuple[Callable, float, float, bool]] = {
    'AutoContrast': (lambda img, x, rng: ImageOps.autocontrast(img), 0, 0, False),
    'Brightness': (_enhance(ImageEnhance.Brightness), 1.8, 0.1, False),
    'Color': (_enhance(ImageEnhance.Color), 1.8, 0.1, False),
    'Contrast': (_enhance(ImageEnhance.Contrast), 1.8, 0.1, False),
    'Equalize': (lambda img, x, rng: ImageOps.equalize(img), 0, 0, False),
    'Identity': (lambda img, x, rng: img, 0, 0, False),
    'Invert': (lambda img, x, rng: ImageOps.invert(img), 0, 0, False),
    'Posterize': (lambda img, x, rng: ImageOps.posterize(img, x), 4, 4, True),
    'Rotate': (lambda img, x, rng: img.rotate(_sign(x, rng)), 30, 0, True),
    'Sharpness': (_enhance(ImageEnhance.Sharpness), 1.8, 0.1, False),
    'ShearX': (_affine(lambda img, s: (1, s, 0, 0, 1, 0)), 0.3, 0, False),
    'ShearY': (_affine(lambda img, s: (1, 0, 0, s, 1, 0)), 0.3, 0, False),
    'Solarize': (lambda img, x, rng: ImageOps.solarize(img, 256 - x), 256, 0, True),
    'SolarizeAdd': (_solarize_add, 110, 0, True),
    'TranslateX': (_affine(lambda img, t: (1, 0, int(t * img.size[0]), 0, 1, 0)), 0.45, 0, False),
    'TranslateY': (_affine(lambda img, t: (1, 0, 0, 0, 1, int(t * img.size[1]))), 0.45, 0, False),
}


@TRANSFORMS.register_module()
class RandomMagnitudeRandAugment(BaseTransform):
    """Apply ``num_ops`` operations drawn with replacement from :data:`OPERATIONS`, each at
    its own integer level drawn uniformly from ``1 .. magnitude - 1`` (out of
    ``total_level``), every chosen operation always applied.

    The ranges at level v of 10: enhancements (brightness, colour, contrast, sharpness) a
    factor 0.1 + 0.18 v; rotation 3 v degrees; shear 0.03 v; translation 0.045 v of the
    side; posterize to 4 + int(0.4 v) bits; solarize above 256 - int(25.6 v); SolarizeAdd
    +-11 v then solarize above 128.  Geometric operations, rotation and shear are random in
    sign, use nearest-neighbour sampling and fill with black, as PIL does by default.

    Args:
        num_ops (int): operations per image (RandAugment's n). Default 2.
        magnitude (int): RandAugment's m; levels are drawn from ``1 .. magnitude - 1``.
            Default 10.
        total_level (int): the level of the full range (PARAMETER_MAX). Default 10.

    Reads and writes ``results['img']``, an HxWx3 uint8 BGR array (mmcv's loading order);
    the operations run on the RGB image.

    Example:
        >>> t = RandomMagnitudeRandAugment(num_ops=2, magnitude=10)
        >>> out = t(dict(img=np.zeros((224, 224, 3), np.uint8)))
        >>> out['img'].shape, out['img'].dtype
        ((224, 224, 3), dtype('uint8'))
    """

    def __init__(self, num_ops: int = 2, magnitude: int = 10, total_level: int = 10) -> None:
        if num_ops < 1 or not 2 <= magnitude <= total_level:
            raise ValueError(f'num_ops={num_ops}, magnitude={magnitude}, total_level={total_level}: '
                             'allowed num_ops >= 1 and 2 <= magnitude <= total_level')
        self.num_ops, self.magnitude, self.total_level = num_ops, magnitude, total_level
        self.names = sorted(OPERATIONS)

    def value(self, name: str, level: int):
        """The parameter of operation ``name`` at ``level``."""
        _, span, offset, integer = OPERATIONS[name]
        raw = level * span / self.total_level
        return int(raw) + offset if integer else raw + offset

    def transform(self, results: dict) -> dict:
        rng = np.random  # the process's global generator, seeded per dataloader worker
        img = results['img']
        color = img.ndim == 3
        pil = Image.fromarray(np.ascontiguousarray(img[..., ::-1] if color else img))
        for index in rng.randint(len(self.names), size=self.num_ops):
            name = self.names[index]
            level = rng.randint(1, self.magnitude)
            pil = OPERATIONS[name][0](pil, self.value(name, level), rng)
        out = np.asarray(pil)
        results['img'] = np.ascontiguousarray(out[..., ::-1] if color else out)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, '
                f'total_level={self.total_level})')
