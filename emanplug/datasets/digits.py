"""scikit-learn's handwritten digits as an mmpretrain dataset: real data that ships
inside a registry package, so the quickstart runs offline on a fresh machine."""
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from ..errors import ConfigError


@DATASETS.register_module()
class Digits(BaseDataset):
    """The 1,797 8x8 grey-level digits of ``sklearn.datasets.load_digits`` (UCI optical
    recognition of handwritten digits), 10 classes, as ``size`` x ``size`` 3-channel uint8
    images (``img`` in the results, no file loading needed).

    The split is fixed and stratified: ``test_fraction`` of each class (first by a seeded
    permutation) is the test split, the rest the train split.  ``num_per_class`` keeps
    only the first N images of each class of that split (same permutation, so the subset
    is nested and class-balanced), e.g. the labelled bank of a low-shot kNN evaluation.

    Args:
        split (str): 'train' or 'test'.
        size (int): side of the upsampled images in pixels. Default 16.
        test_fraction (float): share of each class in the test split. Default 0.3.
        seed (int): seed of the split. Default 0.
        num_per_class (int, optional): keep N images per class of the split. Default None
            (the whole split).
        pipeline (list): mmpretrain transforms.
    """

    METAINFO = {'classes': tuple(str(i) for i in range(10))}

    def __init__(self, split: str = 'train', size: int = 16, test_fraction: float = 0.3,
                 seed: int = 0, num_per_class: Optional[int] = None, pipeline=(),
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ConfigError(f"Digits: split={split!r} is unknown; allowed: 'train', 'test'")
        if num_per_class is not None and (isinstance(num_per_class, bool)
                                          or not isinstance(num_per_class, int)
                                          or num_per_class < 1):
            raise ConfigError(f'Digits: num_per_class={num_per_class!r}; allowed: None or an '
                              'integer >= 1')
        self.split, self.size, self.test_fraction, self.seed = split, size, test_fraction, seed
        self.num_per_class = num_per_class
        super().__init__(ann_file='', pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        import cv2
        from sklearn.datasets import load_digits
        digits = load_digits()
        rng = np.random.default_rng(self.seed)
        chosen = []
        for label in range(10):
            idx = rng.permutation(np.flatnonzero(digits.target == label))
            n_test = int(round(len(idx) * self.test_fraction))
            idx = idx[:n_test] if self.split == 'test' else idx[n_test:]
            if self.num_per_class is not None:
                if self.num_per_class > len(idx):
                    raise ConfigError(f'Digits: num_per_class={self.num_per_class} but class '
                                      f'{label} has only {len(idx)} {self.split} images; '
                                      f'allowed: at most {len(idx)}')
                idx = idx[:self.num_per_class]
            chosen.extend(idx)
        data_list = []
        for i in sorted(chosen):
            img = (digits.images[i] * (255.0 / 16.0)).astype(np.uint8)
            img = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
            data_list.append(dict(img=np.repeat(img[..., None], 3, axis=2),
                                  gt_label=int(digits.target[i])))
        return data_list
