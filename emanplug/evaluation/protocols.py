"""The frozen-backbone test protocols of ``emanplug-test`` for self-supervised models
(MoCo, BYOL): kNN, low-shot SVMs and retrieval on the features of the student's and the
teacher's backbone (EMAN paper, Sections 5.1-5.2), with the bank and query datasets of the
config's :class:`~emanplug.evaluation.KNNEvalHook`."""
from typing import Dict

from .knn import retrieval_metrics
from .lowshot import low_shot_draws, low_shot_svm, low_shot_svm_multilabel

#: ``--protocol`` values of ``emanplug-test``.
PROTOCOLS = ('knn', 'lowshot', 'retrieval')


def evaluate_frozen(hook, runner, protocol: str = 'knn', epoch: int = 0) -> Dict[str, float]:
    """Evaluate the frozen student and teacher backbones of ``runner.model``.

    Args:
        hook (KNNEvalHook): gives the bank (train) and query (test) features
            (:meth:`KNNEvalHook.features`) and, for ``'knn'``, k and the temperature.
        runner: a Runner whose model holds the weights to evaluate.
        protocol (str): ``'knn'``: kNN top-1 (fraction, ``knn/{model}_top1``);
            ``'lowshot'``: linear SVMs on 1, 2, 4, 8, 16 images per class, 5 draws, mean and
            std in % (``lowshot/{model}_{k}shot[_std]``); ``'retrieval'``: database = bank,
            queries = query set, mAP and recall over the top 1000 in %
            (``retrieval/{model}_{mAP,recall}``).
        epoch (int): the epoch logged with the kNN result.

    Example:
        >>> hook = KNNEvalHook(**knn_hook_cfg)  # doctest: +SKIP
        >>> evaluate_frozen(hook, runner, 'retrieval')  # doctest: +SKIP
        {'retrieval/student_mAP': 41.2, 'retrieval/student_recall': 63.0, ...}
    """
    if protocol not in PROTOCOLS:
        from ..errors import ConfigError
        raise ConfigError(f'protocol={protocol!r} is unknown; allowed: {", ".join(PROTOCOLS)}')
    if hook.num_classes and protocol != 'lowshot':
        from ..errors import ConfigError
        raise ConfigError(f'protocol={protocol!r} needs one label per image; the KNNEvalHook has multi-label '
                          f'targets (num_classes={hook.num_classes}); allowed: lowshot')
    if protocol == 'knn':
        return hook.evaluate(runner, epoch)
    results = {}
    for which in hook.models:
        if protocol == 'lowshot':
            found = low_shot(hook, runner, which)
            results.update({f'lowshot/{which}_{k}shot': v['mean'] for k, v in (found or {}).items()})
            results.update({f'lowshot/{which}_{k}shot_std': v['std'] for k, v in (found or {}).items()})
            continue
        feats = hook.features(runner, which, gather_bank=False)
        if feats is not None:
            metrics = retrieval_metrics(feats[2], feats[3], feats[0], feats[1], top=1000, sharded=True)
            results.update({f'retrieval/{which}_{k}': v for k, v in metrics.items()})
    return results


def low_shot(hook, runner, which: str):
    """Low-shot SVMs on the bank (train) features, evaluated on the query (test) features:
    top-1 in % for single labels (ImageNet; only the drawn rows of the sharded bank are gathered,
    at most 1000 classes x 31 images x 5 draws), mAP in % for a multi-label hook (VOC07, whose
    5,011 images are gathered whole).  None if the model has no such network."""
    import numpy as np

    from ..core.distributed import gather_strided, gather_strided_rows
    feats = hook.features(runner, which, gather_bank=bool(hook.num_classes))
    if feats is None:
        return None
    bank, bank_y, query, query_y = feats
    if hook.num_classes:
        return low_shot_svm_multilabel(bank.float().numpy(), bank_y.numpy(), query.float().numpy(), query_y.numpy())
    labels = gather_strided(bank_y, hook.bank_size(runner)).cpu().numpy()
    picks = low_shot_draws(labels)
    needed = np.unique(np.concatenate([idx for draws in picks.values() for idx in draws]))
    rows = gather_strided_rows(bank, needed).cpu().numpy()
    picks = {k: [np.searchsorted(needed, idx) for idx in draws] for k, draws in picks.items()}
    return low_shot_svm(rows, labels[needed], query.float().cpu().numpy(), query_y.cpu().numpy(), picks=picks)


def _each_view(network, views) -> None:
    for view in views:
        network(view)


def precise_bn_knn(hook, runner, num_batches: int) -> Dict[str, float]:
    """kNN top-1 of the student's and the teacher's backbone with their BN statistics
    re-estimated from their own weights on the first ``num_batches`` training batches
    (precise BN, :func:`emanplug.core.warm_start.precise_statistics`; the model keeps its
    statistics), and how far the statistics they hold are from those (averaged over layers,
    :func:`emanplug.core.diagnostics.statistics_distance`).

    Returns ``knn/{model}_precisebn_top1`` (fraction), ``precisebn/{model}_gap_mean`` and
    ``precisebn/{model}_gap_logvar``.  For an EMAN teacher, the difference between
    ``knn/teacher_precisebn_top1`` and ``knn/teacher_top1`` is what its averaged statistics
    cost (or gain) against statistics computed from its averaged weights.
    """
    import torch
    from mmengine.model import is_model_wrapper

    from ..core.diagnostics import statistics_distance
    from ..core.warm_start import precise_statistics, statistics_swapped
    from ..hooks.warm_start import training_views
    from ..models.teacher_student import model_part
    from ..random_state import rng_state_kept
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    with rng_state_kept():
        views = list(training_views(runner, model, num_batches))
    results = {}
    for which in hook.models:
        backbone = model_part(model, which, 'backbone')
        if backbone is None:
            continue
        stats = precise_statistics(backbone, views, forward=_each_view)
        if not stats:
            continue
        layers = dict(backbone.named_modules())
        gaps = torch.stack([torch.stack(statistics_distance(
            layers[name].running_mean, layers[name].running_var, mean, var, layers[name].eps))
            for name, (mean, var) in stats.items()]).mean(0).tolist()
        with statistics_swapped(backbone, stats):
            feats = hook.features(runner, which, gather_bank=False)
        results[f'knn/{which}_precisebn_top1'] = hook.knn(feats)
        results[f'precisebn/{which}_gap_mean'], results[f'precisebn/{which}_gap_logvar'] = gaps
    return results
