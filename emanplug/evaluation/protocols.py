"""The frozen-backbone test protocols of ``emanplug-test`` for self-supervised models
(MoCo, BYOL): kNN, low-shot SVMs and retrieval on the features of the student's and the
teacher's backbone (EMAN paper, Sections 5.1-5.2), with the bank and query datasets of the
config's :class:`~emanplug.evaluation.KNNEvalHook`."""
from typing import Dict

from .lowshot import low_shot_svm, retrieval_metrics

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
    if protocol == 'knn':
        return hook.evaluate(runner, epoch)
    results = {}
    for which in hook.models:
        feats = hook.features(runner, which)
        if feats is None:
            continue
        bank, bank_y, query, query_y = feats
        if protocol == 'lowshot':
            shots = low_shot_svm(bank.numpy(), bank_y.numpy(), query.numpy(), query_y.numpy())
            results.update({f'lowshot/{which}_{k}shot': v['mean'] for k, v in shots.items()})
            results.update({f'lowshot/{which}_{k}shot_std': v['std'] for k, v in shots.items()})
        else:
            metrics = retrieval_metrics(query, query_y, bank, bank_y, top=1000)
            results.update({f'retrieval/{which}_{k}': v for k, v in metrics.items()})
    return results
