"""Write a tiny fake ImageNet: every file the ImageNet configs read, with a few JPEGs per class.

    emanplug-fake-imagenet data/fake_imagenet [--classes 4] [--train-per-class 4]
                           [--val-per-class 4] [--size 96] [--seed 0]
    (in a checkout: python tools/make_fake_imagenet.py ...)

The folder serves both layouts the configs use, so that any ImageNet config trains on it
with ``data/imagenet/`` replaced by the folder (an end-to-end smoke test without the real
data set, e.g. ``tests/test_imagenet_smoke.py``):

    train/<wnid>/<wnid>_<i>.JPEG           ImageFolder (FixMatch, kNN bank) and mmpretrain's layout
    val/<wnid>/ILSVRC2012_val_<n>.JPEG     ImageFolder (FixMatch's evaluation, kNN queries)
    meta/train.txt, meta/val.txt           mmpretrain's ImageNet: ``<wnid>/<file> <label>`` per line
                                           (val.txt in random class order, as the real one)
    splits/10percent.txt, 1percent.txt     FixMatch's labeled splits and the kNN bank: bare file
                                           names, class-balanced (at least one image per class)

Images are ``--size`` pixels on the short side (the long side up to 4/3 of it, landscape or
portrait), a colour per class with noise and a bright rectangle, so that crops differ.
A folder that exists, is not empty and was not written by this command is refused.
"""
import argparse
import os
import os.path as osp
import shutil
from typing import List, Optional, Sequence

from . import check_output, command
from ..errors import ConfigError

#: The first ImageNet-1k classes (sorted wnids, labels 0, 1, ...); further classes get made-up ids.
WNIDS = ('n01440764', 'n01443537', 'n01484850', 'n01491361', 'n01494475',
         'n01496331', 'n01498041', 'n01514668', 'n01514859', 'n01518878')
#: The file that marks a folder written by this command (which may therefore be rewritten).
MARKER = 'FAKE_IMAGENET.txt'
#: Split files -> share of each class's training images (the configs' 10 % and 1 % lists).
SPLITS = {'10percent.txt': 0.1, '1percent.txt': 0.01}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text!r} is not allowed; allowed: an integer >= 1')
    return value


def _size(text: str) -> int:
    value = _count(text)
    if value < 8:
        raise argparse.ArgumentTypeError(f'{text!r} is not allowed; allowed: an integer >= 8 (pixels)')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-fake-imagenet', description=__doc__.split('\n')[0])
    parser.add_argument('out', help='folder to write (new, empty, or written by this command)')
    parser.add_argument('--classes', type=_count, default=4)
    parser.add_argument('--train-per-class', type=_count, default=4)
    parser.add_argument('--val-per-class', type=_count, default=4)
    parser.add_argument('--size', type=_size, default=96, help='short side of the images in pixels')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def wnids(num_classes: int) -> List[str]:
    """``num_classes`` sorted class ids: ImageNet's first ones, then made-up ``n99...`` ids."""
    extra = [f'n99{i:06d}' for i in range(max(0, num_classes - len(WNIDS)))]
    return (list(WNIDS) + extra)[:num_classes]


def _image(rng, label: int, num_classes: int, size: int):
    import numpy as np
    from PIL import Image
    long_side = int(size * rng.uniform(1.0, 4 / 3))
    h, w = (size, long_side) if rng.random() < 0.5 else (long_side, size)
    hue = 2 * np.pi * label / num_classes
    colour = 128 + 100 * np.cos(hue + np.array([0.0, 2.1, 4.2]))
    ramp = np.linspace(-40, 40, w)[None, :, None]
    pixels = colour[None, None, :] + ramp + rng.normal(0, 25, (h, w, 3))
    y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
    pixels[y:y + h // 3, x:x + w // 3] += 80
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _prepare(out: str) -> None:
    check_output(out, 'out', folder=True)
    if osp.isdir(out) and os.listdir(out):
        if not osp.isfile(osp.join(out, MARKER)):
            raise ConfigError(f'out={out!r} is not empty and was not written by emanplug-fake-imagenet; '
                              'allowed: a new or empty folder, or one this command wrote')
        for name in ('train', 'val', 'meta', 'splits'):
            shutil.rmtree(osp.join(out, name), ignore_errors=True)
    os.makedirs(out, exist_ok=True)


def run(argv: Optional[Sequence[str]] = None) -> str:
    """Write the fake ImageNet the command line ``argv`` asks for; returns the folder."""
    import numpy as np

    from ..datasets.splits import balanced_split
    args = parse_args(argv)
    out = args.out
    _prepare(out)
    rng = np.random.default_rng(args.seed)
    classes = wnids(args.classes)
    lines = {'train': [], 'val': []}
    val_number = 0
    for label, wnid in enumerate(classes):
        for subset, count in (('train', args.train_per_class), ('val', args.val_per_class)):
            os.makedirs(osp.join(out, subset, wnid), exist_ok=True)
            for i in range(count):
                if subset == 'train':
                    name = f'{wnid}_{i + 1}.JPEG'
                else:
                    val_number += 1
                    name = f'ILSVRC2012_val_{val_number:08d}.JPEG'
                _image(rng, label, args.classes, args.size).save(
                    osp.join(out, subset, wnid, name), quality=90)
                lines[subset].append((f'{wnid}/{name}', label))
    os.makedirs(osp.join(out, 'meta'), exist_ok=True)
    order = {'train': range(len(lines['train'])), 'val': rng.permutation(len(lines['val']))}
    for subset, rows in lines.items():
        with open(osp.join(out, 'meta', f'{subset}.txt'), 'w') as f:
            f.writelines(f'{rows[i][0]} {rows[i][1]}\n' for i in order[subset])
    os.makedirs(osp.join(out, 'splits'), exist_ok=True)
    labels = [label for _, label in lines['train']]
    for name, share in SPLITS.items():
        chosen = balanced_split(labels, share, args.seed)
        with open(osp.join(out, 'splits', name), 'w') as f:
            f.writelines(osp.basename(lines['train'][i][0]) + '\n' for i in chosen)
    with open(osp.join(out, MARKER), 'w') as f:
        f.write('A fake ImageNet written by emanplug-fake-imagenet (emanplug/cli/fake_imagenet.py): '
                f'{args.classes} classes, {args.train_per_class} train and {args.val_per_class} val '
                f'images per class, {args.size} px, seed {args.seed}.  Not real data.\n')
    print(f'{out}: fake ImageNet, {args.classes} classes, {len(lines["train"])} train and '
          f'{len(lines["val"])} val images ({args.size} px); meta/train.txt, meta/val.txt, '
          f'splits/{", splits/".join(SPLITS)}')
    return out


main = command(run)  # ``emanplug-fake-imagenet``: run() with one-line errors


if __name__ == '__main__':
    main()
