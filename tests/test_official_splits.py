"""The official code's split lists (a CSV with a column ``Index`` of positions in
torchvision's ImageFolder order) select the same images here, whatever order the dataset
lists its images in (mmpretrain's ``meta/train.txt`` may differ)."""
import random

import pytest
import torchvision
from PIL import Image

from emanplug.datasets.splits import image_folder_order, resolve_split
from emanplug.errors import ConfigError


@pytest.fixture
def tree(tmp_path):
    """3 classes x 5 images, names chosen so that sorted order differs from creation order."""
    names = {'n02': ['b_10.JPEG', 'b_2.JPEG', 'a_7.JPEG', 'c_1.JPEG', 'a_11.JPEG'],
             'n01': ['z.JPEG', 'y_3.JPEG', 'y_20.JPEG', 'x.JPEG', 'w.JPEG'],
             'n10': ['m.JPEG', 'k.JPEG', 'l_1.JPEG', 'l_0.JPEG', 'j.JPEG']}
    for cls, files in names.items():
        (tmp_path / 'train' / cls).mkdir(parents=True)
        for f in files:
            Image.new('RGB', (4, 4)).save(tmp_path / 'train' / cls / f)
    listed = [f'{c}/{f}' for c, fs in names.items() for f in fs]
    random.Random(0).shuffle(listed)  # an annotation file in some other order
    return tmp_path, listed


def test_index_csv_selects_what_torchvision_imagefolder_selects(tree, tmp_path):
    root, listed = tree
    reference = torchvision.datasets.ImageFolder(str(root / 'train'))  # the official loader
    chosen = [0, 4, 7, 11, 14]
    split = tmp_path / 'split_10pct.csv'
    split.write_text('Index\n' + ''.join(f'{k}\n' for k in chosen))
    indices = resolve_split(str(split), listed, sorted({p.split('/')[0] for p in listed}))
    ours = sorted(listed[i] for i in indices)
    theirs = sorted(reference.samples[k][0][len(str(root / 'train')) + 1:] for k in chosen)
    assert ours == theirs


def test_index_csv_with_more_columns_and_bad_rows(tree, tmp_path):
    root, listed = tree
    classes = ['n01', 'n02', 'n10']
    split = tmp_path / 'split.csv'
    split.write_text('Unnamed: 0,Index\n0,3\n1,9\n')
    order = image_folder_order(listed)
    assert resolve_split(str(split), listed, classes) == sorted([order[3], order[9]])
    split.write_text('Index\n3\n15\n')
    with pytest.raises(ConfigError, match=r'line 3: Index=15 is outside the dataset \(15 images\); allowed: 0 to 14'):
        resolve_split(str(split), listed, classes)
    split.write_text('Index\n3\nthree\n')
    with pytest.raises(ConfigError, match=r"line 3: Index='three' is not an integer"):
        resolve_split(str(split), listed, classes)
    split.write_text('Index\n3\n3\n')
    with pytest.raises(ConfigError, match='lists an image twice'):
        resolve_split(str(split), listed, classes)
