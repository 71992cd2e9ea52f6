"""Warm-started teacher statistics: emanplug's addition beyond the EMAN paper.

An EMA teacher starts as a copy of the student, whose BN layers hold their default
statistics (mean 0, variance 1), wrong for the real activations.  An EMAN teacher
normalises with exactly these statistics, and eq. (9) forgets them only as ``m^t``
(m = 0.99: 37 % of them are left after 100 iterations, m = 0.999: after 1000).  The warm
start estimates the student's BN statistics on a few training batches before the first
step, as precise BN does (no backward, no parameter change), and then makes the teacher an
exact copy of the student, so that the teacher's first outputs are normalised with
statistics of real data.

Plain PyTorch; :class:`emanplug.hooks.WarmStartHook` runs it in MMEngine.
"""
import contextlib
import copy
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .distributed import all_reduce_mean_
from .norms import EMAN, MomentumBN, TeacherPN
from .teacher import EMATeacher

Forward = Callable[[nn.Module, Any], Any]

#: BN layers whose statistics are not the momentum average of their batches' statistics
#: (they normalise with running statistics, or move them once per iteration): never estimated.
NOT_ESTIMATED = (EMAN, TeacherPN, MomentumBN)


def _call(module: nn.Module, batch: Any) -> Any:
    return module(batch)


def estimated_layers(module: nn.Module) -> List[_BatchNorm]:
    """The BN layers of ``module`` whose statistics :func:`estimate_bn_statistics` estimates:
    those in train mode that track running statistics and move them towards each batch's
    statistics with their ``momentum`` (``nn.BatchNorm*d``, ``nn.SyncBatchNorm`` and
    emanplug's ``BatchNorm``, ``GlobalBatchNorm``, ``SplitBatchNorm``).  A layer in eval mode
    (a frozen stage, ``norm_eval=True``) keeps its statistics."""
    return [m for m in module.modules()
            if isinstance(m, _BatchNorm) and not isinstance(m, NOT_ESTIMATED) and m.training
            and m.track_running_stats and m.running_mean is not None]


def _unique(items: Iterable[Any]) -> list:
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


@torch.no_grad()
def _estimate(modules: Sequence[nn.Module], batches: Iterable[Any],
              forward: Optional[Forward]) -> int:
    forward = forward or _call
    modes = [(m, m.training) for root in modules for m in root.modules()]
    for root in modules:
        root.train()  # a module's own train() keeps frozen layers in eval mode (norm_eval)
    layers = _unique(layer for root in modules for layer in estimated_layers(root))
    if not layers:
        for m, training in modes:
            m.training = training
        return 0
    momenta = [layer.momentum for layer in layers]
    calls = {id(layer): 0 for layer in layers}

    def cumulative(layer: _BatchNorm, args: tuple) -> None:
        # the k-th call of a layer moves its statistics with weight 1/k: after n calls they are
        # the average of the n batches' statistics, as BN's momentum=None mode gives
        calls[id(layer)] += 1
        if calls[id(layer)] == 1:
            layer.reset_running_stats()
        layer.momentum = 1.0 / calls[id(layer)]

    handles = [layer.register_forward_pre_hook(cumulative) for layer in layers]
    used = 0
    try:
        for batch in batches:
            for root in modules:
                forward(root, batch)
            used += 1
    finally:
        for handle in handles:
            handle.remove()
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for m, training in modes:
            m.training = training
    # each process's estimate weighted by the number of batches it averaged
    all_reduce_mean_([b for layer in layers for b in (layer.running_mean, layer.running_var)],
                     [calls[id(layer)] for layer in layers for _ in range(2)])
    return used


def estimate_bn_statistics(module: nn.Module, batches: Iterable[Any],
                           forward: Optional[Forward] = None) -> int:
    """Set the running statistics of ``module``'s BN layers to those of ``batches``.

    Every batch goes through ``forward(module, batch)`` in train mode without gradients;
    each BN layer's ``running_mean`` / ``running_var`` become the average over the batches
    it normalised of their mean / unbiased variance, exactly what PyTorch BN's
    ``momentum=None`` (cumulative average) mode gives, and ``num_batches_tracked`` the
    number of those batches (of this process).  A layer called several times per batch (two views) averages
    over all calls.  Parameters do not change; afterwards every layer has its momentum back
    and every submodule its train / eval mode.  Layers in eval mode after ``module.train()``
    (frozen stages) and layers that do not average batch statistics (EMAN, TeacherPN,
    MomentumBN) keep theirs (see :func:`estimated_layers`).  In a multi-process run
    (torch.distributed initialised) the estimates are averaged over the processes, weighted
    by their numbers of batches, so that every process holds the same statistics (and, with
    equal numbers of batches, the same ``num_batches_tracked``); every process must then
    call this function.  The logic is mmpretrain's precise BN
    (``update_bn_stats``), generalised to layers called several times per batch.

    Args:
        module (nn.Module): the network whose BN statistics to estimate (e.g. the student).
        batches (iterable): the batches, e.g. ``itertools.islice(loader, 10)``; consumed once.
        forward (callable, optional): ``forward(module, batch)`` runs one batch through the
            module as in training (e.g. every view of a two-view batch). Default
            ``module(batch)``.

    Returns:
        int: the number of batches used; 0 when ``module`` has no layer to estimate (then
        nothing runs and ``batches`` is not consumed).

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
        >>> batches = [torch.randn(16, 4) + 3 for _ in range(5)]
        >>> estimate_bn_statistics(net, batches)
        5
        >>> means = torch.stack([net[0](b).mean(0) for b in batches]).mean(0)
        >>> torch.allclose(net[1].running_mean, means, atol=1e-5)
        True
    """
    return _estimate([module], batches, forward)


