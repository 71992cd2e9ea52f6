"""Low-shot classification and retrieval on frozen features (EMAN paper, Section 5.2)."""
from typing import Dict, Sequence

import numpy as np
import torch


def low_shot_svm(train_feats: np.ndarray, train_labels: np.ndarray, test_feats: np.ndarray,
                 test_labels: np.ndarray, shots: Sequence[int] = (1, 2, 4, 8, 16),
                 costs: Sequence[float] = tuple(2.0 ** np.arange(-5, 6)), draws: int = 5,
                 seed: int = 0) -> Dict[int, dict]:
    """Linear SVMs on ``k`` labelled images per class, for every k in ``shots``.

    For each k and each of ``draws`` seeded draws of k images per class, a one-vs-rest linear
    SVM (scikit-learn ``LinearSVC``) is trained for every cost C in ``costs`` (default
    2^-5 ... 2^5) and evaluated on the test set.  C is chosen per k as the one with the best
    mean accuracy over the draws (the protocol of the low-shot benchmark the paper follows,
    which selects C on the evaluation set).  Returns ``{k: dict(mean, std, C, accuracies)}``
    in percent; the same seed gives the same numbers.
    """
    from sklearn.svm import LinearSVC
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    classes, counts = np.unique(train_labels, return_counts=True)
    if max(shots) > counts.min():
        from ..errors import ConfigError
        raise ConfigError(f'low-shot k={max(shots)} needs {max(shots)} images of every class; class '
                          f'{classes[counts.argmin()]} has {counts.min()}; allowed: k <= {counts.min()}')
    rng = np.random.default_rng(seed)
    draws_idx = {k: [np.concatenate([rng.choice(np.flatnonzero(train_labels == c), k, replace=False)
                                     for c in classes]) for _ in range(draws)] for k in shots}
    results = {}
    for k in shots:
        per_cost = {}
        for cost in costs:
            accs = []
            for idx in draws_idx[k]:
                svm = LinearSVC(C=cost, max_iter=5000, random_state=0)
                svm.fit(train_feats[idx], train_labels[idx])
                accs.append(100.0 * float((svm.predict(test_feats) == test_labels).mean()))
            per_cost[cost] = accs
        best = max(per_cost, key=lambda c: np.mean(per_cost[c]))
        results[k] = dict(mean=float(np.mean(per_cost[best])), std=float(np.std(per_cost[best])),
                          C=float(best), accuracies=per_cost[best])
    return results


@torch.no_grad()
def retrieval_metrics(query: torch.Tensor, query_labels: torch.Tensor, database: torch.Tensor,
                      database_labels: torch.Tensor, top: int = 1000) -> Dict[str, float]:
    """mAP@top and recall@top of cosine-similarity retrieval (features L2-normalised).

    For each query the database is ranked by similarity; over the first ``top`` results,
    AP = mean of precision@i at every relevant position i (relevant = same label), divided
    by min(top, number of relevant items); recall@top = relevant retrieved / relevant total.
    Returns percentages averaged over the queries.

    Example:
        >>> q = torch.tensor([[1., 0.]]); db = torch.tensor([[1., 0.], [0., 1.], [.9, .1]])
        >>> retrieval_metrics(q, torch.tensor([0]), torch.nn.functional.normalize(db, dim=1),
        ...                   torch.tensor([0, 1, 1]), top=2)
        {'mAP': 100.0, 'recall': 100.0}
    """
    top = min(top, database.shape[0])
    ranks = (query @ database.t()).topk(top, dim=1).indices
    relevant = database_labels[ranks] == query_labels[:, None]  # (Q, top)
    total = (database_labels[None, :] == query_labels[:, None]).sum(1).clamp(min=1)
    hits = relevant.float().cumsum(1)
    precision = hits / torch.arange(1, top + 1, device=hits.device)
    ap = (precision * relevant).sum(1) / torch.minimum(total, torch.tensor(top)).float()
    recall = relevant.sum(1) / total
    return {'mAP': round(100 * ap.mean().item(), 6), 'recall': round(100 * recall.float().mean().item(), 6)}
