"""Diagnostics of an EMA teacher, measured during one forward pass: how far the statistics
its norm layers normalise with are from those of its current inputs, and how spread its
outputs are (a collapse indicator).

Plain PyTorch; :class:`emanplug.hooks.TeacherDiagnosticsHook` logs them in MMEngine every n
iterations.  Nothing is measured (and nothing costs) outside a :class:`TeacherProbe`.
"""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from .norms import EMAN, MomentumBN, TeacherPN
from .teacher import EMATeacher

#: Layers that normalise with (or, MomentumBN, with a share of) their running statistics in
#: train mode; any BN layer in eval mode does too.
RUNNING_STAT_NORMS = (EMAN, TeacherPN, MomentumBN)


def normalises_with_running_stats(layer: nn.Module) -> bool:
    """Whether ``layer`` is a BN layer that normalises with its running statistics: EMAN,
    TeacherPN, MomentumBN, or any BN layer in eval mode (a train-mode BN teacher normalises
    with the batch's statistics and is left out)."""
    return (isinstance(layer, _BatchNorm) and layer.track_running_stats
            and layer.running_mean is not None
            and (isinstance(layer, RUNNING_STAT_NORMS) or not layer.training))


@torch.no_grad()
def statistics_gap(x: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor,
                   eps: float = 1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    """Distance between the statistics of the input ``x`` (N, C, *) and running statistics.

    Returns two scalar tensors, averages over the C channels of
    ``|mu_x - running_mean| / sqrt(running_var + eps)`` (the mean's error in units of the
    running standard deviation) and ``|log((var_x + eps) / (running_var + eps))|`` (the
    variance's error as a log ratio), with ``var_x`` unbiased as BN's running variance is.
    Both are 0 when the running statistics are those of ``x``.

    Example:
        >>> x = torch.randn(64, 3) * 2 + 1
        >>> var, mean = torch.var_mean(x, 0)
        >>> [round(float(v), 6) for v in statistics_gap(x, mean, var, 0.0)]
        [0.0, 0.0]
    """
    dims = [0] + list(range(2, x.dim()))
    x = x.detach().float()
    correction = 1 if x.numel() > x.shape[1] else 0
    var, mean = torch.var_mean(x, dim=dims, correction=correction)
    return statistics_distance(mean, var, running_mean, running_var, eps)


@torch.no_grad()
def statistics_distance(mean: torch.Tensor, var: torch.Tensor, ref_mean: torch.Tensor,
                        ref_var: torch.Tensor, eps: float = 1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    """Distance of per-channel statistics ``mean`` / ``var`` from reference statistics
    ``ref_mean`` / ``ref_var``: the channel averages of ``|mean - ref_mean| / sqrt(ref_var + eps)``
    and ``|log((var + eps) / (ref_var + eps))|`` (see :func:`statistics_gap`)."""
    r_var = ref_var.float() + eps
    mean_gap = ((mean.float() - ref_mean.float()).abs() / r_var.sqrt()).mean()
    logvar_gap = torch.log((var.float() + eps) / r_var).abs().mean()
    return mean_gap, logvar_gap


def _first_tensor(out: Any) -> Optional[torch.Tensor]:
    if torch.is_tensor(out):
        return out
    if isinstance(out, (list, tuple)):
        for item in out:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(out, dict):
        return _first_tensor(list(out.values()))
    return None


@torch.no_grad()
def output_spread(output: torch.Tensor) -> torch.Tensor:
    """Collapse indicator: the standard deviation over the batch of the L2-normalised outputs
    (N, D), averaged over the D dimensions.  0 for constant outputs (collapse); about
    ``1 / sqrt(D)`` for outputs spread evenly over the sphere.

    Example:
        >>> float(output_spread(torch.ones(8, 4)))
        0.0
        >>> 0.5 < float(output_spread(torch.randn(4096, 64))) * 64 ** 0.5 < 1.5
        True
    """
    flat = F.normalize(output.detach().float().flatten(1), dim=1)
    return flat.std(dim=0, correction=0).mean()


class TeacherProbe:
    """Measures a teacher during the forward passes made while it is active.

    While active (``with TeacherProbe(teacher) as probe:``, or :meth:`attach` /
    :meth:`detach`), forward pre-hooks on the teacher's norm layers that normalise with
    running statistics (:func:`normalises_with_running_stats`: EMAN, TeacherPN, MomentumBN,
    BN in eval mode) compare those statistics with the statistics of each input
    (:func:`statistics_gap`, before the layer runs, so TeacherPN is measured with what it
    normalises with), and a forward hook on the teacher network measures its output spread
    (:func:`output_spread`, the first tensor of the output).  No hook remains after
    :meth:`detach`.  :meth:`summary` averages over calls (two views), then over layers.

    Args:
        teacher (nn.Module): an :class:`EMATeacher` (its network ``teacher.module`` is probed)
            or a teacher network.

    Example:
        >>> student = prepare_student(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)), 'bn-eman')
        >>> teacher = EMATeacher(student, 'bn-eman')
        >>> with TeacherProbe(teacher) as probe:
        ...     _ = teacher(torch.randn(16, 4))
        >>> sorted(probe.summary())
        ['output_std', 'stat_gap_logvar', 'stat_gap_mean']
    """

    def __init__(self, teacher: nn.Module) -> None:
        self.network = teacher.module if isinstance(teacher, EMATeacher) else teacher
        self._handles: List[Any] = []
        self._gaps: Dict[int, List[Tuple[torch.Tensor, torch.Tensor]]] = {}
        self._spreads: List[torch.Tensor] = []

    def attach(self) -> 'TeacherProbe':
        """Register the hooks (forgetting earlier measurements)."""
        self.detach()
        self._gaps, self._spreads = {}, []
        for layer in self.network.modules():
            if normalises_with_running_stats(layer):
                self._handles.append(layer.register_forward_pre_hook(self._measure_layer))
        self._handles.append(self.network.register_forward_hook(self._measure_output))
        return self

    def detach(self) -> None:
        """Remove every hook of this probe."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> 'TeacherProbe':
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _measure_layer(self, layer: _BatchNorm, args: tuple) -> None:
        x = args[0] if args else None
        if torch.is_tensor(x) and x.dim() >= 2 and x.shape[0] > 0:
            gap = statistics_gap(x, layer.running_mean, layer.running_var, layer.eps)
            self._gaps.setdefault(id(layer), []).append(gap)

    def _measure_output(self, module: nn.Module, args: tuple, output: Any) -> None:
        out = _first_tensor(output)
        if out is not None and out.dim() >= 2 and out.shape[0] > 1:
            self._spreads.append(output_spread(out))

    def summary(self) -> Dict[str, float]:
        """``stat_gap_mean`` and ``stat_gap_logvar`` (averaged over calls, then over layers;
        absent when no layer normalises with running statistics) and ``output_std`` (averaged
        over calls; absent when the teacher did not run on a batch of 2 or more)."""
        out = {}
        if self._gaps:
            per_layer = [torch.stack([torch.stack(g) for g in calls]).mean(0)
                         for calls in self._gaps.values()]
            mean_gap, logvar_gap = torch.stack(per_layer).mean(0).tolist()
            out.update(stat_gap_mean=mean_gap, stat_gap_logvar=logvar_gap)
        if self._spreads:
            out['output_std'] = float(torch.stack(self._spreads).mean())
        return out
