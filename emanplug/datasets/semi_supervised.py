"""Labeled + unlabeled batches for FixMatch from any mmpretrain image dataset and a split file."""
import contextlib
import math
import os.path as osp
from typing import Callable, Iterator, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS, TRANSFORMS

from ..errors import ConfigError
from .splits import resolve_split


def relative_image_paths(dataset) -> List[str]:
    """Each image's path relative to the dataset's image folder (``<class>/<file>``)."""
    prefix = dataset.data_prefix.get('img_path', '') if isinstance(dataset.data_prefix, dict) else ''
    paths = []
    for i in range(len(dataset)):
        path = dataset.get_data_info(i).get('img_path', '')
        paths.append(osp.relpath(path, prefix) if prefix and path else path)
    return paths


def image_problem(path: str) -> Optional[str]:
    """Why the image file ``path`` cannot be read or decoded, or None when it can."""
    import cv2
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        return f'cannot be read: {err.strerror or err}'
    if not data:
        return 'is empty (0 bytes)'
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        decoded = None
    return None if decoded is not None else f'cannot be decoded as an image ({len(data)} bytes)'


@contextlib.contextmanager
def naming_bad_images(path_of: Callable[[], Optional[str]]) -> Iterator[None]:
    """Loading an image: when it fails and its file (``path_of()``) cannot be read or
    decoded, a ConfigError naming the file replaces the decoder's error (``cv2.error`` or an
    assertion without the file name); any other failure is left as it is.  Wrapped around
    mmcv's ``LoadImageFromFile`` by :mod:`emanplug.compat`, so that it holds for every dataset
    (training, validation, test, the kNN bank)."""
    try:
        yield
    except Exception:
        path = path_of()
        problem = image_problem(path) if path else None
        if problem is None:
            raise
        raise ConfigError(f'image {path} {problem}; allowed: a readable image file (JPEG, PNG, '
                          '...): replace it, or remove it and the split files that list it') from None


def _compose(pipeline: Sequence[dict]) -> Compose:
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # nested transforms (MultiView)
        return Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline])


@DATASETS.register_module()
class SemiSupervisedDataset:
    """One item = 1 labeled image (weak view) + ``mu`` unlabeled images (weak and strong views).

    With ``batch_size=B`` a batch therefore holds B labeled and ``mu * B`` unlabeled images,
    FixMatch's ratio.  An epoch visits every unlabeled image once (``ceil(N_u / mu)`` items);
    the labeled images are cycled.  Items are independent, so mmengine's samplers shard them
    across processes (every process sees different images).

    Args:
        dataset (dict): config of the underlying dataset (e.g. ``CustomDataset`` on an
            ImageFolder), built without a pipeline.
        split_file (str): the labeled images (see :mod:`emanplug.datasets.splits`).
        labeled_pipeline (list): transforms of a labeled image (weak augmentation + PackInputs).
        unlabeled_pipeline (list): transforms of an unlabeled image producing two views
            ``[weak, strong]`` (``MultiView`` + ``PackInputs``).
        mu (int): unlabeled images per labeled image. Default 7 (FixMatch CIFAR; ImageNet 5).
        unlabeled (str): 'rest' (every image not in the split, default) or 'all'.
        seed (int): seed of the fixed pairing of labeled and unlabeled images. Default 0.
    """

    def __init__(self, dataset: dict, split_file: str, labeled_pipeline: Sequence[dict],
                 unlabeled_pipeline: Sequence[dict], mu: int = 7, unlabeled: str = 'rest',
                 seed: int = 0) -> None:
        if unlabeled not in ('rest', 'all'):
            raise ConfigError(f"unlabeled={unlabeled!r} is unknown; allowed: 'rest', 'all'")
        if not isinstance(mu, int) or mu < 1:
            raise ConfigError(f'mu={mu!r} is not allowed; allowed: an integer >= 1')
        self.dataset = DATASETS.build(dict(dataset, pipeline=[]))
        self.labeled = resolve_split(split_file, relative_image_paths(self.dataset),
                                     self.dataset.metainfo.get('classes', ()))
        labeled = set(self.labeled)
        self.unlabeled = [i for i in range(len(self.dataset)) if unlabeled == 'all' or i not in labeled]
        if not self.unlabeled:
            raise ConfigError(f'split {split_file} leaves no unlabeled images')
        self.mu = mu
        rng = np.random.default_rng(seed)
        self._labeled_order = rng.permutation(self.labeled).tolist()
        self._unlabeled_order = rng.permutation(self.unlabeled).tolist()
        self.labeled_pipeline = _compose(labeled_pipeline)
        self.unlabeled_pipeline = _compose(unlabeled_pipeline)
        self.metainfo = self.dataset.metainfo

    def __len__(self) -> int:
        return math.ceil(len(self.unlabeled) / self.mu)

    def _load(self, pipeline: Compose, index: int) -> dict:
        return pipeline(dict(self.dataset.get_data_info(index)))

    def __getitem__(self, item: int) -> dict:
        labeled = self._load(self.labeled_pipeline, self._labeled_order[item % len(self.labeled)])
        views, labels = [], []
        for j in range(self.mu):
            index = self._unlabeled_order[(item * self.mu + j) % len(self.unlabeled)]
            out = self._load(self.unlabeled_pipeline, index)
            views.append(out['inputs'])
            labels.append(int(self.dataset.get_data_info(index).get('gt_label', -1)))
        sample = labeled['data_samples']
        sample.set_field(torch.tensor(labels), 'unlabeled_label', field_type='metainfo')
        return dict(inputs=dict(labeled=labeled['inputs'],
                                weak=torch.stack([v[0] for v in views]),
                                strong=torch.stack([v[1] for v in views])),
                    data_samples=sample)


@DATASETS.register_module()
class LabeledSubset:
    """The images of a split file, with their labels: linear classification and fine-tuning
    on 1 % / 10 % of the labels (``split_file=None``: every image, i.e. 100 %).

    Args:
        dataset (dict): config of the underlying dataset, with its pipeline.
        split_file (str, optional): the labeled images (see :mod:`emanplug.datasets.splits`).
    """

    def __init__(self, dataset: dict, split_file: Optional[str] = None) -> None:
        self.dataset = DATASETS.build(dataset)
        self.indices = list(range(len(self.dataset))) if split_file is None else resolve_split(
            split_file, relative_image_paths(self.dataset), self.dataset.metainfo.get('classes', ()))
        self.metainfo = self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        return self.dataset[self.indices[i]]
