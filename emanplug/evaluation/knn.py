"""kNN classification on frozen features (InstDisc protocol), plain PyTorch.

Votes come from lightly's ``knn_predict``: cosine similarity, the k nearest bank
features vote for their class with weight ``exp(similarity / temperature)``.
"""
from typing import Iterable, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightly.utils.benchmarking import knn_predict


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
def knn_accuracy(bank: torch.Tensor, bank_labels: torch.Tensor, query: torch.Tensor,
                 query_labels: torch.Tensor, k: int = 200, temperature: float = 0.1,
                 num_classes: int = None, chunk: int = 1024) -> float:
    """Top-1 accuracy of the weighted kNN classifier.

    Args:
        bank: (N, D) L2-normalised features of the labelled bank.
        bank_labels: (N,) integer labels.
        query: (M, D) L2-normalised features to classify.
        query_labels: (M,) true labels.
        k: number of neighbours (the paper uses 20, CIFAR benchmarks 200).
        temperature: vote temperature. Default 0.1.
        num_classes: default ``max(label) + 1``.

    Example:
        >>> bank = F.normalize(torch.eye(3).repeat(4, 1), dim=1)
        >>> labels = torch.arange(3).repeat(4)
        >>> knn_accuracy(bank, labels, bank[:3], labels[:3], k=4)
        1.0
    """
    num_classes = num_classes or int(max(bank_labels.max(), query_labels.max())) + 1
    k = min(k, bank.shape[0])
    correct = 0
    bank_t = bank.t().contiguous()
    for start in range(0, query.shape[0], chunk):
        pred = knn_predict(query[start:start + chunk], bank_t, bank_labels, num_classes, k, temperature)
        correct += (pred[:, 0] == query_labels[start:start + chunk]).sum().item()
    return correct / max(query.shape[0], 1)


def bank_memory(bank: int, query: int, dim: int, processes: int = 1, element_bytes: int = 4,
                chunk: int = 1024) -> str:
    """One line: the memory the frozen-feature protocols take per network and process, before
    they start: every process extracts 1/``processes`` of the images and all-gathers them, so
    each then holds the whole bank and query features (``element_bytes`` each: 4 for float32),
    and :func:`knn_accuracy` scores ``chunk`` queries against the whole bank at a time.

    Example:
        >>> bank_memory(1281167, 50000, 2048, processes=8)  # ImageNet train / val, ResNet-50
        'feature bank: 1,281,167 bank + 50,000 query images x 2048 x 4 B = 10.50 GB + 0.41 GB per network and process (after the all-gather of 8 processes), kNN similarities 1024 x 1,281,167 = 5.25 GB'
    """
    bank_bytes, query_bytes = bank * dim * element_bytes, query * dim * element_bytes
    scores = min(chunk, query) * bank * 4  # float32 similarities of one chunk of queries
    gathered = f'after the all-gather of {processes} processes' if processes > 1 else 'one process'
    return (f'feature bank: {bank:,} bank + {query:,} query images x {dim} x {element_bytes} B = '
            f'{bank_bytes / 1e9:.2f} GB + {query_bytes / 1e9:.2f} GB per network and process ({gathered}), '
            f'kNN similarities {min(chunk, query)} x {bank:,} = {scores / 1e9:.2f} GB')
