"""Low-shot classification on frozen features (EMAN paper, Section 5.2): linear SVMs on k images
per class (ImageNet, single label) or k positives per class (VOC07, multi-label)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch


def low_shot_draws(train_labels: np.ndarray, shots: Sequence[int] = (1, 2, 4, 8, 16), draws: int = 5,
                   seed: int = 0) -> Dict[int, List[np.ndarray]]:
    """``{k: [indices of k images of every class] x draws}``: the seeded draws of :func:`low_shot_svm`
    (a one-line error when a class has fewer than max(shots) images)."""
    train_labels = np.asarray(train_labels)
    classes, counts = np.unique(train_labels, return_counts=True)
    if max(shots) > counts.min():
        from ..errors import ConfigError
        raise ConfigError(f'low-shot k={max(shots)} needs {max(shots)} images of every class; class '
                          f'{classes[counts.argmin()]} has {counts.min()}; allowed: k <= {counts.min()}')
    rng = np.random.default_rng(seed)
    return {k: [np.concatenate([rng.choice(np.flatnonzero(train_labels == c), k, replace=False)
                                for c in classes]) for _ in range(draws)] for k in shots}


def low_shot_svm(train_feats: np.ndarray, train_labels: np.ndarray, test_feats: np.ndarray,
                 test_labels: np.ndarray, shots: Sequence[int] = (1, 2, 4, 8, 16),
                 costs: Sequence[float] = tuple(2.0 ** np.arange(-5, 6)), draws: int = 5,
                 seed: int = 0, picks: Optional[Dict[int, List[np.ndarray]]] = None) -> Dict[int, dict]:
    """Linear SVMs on ``k`` labelled images per class, for every k in ``shots``.

    For each k and each of ``draws`` seeded draws of k images per class
    (:func:`low_shot_draws`), a one-vs-rest linear SVM (scikit-learn ``LinearSVC``) is trained
    for every cost C in ``costs`` (default 2^-5 ... 2^5) and evaluated on the test set.  C is
    chosen per k as the one with the best mean accuracy over the draws (the protocol of the
    low-shot benchmark the paper follows, which selects C on the evaluation set).  Returns
    ``{k: dict(mean, std, C, accuracies)}`` in percent; the same seed gives the same numbers.
    ``picks``: the draws, as row indices of ``train_feats`` (default: drawn from ``train_labels``;
    given when only the drawn rows of a large bank were gathered).
    """
    from sklearn.svm import LinearSVC
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    picks = picks if picks is not None else low_shot_draws(train_labels, shots, draws, seed)
    results = {}
    for k in shots:
        per_cost = {}
        for cost in costs:
            accs = []
            for idx in picks[k]:
                svm = LinearSVC(C=cost, max_iter=5000, random_state=0)
                svm.fit(train_feats[idx], train_labels[idx])
                accs.append(100.0 * float((svm.predict(test_feats) == test_labels).mean()))
            per_cost[cost] = accs
        best = max(per_cost, key=lambda c: np.mean(per_cost[c]))
        results[k] = dict(mean=float(np.mean(per_cost[best])), std=float(np.std(per_cost[best])),
                          C=float(best), accuracies=per_cost[best])
    return results


def multilabel_targets(data_sample, num_classes: int) -> torch.Tensor:
    """The (num_classes,) int8 target of one sample of mmpretrain's ``VOC`` dataset.

    1 for every label in ``gt_label`` (a non-difficult object of the class), 0 for the labels
    that are only in ``gt_label_difficult`` (every object of the class is difficult: ignored in
    training and in AP), -1 otherwise.  ``gt_label_difficult`` is read from the data sample's
    metainfo or fields, where ``PackInputs(meta_keys=(..., 'gt_label_difficult'))`` puts it (the
    test pipeline of ``configs/_base_/datasets/voc07_lowshot.py``), or from a dict; without it
    the difficult labels cannot be told from the negatives and a ConfigError says so.

    Example:
        >>> multilabel_targets(dict(gt_label=torch.tensor([0, 2]), gt_label_difficult=[2, 3]), 5)
        tensor([ 1, -1,  1,  0, -1], dtype=torch.int8)
    """
    def field(key):
        if isinstance(data_sample, dict):
            return data_sample.get(key)
        return data_sample.get(key, None)

    labels, difficult = field('gt_label'), field('gt_label_difficult')
    if labels is None or difficult is None:
        from ..errors import ConfigError
        raise ConfigError(f'multilabel_targets needs gt_label and gt_label_difficult in the data sample; missing: '
                          f'{"gt_label" if labels is None else "gt_label_difficult"}; allowed: mmpretrain VOC '
                          f"samples packed with PackInputs(meta_keys=(..., 'gt_label_difficult'))")
    target = torch.full((num_classes,), -1, dtype=torch.int8)
    difficult = torch.as_tensor(difficult, dtype=torch.long).reshape(-1)
    target[difficult] = 0
    target[torch.as_tensor(labels, dtype=torch.long).reshape(-1)] = 1  # a difficult and a normal object: 1
    return target


def multilabel_ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class average precision in percent of (N, C) ``scores`` against (N, C) ``targets``
    (1 positive, -1 negative, 0 difficult: left out of that class's ranking).

    AP is the area under the precision-recall curve, scikit-learn's ``average_precision_score``:
    the mean over the positives of the precision at each positive's rank (ties as one step).

    Example:
        >>> s = np.array([[.9], [.8], [.7], [.6], [.5]]); t = np.array([[1], [-1], [0], [-1], [1]])
        >>> multilabel_ap(s, t).round(4)  # ranking P N (difficult) N P: (1/1 + 2/4) / 2
        array([75.])
    """
    from sklearn.metrics import average_precision_score
    scores, targets = np.asarray(scores), np.asarray(targets)
    aps = []
    for c in range(targets.shape[1]):
        keep = targets[:, c] != 0
        if not (targets[keep, c] == 1).any():
            from ..errors import ConfigError
            raise ConfigError(f'AP of class {c} is undefined: it has no positive test image; '
                              f'allowed: targets with at least one 1 in every column')
        aps.append(100.0 * average_precision_score(targets[keep, c] == 1, scores[keep, c]))
    return np.asarray(aps)


