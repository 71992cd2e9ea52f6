"""kNN classifier on features with a known answer."""
import torch
import torch.nn.functional as F

from emanplug.evaluation import knn_accuracy


def clusters(n_per_class, classes=10, dim=32, spread=0.05, seed=0):
    centres = F.normalize(torch.randn(classes, dim, generator=torch.Generator().manual_seed(99)), dim=1)
    g = torch.Generator().manual_seed(seed)  # the samples differ, the class centres do not
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    feats = centres[labels] + spread * torch.randn(len(labels), dim, generator=g)
    return F.normalize(feats, dim=1), labels


def test_separable_classes_give_100_percent():
    bank, bank_y = clusters(50)
    query, query_y = clusters(20, seed=1)
    for k in (1, 20, 200):
        assert knn_accuracy(bank, bank_y, query, query_y, k=k) == 1.0


def test_shuffled_labels_give_chance_level():
    bank, bank_y = clusters(200)
    query, query_y = clusters(100, seed=1)
    shuffled = bank_y[torch.randperm(len(bank_y), generator=torch.Generator().manual_seed(2))]
    acc = knn_accuracy(bank, shuffled, query, query_y, k=20)
    assert abs(acc - 0.1) < 0.05  # 1000 queries: chance 0.1, std ~0.01


def test_chunking_does_not_change_the_result():
    bank, bank_y = clusters(30, spread=0.8)
    query, query_y = clusters(30, spread=0.8, seed=3)
    assert knn_accuracy(bank, bank_y, query, query_y, k=20, chunk=7) == \
        knn_accuracy(bank, bank_y, query, query_y, k=20)
