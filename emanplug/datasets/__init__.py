from .digits import Digits
from .random_magnitude_randaugment import RandomMagnitudeRandAugment
from .semi_supervised import LabeledSubset, SemiSupervisedDataset, relative_image_paths
from .splits import balanced_split, image_folder, parse_amount, read_split, resolve_split, write_split

__all__ = ['Digits', 'RandomMagnitudeRandAugment', 'LabeledSubset', 'SemiSupervisedDataset', 'relative_image_paths', 'balanced_split',
           'image_folder', 'parse_amount', 'read_split', 'resolve_split', 'write_split']