def low_shot_svm_multilabel(train_feats: np.ndarray, train_targets: np.ndarray, test_feats: np.ndarray,
                            test_targets: np.ndarray, shots: Sequence[int] = (1, 2, 4, 8, 16),
                            costs: Sequence[float] = tuple(2.0 ** np.arange(-5, 6)), draws: int = 5,
                            seed: int = 0) -> Dict[int, dict]:
    """VOC07 low-shot: per-class linear SVMs on ``k`` positive images per class, test-set mAP.

    ``*_targets`` are (N, C) arrays: 1 positive, -1 negative, 0 difficult (ignored in training
    and in AP; :func:`multilabel_targets` makes them from mmpretrain's VOC samples).  For each k
    in ``shots`` and each of ``draws`` seeded draws, k images positive for class c are drawn
    without replacement for every c, and the draw is the union of these images.  For every class
    a binary ``LinearSVC`` is trained on the drawn images whose target for it is not 0 (positive
    = 1, negative = -1), the test set is scored with its ``decision_function`` and AP is taken
    over the test images whose target is not 0 (:func:`multilabel_ap`); mAP = the mean over the
    classes.  A class with no negative among the drawn images scores every test image 0.  C is
    chosen per k among ``costs`` (default 2^-5 ... 2^5) as the one with the best mean mAP over
    the draws, as :func:`low_shot_svm` does (the benchmark of Goyal et al. 2019 that the EMAN
    paper follows selects C on the evaluation set).  Returns ``{k: dict(mean, std, C, maps)}``
    in percent; the same seed gives the same numbers.
    """
    from sklearn.svm import LinearSVC
    train_targets, test_targets = np.asarray(train_targets), np.asarray(test_targets)
    num_classes = train_targets.shape[1]
    counts = (train_targets == 1).sum(0)
    if max(shots) > counts.min():
        from ..errors import ConfigError
        raise ConfigError(f'low-shot k={max(shots)} needs {max(shots)} positive images of every class; class '
                          f'{counts.argmin()} has {counts.min()}; allowed: k <= {counts.min()}')
    rng = np.random.default_rng(seed)
    positives = [np.flatnonzero(train_targets[:, c] == 1) for c in range(num_classes)]
    draws_idx = {k: [np.unique(np.concatenate([rng.choice(p, k, replace=False) for p in positives]))
                     for _ in range(draws)] for k in shots}
    results = {}
    for k in shots:
        per_cost = {}
        for cost in costs:
            maps = []
            for idx in draws_idx[k]:
                scores = np.zeros(test_targets.shape, dtype=np.float64)
                for c in range(num_classes):
                    keep = idx[train_targets[idx, c] != 0]
                    y = train_targets[keep, c]
                    if (y == -1).any():
                        svm = LinearSVC(C=cost, max_iter=5000, random_state=0)
                        svm.fit(train_feats[keep], y)
                        scores[:, c] = svm.decision_function(test_feats)
                maps.append(float(multilabel_ap(scores, test_targets).mean()))
            per_cost[cost] = maps
        best = max(per_cost, key=lambda c: np.mean(per_cost[c]))
        results[k] = dict(mean=float(np.mean(per_cost[best])), std=float(np.std(per_cost[best])),
                          C=float(best), maps=per_cost[best])
    return results
