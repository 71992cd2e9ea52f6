"""kNN classification and retrieval on frozen features (EMAN paper Sec. 5.1-5.2), plain PyTorch.

Cosine similarity; for kNN the k nearest bank features vote for their class with weight
``exp(similarity / temperature)`` (InstDisc's weighted kNN, the vote of lightly's
``knn_predict``).  At ImageNet scale (1.28 M x 2048 bank features) the bank can be held in
half precision and sharded over the processes (:func:`nearest`): no process holds all of it.
"""
from typing import Dict, Iterable, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from ..core.distributed import all_gather_cat, world_size


def pooled_features(backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Global-average-pooled last-stage features of ``backbone``, L2-normalised."""
    out = backbone(images)
    if isinstance(out, (tuple, list)):
        out = out[-1]
    if out.dim() > 2:
        out = out.flatten(2).mean(-1)
    return F.normalize(out.float(), dim=1)


@torch.no_grad()
def extract(backbone: nn.Module, batches: Iterable[Tuple[torch.Tensor, torch.Tensor]]
            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of every ``(images, labels)`` batch, backbone in eval mode."""
    was_training = backbone.training
    backbone.eval()
    feats, labels = [], []
    for images, y in batches:
        feats.append(pooled_features(backbone, images))
        labels.append(y.to(feats[-1].device))
    backbone.train(was_training)
    return torch.cat(feats), torch.cat(labels)


@torch.no_grad()
def nearest(query: torch.Tensor, bank: torch.Tensor, bank_labels: torch.Tensor, k: int,
            sharded: bool = False, block: int = 65536) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cosine similarities and labels of the ``k`` nearest bank features of every query, most
    similar first: ``(M, k)`` float32 and ``(M, k)`` labels.

    ``bank`` may be held in half precision: every ``block`` rows are cast to float32 for the
    product, so the similarities are float32 products of the stored (rounded) features.  With
    ``sharded``, ``bank`` is this process's share of the bank (any split of the rows) and the
    ``k`` best over every process's share are returned, the same on every process: the
    result of one process holding the whole bank, without any process holding it.  Every
    process passes the same queries.
    """
    sims, labels = [], []
    for start in range(0, bank.shape[0], block):
        part = query.float() @ bank[start:start + block].float().t()
        top = part.topk(min(k, part.shape[1]), dim=1)
        sims.append(top.values)
        labels.append(bank_labels[start:start + block][top.indices])
    if not sims:  # this process holds no bank rows
        sims = [query.new_full((query.shape[0], 0), float('-inf'), dtype=torch.float32)]
        labels = [bank_labels.new_zeros((query.shape[0], 0))]
    sims, labels = torch.cat(sims, 1), torch.cat(labels, 1)
    if sharded and world_size() > 1:  # every process's k best (padded to k), then the best k
        pad = k - sims.shape[1]
        if pad > 0:
            sims = torch.cat([sims, sims.new_full((sims.shape[0], pad), float('-inf'))], 1)
            labels = torch.cat([labels, labels.new_zeros((labels.shape[0], pad))], 1)
        sims, labels = all_gather_cat(sims[:, :k].t()).t(), all_gather_cat(labels[:, :k].t()).t()
        k = min(k, int(_sum(bank.shape[0], sims, True)))  # the padding is not a neighbour
    top = sims.topk(min(k, sims.shape[1]), dim=1)
    return top.values, labels.gather(1, top.indices)


def knn_vote(sims: torch.Tensor, labels: torch.Tensor, num_classes: int, temperature: float) -> torch.Tensor:
    """The class of every row of ``(M, k)`` neighbours: each votes for its label with weight
    ``exp(similarity / temperature)`` (InstDisc's weighted kNN; a huge temperature is a
    majority vote), the class with the highest sum wins (the lowest class index on a tie)."""
    weights = (sims / temperature).exp()
    scores = weights.new_zeros(sims.shape[0], num_classes).scatter_add_(1, labels.long(), weights)
    return scores.argmax(1)


def _global_max(value: int, like: torch.Tensor, sharded: bool) -> int:
    """The largest ``value`` of the processes (``sharded``) or ``value``."""
    if not (sharded and world_size() > 1):
        return value
    t = torch.tensor([value], device=like.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


def _sum(value, like: torch.Tensor, sharded: bool) -> torch.Tensor:
    """The sum of ``value`` (a number or tensor) over the processes (``sharded``) or ``value``."""
    t = torch.as_tensor(value, device=like.device).clone()
    if sharded and world_size() > 1:
        dist.all_reduce(t)
    return t


@torch.no_grad()
def knn_accuracy(bank: torch.Tensor, bank_labels: torch.Tensor, query: torch.Tensor,
                 query_labels: torch.Tensor, k: int = 200, temperature: float = 0.1,
                 num_classes: int = None, chunk: int = 1024, sharded: bool = False) -> float:
    """Top-1 accuracy of the weighted kNN classifier (:func:`nearest`, :func:`knn_vote`).

    Args:
        bank: (N, D) L2-normalised features of the labelled bank (float32 or float16), or with
            ``sharded`` this process's share of them.
        bank_labels: (N,) integer labels.
        query: (M, D) L2-normalised features to classify (the same on every process).
        query_labels: (M,) true labels.
        k: number of neighbours (the paper uses 20, CIFAR benchmarks 200).
        temperature: vote temperature. Default 0.1.
        num_classes: default ``max(label) + 1``.
        chunk: queries scored at a time.
        sharded: ``bank`` is this process's share (:func:`nearest`).

    Example:
        >>> bank = F.normalize(torch.eye(3).repeat(4, 1), dim=1)
        >>> labels = torch.arange(3).repeat(4)
        >>> knn_accuracy(bank, labels, bank[:3], labels[:3], k=4)
        1.0
    """
    largest = int(max(bank_labels.max() if len(bank_labels) else 0, query_labels.max()))
    num_classes = num_classes or _global_max(largest, query_labels, sharded) + 1
    k = min(k, int(_sum(bank.shape[0], query_labels, sharded)))
    correct = 0
    for start in range(0, query.shape[0], chunk):
        sims, labels = nearest(query[start:start + chunk], bank, bank_labels, k, sharded)
        pred = knn_vote(sims, labels, num_classes, temperature)
        correct += (pred == query_labels[start:start + chunk].to(pred.device)).sum().item()
    return correct / max(query.shape[0], 1)


@torch.no_grad()
def retrieval_metrics(query: torch.Tensor, query_labels: torch.Tensor, database: torch.Tensor,
                      database_labels: torch.Tensor, top: int = 1000, chunk: int = 1024,
                      sharded: bool = False) -> Dict[str, float]:
    """mAP@top and recall@top of cosine-similarity retrieval (features L2-normalised).

    For each query the database is ranked by similarity (:func:`nearest`; with ``sharded``,
    ``database`` is this process's share); over the first ``top`` results, AP = mean of
    precision@i at every relevant position i (relevant = same label), divided by
    min(top, number of relevant items); recall@top = relevant retrieved / relevant total.
    Returns percentages averaged over the queries.

    Example:
        >>> q = torch.tensor([[1., 0.]]); db = torch.tensor([[1., 0.], [0., 1.], [.9, .1]])
        >>> retrieval_metrics(q, torch.tensor([0]), F.normalize(db, dim=1), torch.tensor([0, 1, 1]), top=2)
        {'mAP': 100.0, 'recall': 100.0}
    """
    classes = int(max(database_labels.max() if len(database_labels) else 0, query_labels.max())) + 1
    classes = _global_max(classes, query_labels, sharded)
    counts = torch.bincount(database_labels.long().cpu(), minlength=classes)
    counts = _sum(counts, query_labels, sharded).cpu()
    top = min(top, int(counts.sum()))
    ap_sum = recall_sum = 0.0
    for start in range(0, query.shape[0], chunk):
        y = query_labels[start:start + chunk].long().cpu()
        _, ranked = nearest(query[start:start + chunk], database, database_labels, top, sharded)
        relevant = (ranked.long().cpu() == y[:, None]).float()  # (Q, top)
        total = counts[y].clamp(min=1).float()
        precision = relevant.cumsum(1) / torch.arange(1, top + 1)
        ap_sum += ((precision * relevant).sum(1) / total.clamp(max=top)).sum().item()
        recall_sum += (relevant.sum(1) / total).sum().item()
    n = max(query.shape[0], 1)
    return {'mAP': round(100 * ap_sum / n, 6), 'recall': round(100 * recall_sum / n, 6)}


def bank_memory(bank: int, query: int, dim: int, processes: int = 1, element_bytes: int = 4,
                chunk: int = 1024, block: int = 65536) -> str:
    """One line: the memory the frozen-feature protocols take per network and process, before
    they start.  Every process extracts 1/``processes`` of the images and keeps its share of
    the bank (:func:`nearest`) and all query features, ``element_bytes`` each (4: float32,
    2: float16); :func:`nearest` scores ``chunk`` queries against ``block`` bank rows at a
    time, in float32.

    Example:
        >>> bank_memory(1281167, 50000, 2048, processes=8, element_bytes=2)  # ImageNet train / val, ResNet-50
        'feature bank: 160,146 of 1,281,167 bank + 50,000 query images x 2048 x 2 B = 0.66 GB + 0.20 GB per network and process (8 processes), similarities 1,024 x 65,536 x 4 B = 0.27 GB'
    """
    share = -(-bank // processes)
    rows = min(block, share)
    scores = min(chunk, query) * rows * 4  # float32 similarities of one chunk of queries and one block
    return (f'feature bank: {share:,} of {bank:,} bank + {query:,} query images x {dim} x {element_bytes} B = '
            f'{share * dim * element_bytes / 1e9:.2f} GB + {query * dim * element_bytes / 1e9:.2f} GB per network '
            f'and process ({processes} process{"es" if processes > 1 else ""}), similarities '
            f'{min(chunk, query):,} x {rows:,} x 4 B = {scores / 1e9:.2f} GB')
