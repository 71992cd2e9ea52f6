"""VOC07 low-shot (EMAN paper Table 5, VOC07 rows): the dataset config on a generated VOC folder,
the multi-label targets with difficult labels, and the per-class SVMs / mAP on features with a
known answer."""
from pathlib import Path

import numpy as np
import pytest

from emanplug.errors import ConfigError
from emanplug.evaluation import low_shot_svm_multilabel, multilabel_ap, multilabel_targets

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'configs' / '_base_' / 'datasets' / 'voc07_lowshot.py'


def test_config_builds_voc_bank_and_query_with_difficult_targets(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS

    from emanplug.registry import register_all_modules
    from emanplug.testing import VOC_CLASSES, make_fake_voc
    register_all_modules()
    truth = make_fake_voc(str(tmp_path), per_class_trainval=2, per_class_test=1, size=32)
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.num_classes == 20 == len(VOC_CLASSES) and cfg.data_root == 'data/VOCdevkit/VOC2007'
    assert (cfg.lowshot_bank.split, cfg.lowshot_query.split) == ('trainval', 'test')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        bank = DATASETS.build(dict(cfg.lowshot_bank, data_root=str(tmp_path)))
        query = DATASETS.build(dict(cfg.lowshot_query, data_root=str(tmp_path)))
    assert bank.CLASSES == VOC_CLASSES
    assert (len(bank), len(query)) == (len(truth['trainval']), len(truth['test'])) == (41, 21)
    kinds = set()
    for ds, rows in ((bank, truth['trainval']), (query, truth['test'])):
        for i in (0, 2, 4, 5, len(ds) - 1):  # plain, 2nd class difficult, same class twice, 2nd class, difficult only
            item = ds[i]
            image_id, positives, difficult = rows[i]
            assert Path(item['data_samples'].img_path).stem == image_id
            assert item['inputs'].shape == (3, 224, 224)
            expected = np.full(20, -1)
            expected[difficult], expected[positives] = 0, 1
            target = multilabel_targets(item['data_samples'], 20)
            assert str(target.dtype) == 'torch.int8' and target.tolist() == expected.tolist(), (i, rows[i])
            kinds.add((len(positives), len(difficult)))
    assert {(1, 0), (1, 1), (2, 0), (0, 1)} <= kinds  # every case above was seen


def test_targets_without_difficult_labels_are_a_config_error():
    import torch
    with pytest.raises(ConfigError, match='gt_label_difficult'):
        multilabel_targets(dict(gt_label=torch.tensor([1])), 3)
    assert multilabel_targets(dict(gt_label=torch.tensor([], dtype=torch.long), gt_label_difficult=[2]),
                              3).tolist() == [-1, -1, 0]


def multilabel_data(n, classes=4, dim_noise=4, seed=0):
    """Each class has its own feature: +2 where the image has the class, -2 where not (+ noise)."""
    rng = np.random.default_rng(seed)
    targets = np.where(rng.random((n, classes)) < 0.35, 1, -1)
    targets[np.arange(n), rng.integers(0, classes, n)] = 1  # every image has a class
    feats = np.concatenate([2.0 * targets + 0.1 * rng.standard_normal((n, classes)),
                            0.1 * rng.standard_normal((n, dim_noise))], axis=1)
    return feats.astype(np.float32), targets


def test_separable_multilabel_features_give_full_map_reproducibly():
    train, train_y = multilabel_data(80)
    test, test_y = multilabel_data(60, seed=1)
    kw = dict(shots=(1, 4), costs=(0.25, 4.0), draws=3, seed=3)
    a = low_shot_svm_multilabel(train, train_y, test, test_y, **kw)
    assert set(a) == {1, 4} and set(a[4]) == {'mean', 'std', 'C', 'maps'} and len(a[4]['maps']) == 3
    # k = 1: one image per class may share another class's feature by chance, and the SVM leans on it
    assert a[4]['mean'] > 99 and a[1]['mean'] > 80 and a[4]['C'] in (0.25, 4.0)
    assert low_shot_svm_multilabel(train, train_y, test, test_y, **kw) == a
    assert low_shot_svm_multilabel(train, train_y, test, test_y, **dict(kw, seed=4))[1]['maps'] != a[1]['maps']
    shuffled = test_y[np.random.default_rng(5).permutation(len(test_y))]
    low = low_shot_svm_multilabel(train, train_y, test, shuffled, **kw)
    assert low[4]['mean'] < 70  # chance: AP ~ the share of positives (~0.45)


def test_difficult_entries_are_ignored(monkeypatch):
    import sklearn.svm
    train, train_y = multilabel_data(60, seed=2)
    test, test_y = multilabel_data(40, seed=3)
    train_y[:10] = 0  # images with only difficult objects: never drawn, out of every SVM and every AP
    test_y[:10] = 0
    train_y[10:20, 0] = 0  # difficult for class 0 only: still drawn for the others
    test_y[10:20, 0] = 0
    seen = []

    class Spy(sklearn.svm.LinearSVC):
        def fit(self, X, y):
            seen.append(set(np.unique(y).tolist()))
            return super().fit(X, y)

    monkeypatch.setattr(sklearn.svm, 'LinearSVC', Spy)
    kw = dict(shots=(2,), costs=(1.0,), draws=2, seed=0)
    a = low_shot_svm_multilabel(train, train_y, test, test_y, **kw)
    assert seen and all(labels == {-1, 1} for labels in seen)
    flipped_train, flipped_test = train.copy(), test.copy()  # the difficult images look like the opposite
    flipped_train[:10, :4] *= -1
    flipped_test[:10, :4] *= -1
    assert low_shot_svm_multilabel(flipped_train, train_y, flipped_test, test_y, **kw) == a
    assert a[2]['mean'] > 95


def test_too_few_positives_is_one_line_config_error():
    train, train_y = multilabel_data(40)
    test, test_y = multilabel_data(20, seed=1)
    train_y[:, 2] = -1
    train_y[:3, 2] = 1
    with pytest.raises(ConfigError) as err:
        low_shot_svm_multilabel(train, train_y, test, test_y, shots=(1, 4), costs=(1.0,), draws=1)
    msg = str(err.value)
    assert '\n' not in msg and 'class 2 has 3' in msg and 'k <= 3' in msg and 'k=4' in msg


def test_average_precision_by_hand():
    # one class, ranking by score: P N D N P P (D difficult: left out) -> P N N P P
    scores = np.array([[.9], [.8], [.7], [.6], [.5], [.4]])
    targets = np.array([[1], [-1], [0], [-1], [1], [1]])
    # precision at each positive: 1/1, 2/4, 3/5
    assert multilabel_ap(scores, targets) == pytest.approx([100 * (1 + 2 / 4 + 3 / 5) / 3])
    # two classes, mAP is their mean; the second is ranked perfectly
    two = np.concatenate([scores, scores], axis=1)
    both = np.concatenate([targets, [[1], [1], [-1], [0], [-1], [-1]]], axis=1)
    assert multilabel_ap(two, both) == pytest.approx([70.0, 100.0])
    with pytest.raises(ConfigError, match='class 0'):
        multilabel_ap(scores, -np.abs(targets))
