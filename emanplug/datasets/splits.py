"""Labeled / unlabeled splits for semi-supervised learning, as index files.

A split file lists the labeled images, one per line, as paths relative to the dataset's
image folder (``airplane/0042.jpg``) or bare file names (``n01440764_10026.JPEG``); a CSV
whose first column is the file name (optionally a second column with the class name, and a
header) is read too.  Lines starting with ``#`` are comments.  The official code's 1 % /
10 % ImageNet lists, CSVs with a column ``Index`` of integer positions in torchvision's
``ImageFolder`` order (classes sorted, then file names), are read unchanged
(:func:`read_index_split`, :func:`image_folder_order`).
"""
import csv
import math
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import ConfigError


AMOUNT_ALLOWED = ('a total that the number of classes divides (4000), a percentage in (0, 100) '
                  '(10%) or a fraction in (0, 1) of each class (0.01)')


def check_amount(value: float, key: str = 'num_labeled', text: Optional[str] = None) -> None:
    """Raise ConfigError unless ``value`` is a whole number >= 1 or a fraction in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not (0 < value < 1 or (value >= 1 and value == int(value))):
        shown = text if text is not None else value
        raise ConfigError(f'{key}={shown!r} is not allowed; '
                          f'allowed: {AMOUNT_ALLOWED}')


def balanced_split(labels: Sequence[int], num_labeled: Union[int, float], seed: int = 0) -> List[int]:
    """Indices of a class-balanced labeled subset, deterministic for ``seed``.

    Args:
        labels: class index of every image.
        num_labeled: total number of labeled images (an int, divided equally among the
            classes, e.g. 4000 on CIFAR-10 = 400 per class) or a fraction in (0, 1) of
            each class (e.g. 0.01 for ImageNet 1%).
        seed: seed of the per-class draw.

    Example:
        >>> balanced_split([0, 0, 1, 1, 1, 1], 2, seed=0)
        [0, 4]
    """
    check_amount(num_labeled)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if isinstance(num_labeled, float) and 0 < num_labeled < 1:
            k = max(1, int(round(num_labeled * len(idx))))
        else:
            if int(num_labeled) % len(classes):
                raise ConfigError(f'num_labeled={num_labeled} is not divisible by the {len(classes)} '
                                  f'classes; allowed: a multiple of {len(classes)} or a fraction in (0, 1)')
            k = int(num_labeled) // len(classes)
        if k > len(idx):
            raise ConfigError(f'num_labeled={num_labeled} asks {k} images of class {c}, which has '
                              f'only {len(idx)}; allowed: at most {len(idx)} per class')
        chosen.extend(rng.permutation(idx)[:k].tolist())
    return sorted(chosen)


def parse_amount(text: str) -> Tuple[Union[int, float], str]:
    """``--num-labeled`` of ``emanplug-split``: ``(num_labeled, tag)`` for
    :func:`balanced_split` and the split file's name.

    Example:
        >>> parse_amount('4000'), parse_amount('10%'), parse_amount('0.01')
        ((4000, '4000'), (0.1, '10pct'), (0.01, '1pct'))
    """
    text = text.strip()
    percent = text.endswith('%')
    try:
        value = float(text[:-1]) / 100 if percent else float(text)
    except ValueError:
        raise ConfigError(f'--num-labeled={text!r} is not a number; allowed: {AMOUNT_ALLOWED}') from None
    check_amount(value if not percent or value < 1 else math.nan, '--num-labeled', text)
    if percent:
        return value, f'{text[:-1]}pct'
    return (int(value), str(int(value))) if value >= 1 else (value, f'{value * 100:g}pct')


IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')


def image_folder(root: str) -> Tuple[List[str], List[int], List[str]]:
    """``(relative_paths, labels, classes)`` of an ImageFolder directory (one sub-folder per
    class), sorted, as :func:`balanced_split` and :func:`write_split` take them.

    Example:
        >>> paths, labels, classes = image_folder('data/cifar10/train')  # doctest: +SKIP
        >>> paths[0], labels[0], classes[:2]  # doctest: +SKIP
        ('airplane/0001.jpg', 0, ['airplane', 'automobile'])
    """
    if not osp.isdir(root):
        raise ConfigError(f'image folder {root!r} does not exist; allowed: DATA_ROOT/SUBSET with one '
                          'folder per class')
    classes = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
    paths, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted(os.listdir(osp.join(root, name))):
            if file.lower().endswith(IMAGE_EXTENSIONS):
                paths.append(f'{name}/{file}')
                labels.append(label)
    if not paths:
        what = 'class folders' if classes else 'class folders (it has none)'
        raise ConfigError(f'image folder {root!r} holds no images in {what}; allowed: DATA_ROOT/SUBSET '
                          f'with one folder per class holding images ({", ".join(IMAGE_EXTENSIONS)})')
    return paths, labels, classes


def write_split(path: str, names: Sequence[str]) -> None:
    """Write one relative path per line."""
    with open(path, 'w') as f:
        f.writelines(f'{n}\n' for n in names)


def read_split(path: str) -> List[tuple]:
    """``[(line_number, file_name, class_name_or_None), ...]`` of a split file."""
    if not osp.isfile(path):
        raise ConfigError(f'split file {path!r} does not exist; allowed: a file written by '
                          'tools/make_split.py or a published index list')
    rows = []
    with open(path, newline='') as f:
        for number, row in enumerate(csv.reader(f), start=1):
            if not row or not row[0].strip() or row[0].lstrip().startswith('#'):
                continue
            name = row[0].strip()
            if number == 1 and not osp.splitext(name)[1]:
                continue  # a CSV header
            rows.append((number, name, row[1].strip() if len(row) > 1 and row[1].strip() else None))
    if not rows:
        raise ConfigError(f'split file {path!r} lists no images; allowed: one image per line '
                          '(tools/make_split.py) or the official CSV with an Index column')
    return rows


def read_index_split(path: str) -> Optional[List[Tuple[int, int]]]:
    """``[(line_number, index), ...]`` of a split file in the official code's format, a CSV
    with a header and a column ``Index`` of integer positions (its 1 % / 10 % ImageNet
    lists); None for a file of another format."""
    if not osp.isfile(path):
        return None
    with open(path, newline='') as f:
        reader = csv.reader(f)
        header = next(reader, [])
        columns = [c.strip().lower() for c in header]
        if 'index' not in columns:
            return None
        column = columns.index('index')
        rows = []
        for number, row in enumerate(reader, start=2):
            if not row or len(row) <= column or not row[column].strip():
                continue
            try:
                rows.append((number, int(row[column])))
            except ValueError:
                raise ConfigError(f'split {path}, line {number}: Index={row[column]!r} is not an '
                                  'integer; allowed: positions in the sorted image folder') from None
    if not rows:
        raise ConfigError(f'split file {path!r} lists no images; allowed: one image per line '
                          '(tools/make_split.py) or the official CSV with an Index column')
    return rows


def image_folder_order(relative_paths: Sequence[str]) -> List[int]:
    """Dataset indices in the order of torchvision's ``ImageFolder`` (the order the official
    code's split indices count in): classes (folders) sorted by name, then file names sorted
    within each class.

    Example:
        >>> image_folder_order(['b/1.jpg', 'a/2.jpg', 'a/10.jpg'])
        [2, 1, 0]
    """
    keys = [osp.split(p.replace('\\', '/')) for p in relative_paths]
    return sorted(range(len(keys)), key=keys.__getitem__)


def resolve_split(path: str, relative_paths: Sequence[str], classes: Sequence[str]) -> List[int]:
    """Dataset indices of the images a split file names; a clear error for anything else.

    Reads both published formats: lists of file names (relative paths, bare names, CSVs
    whose first column is the name) and the official code's CSV of integer positions
    (column ``Index``) in torchvision's ``ImageFolder`` order (:func:`image_folder_order`),
    which this dataset's images are put in to look them up, whatever order its annotation
    file has.

    Args:
        path: the split file.
        relative_paths: every image of the dataset as a path relative to its image folder
            (``<class>/<file>``).
        classes: the dataset's class names.
    """
    positions = read_index_split(path)
    if positions is not None:
        order = image_folder_order(relative_paths)
        for number, k in positions:
            if not 0 <= k < len(order):
                raise ConfigError(f'split {path}, line {number}: Index={k} is outside the dataset '
                                  f'({len(order)} images); allowed: 0 to {len(order) - 1}')
        indices = [order[k] for _, k in positions]
        if len(set(indices)) != len(indices):
            raise ConfigError(f'split {path} lists an image twice; allowed: each image once')
        return sorted(indices)
    by_path = {p.replace('\\', '/'): i for i, p in enumerate(relative_paths)}
    by_name: Dict[str, List[int]] = defaultdict(list)
    for i, p in enumerate(relative_paths):
        by_name[osp.basename(p)].append(i)
    known = set(classes)
    # a folder names a class, or is a class folder of the dataset (ImageNet's wnids: emanplug-split's lists)
    folders = {osp.dirname(p).replace('\\', '/') for p in relative_paths}
    indices = []
    for number, name, class_name in read_split(path):
        folder = osp.dirname(name.replace('\\', '/'))
        for cls in (class_name, osp.basename(folder) if folder and folder not in folders else None):
            if cls is not None and cls not in known:
                raise ConfigError(f'split {path}, line {number}: unknown class {cls!r}; allowed: '
                                  f'{", ".join(sorted(known)[:10])}{" ..." if len(known) > 10 else ""}')
        key = name.replace('\\', '/')
        if key in by_path:
            indices.append(by_path[key])
        elif not folder and len(by_name.get(key, [])) == 1:
            indices.append(by_name[key][0])
        else:
            raise ConfigError(f'split {path}, line {number}: file {name!r} is not in the dataset '
                              f'({len(relative_paths)} images); allowed: paths relative to the '
                              'image folder, e.g. ' + repr(relative_paths[0] if relative_paths else ''))
    if len(set(indices)) != len(indices):
        raise ConfigError(f'split {path} lists an image twice; allowed: each image once')
    return sorted(indices)