def warm_start_teacher(teacher: Union[EMATeacher, Sequence[EMATeacher]], batches: Iterable[Any],
                       forward: Optional[Forward] = None) -> int:
    """Estimate the student's BN statistics on ``batches``, then make the teacher its exact copy.

    Call it once, before the first training step: :func:`estimate_bn_statistics` on the
    teacher's student, then :meth:`EMATeacher.reset_to_student` (every parameter and buffer
    copied), so that the teacher starts from statistics of real data rather than BN's
    defaults (mean 0, variance 1), which an EMAN teacher forgets only as ``m^t`` (eq. 9).
    Costs one forward pass of the student per batch (and view), no backward.  Where the
    scheme's student has no BN statistics (``gn-gn``, ``in-in``) nothing is estimated and
    the batches are not consumed, but the teacher is still reset to a copy of the student.
    Several teachers are warm-started in one pass over the batches (each distinct student
    once).  Multi-process runs: as :func:`estimate_bn_statistics`.

    Args:
        teacher (EMATeacher | sequence of EMATeacher): the teacher(s) to warm-start.
        batches (iterable): training batches, consumed once.
        forward (callable, optional): ``forward(student, batch)``, the student's forward of
            one batch as in training (e.g. each view). Default ``student(batch)``.

    Returns:
        int: the number of batches used (0 when the student has no BN statistics).

    Example:
        >>> student = prepare_student(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)), 'bn-eman')
        >>> teacher = EMATeacher(student, 'bn-eman', momentum=0.99)
        >>> views = [(torch.randn(16, 4), torch.randn(16, 4)) for _ in range(10)]
        >>> warm_start_teacher(teacher, views, forward=lambda s, b: [s(v) for v in b])
        10
        >>> torch.equal(teacher.module[1].running_var, student[1].running_var)
        True
    """
    teachers = [teacher] if isinstance(teacher, EMATeacher) else list(teacher)
    used = _estimate(_unique(t.student for t in teachers), batches, forward)
    for t in teachers:
        t.reset_to_student()
    return used


Statistics = Dict[str, Tuple[torch.Tensor, torch.Tensor]]


def precise_statistics(network: nn.Module, batches: Iterable[Any],
                       forward: Optional[Forward] = None) -> Statistics:
    """The population statistics of ``network``'s own weights on ``batches`` (precise BN),
    by layer name: for every BN-family layer (EMAN, TeacherPN and MomentumBN included) the
    running mean / unbiased variance it would hold if it averaged the statistics of the
    batches it normalises, as :func:`estimate_bn_statistics` estimates them on a copy of
    ``network`` whose BN-family layers are plain BN.  ``network`` does not change.

    For an EMA teacher this is what its statistics would be if they were computed from its
    averaged weights rather than averaged along with them; compare the two with
    :func:`emanplug.core.diagnostics.statistics_distance`, or evaluate the teacher with them
    (:func:`statistics_swapped`).  Cost: one forward pass of ``network`` per batch.
    """
    from .norms import BatchNorm, replace_batchnorms
    from .schemes import convert_to
    probe = replace_batchnorms(copy.deepcopy(network), convert_to(BatchNorm))
    estimate_bn_statistics(probe, batches, forward)
    return {name: (m.running_mean.clone(), m.running_var.clone())
            for name, m in probe.named_modules()
            if isinstance(m, _BatchNorm) and m.running_mean is not None}


@contextlib.contextmanager
def statistics_swapped(network: nn.Module, statistics: Statistics) -> Iterator[nn.Module]:
    """Within the ``with`` block the BN-family layers of ``network`` hold ``statistics``
    (from :func:`precise_statistics`); their own are back afterwards, bitwise."""
    layers = dict(network.named_modules())
    missing = sorted(set(statistics) - set(layers))
    if missing:
        raise KeyError(f'statistics of layers {missing[:3]} that the network does not have')
    saved = {name: (layers[name].running_mean.clone(), layers[name].running_var.clone())
             for name in statistics}
    _load_statistics(layers, statistics)
    try:
        yield network
    finally:
        _load_statistics(layers, saved)


@torch.no_grad()
def _load_statistics(layers: Dict[str, nn.Module], statistics: Statistics) -> None:
    for name, (mean, var) in statistics.items():
        layers[name].running_mean.copy_(mean)
        layers[name].running_var.copy_(var)
