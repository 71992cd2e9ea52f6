"""Normalisation layers of the EMA-teacher schemes, in plain PyTorch.

Every layer here is a drop-in replacement for ``nn.BatchNorm{1,2,3}d``: same
constructor arguments, same state-dict keys (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), any input of shape
``(N, C, *)``.  Their ``momentum`` argument keeps PyTorch's BatchNorm
convention (weight of the *new* value) so that ``mmcv.cnn.build_norm_layer``
and :func:`replace_batchnorms` can pass BN arguments through unchanged; the
schemes in :mod:`emanplug.core.schemes` take the paper's convention and convert.

* :class:`EMAN` - eq. (8): always normalises with its running statistics, in
  train mode as in eval mode, and never updates them itself (the teacher update
  of :mod:`emanplug.core.teacher` sets them, eq. 9).
* :class:`TeacherPN` - "teacher proxy norm" (Table 8): normalises with its own
  running statistics collected up to the previous iteration, then updates them
  from the current batch.
* :class:`MomentumBN` - Momentum^2 Teacher: normalises with
  ``w * batch + (1 - w) * running`` statistics and stores that mix, ``w``
  decaying from 1 to 0 over training (:func:`momentum_bn_weight`).
* :class:`SplitBatchNorm` - batch statistics per sub-batch, the one-process
  emulation of ShuffleBN.
* :class:`GlobalBatchNorm` - SyncBN that also runs on CPU tensors (gloo); on
  GPUs it defers to ``torch.nn.SyncBatchNorm``.
"""
import itertools
import math
from typing import Callable, List, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from ..errors import ConfigError
from .distributed import all_gather_with_grad, world_size


def _reduce_dims(x: torch.Tensor) -> List[int]:
    return [0] + list(range(2, x.dim()))


def _per_channel(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.view(1, -1, *([1] * (x.dim() - 2)))


def _affine(out: torch.Tensor, weight: Optional[torch.Tensor],
            bias: Optional[torch.Tensor]) -> torch.Tensor:
    if weight is not None:
        out = out * _per_channel(weight, out)
    if bias is not None:
        out = out + _per_channel(bias, out)
    return out


class _AnyDimBatchNorm(_BatchNorm):
    """BatchNorm base accepting ``(N, C, *)`` input; abbreviated 'bn' by mmcv."""

    _abbr_ = 'bn'

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'{type(self).__name__} expects input of shape (N, C, *), '
                             f'got {tuple(input.shape)}')

    def _normalise_with_running_stats(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                            self.bias, False, 0.0, self.eps)

    def _require_running_stats(self) -> None:
        if not self.track_running_stats:
            raise ConfigError(f'{type(self).__name__}: track_running_stats=False is not allowed; '
                              'the layer normalises with running statistics')


class BatchNorm(_AnyDimBatchNorm):
    """Plain per-process BatchNorm for any ``(N, C, *)`` input (what a ``bn-*`` scheme makes of a
    student's SyncBN layers)."""


class EMAN(_AnyDimBatchNorm):
    """Exponential moving average normalisation (Cai et al., CVPR 2021, eq. 8).

    ``y = weight * (x - running_mean) / sqrt(running_var + eps) + bias`` in train
    mode as in eval mode: the output of one sample never depends on the other
    samples of the batch, and the layer never changes its statistics.  The
    teacher update (:meth:`emanplug.core.teacher.EMATeacher.update`) makes
    ``running_mean``/``running_var`` the EMA of the student's BN statistics (eq. 9).

    Args:
        num_features (int): number of channels C.
        eps (float): added to the variance. Default 1e-5.
        momentum (float): accepted for BatchNorm compatibility and unused.
        affine (bool): learnable ``weight``/``bias``. Default True.

    Example:
        >>> layer = EMAN(8).train()
        >>> x = torch.randn(4, 8, 5, 5)
        >>> torch.equal(layer(x)[:1], layer(x[:1]))
        True
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, **kwargs) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        self._require_running_stats()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        return self._normalise_with_running_stats(x)


class TeacherPN(_AnyDimBatchNorm):
    """Teacher proxy norm (EMAN paper, Table 8, "teacher PN").

    In train mode it normalises with its running statistics as they were before
    this batch (inference-mode BN), then updates them from the batch:
    ``running := (1 - momentum) * running + momentum * batch`` (unbiased variance,
    as PyTorch BN).  In eval mode it only normalises.

    Args:
        num_features (int): number of channels C.
        eps (float): added to the variance. Default 1e-5.
        momentum (float): PyTorch convention, weight of the new batch statistics;
            the paper's alpha = 1 - momentum. Default 0.1 (alpha = 0.9).
        affine (bool): learnable ``weight``/``bias``. Default True.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, **kwargs) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        self._require_running_stats()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if not self.training:
            return self._normalise_with_running_stats(x)
        mean, var = self.running_mean, self.running_var
        if torch.is_grad_enabled():  # autograd keeps them: do not let the update below change them
            mean, var = mean.clone(), var.clone()
        out = F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)
        with torch.no_grad():
            batch_var, batch_mean = torch.var_mean(x, dim=_reduce_dims(x), correction=1)
            self.running_mean.lerp_(batch_mean.to(mean.dtype), self.momentum)
            self.running_var.lerp_(batch_var.to(var.dtype), self.momentum)
            self.num_batches_tracked.add_(1)
        return out


def momentum_bn_weight(progress: float) -> float:
    """Weight ``w`` of the batch statistics in :class:`MomentumBN` at ``progress`` in [0, 1].

    ``w = (cos(pi * progress) + 1) / 2`` decays from 1 (pure batch statistics) to 0
    (pure running statistics) over training.
    """
    p = min(max(float(progress), 0.0), 1.0)
    return (math.cos(math.pi * p) + 1.0) / 2.0


class MomentumBN(_AnyDimBatchNorm):
    """Momentum BN of Momentum^2 Teacher (Li et al., arXiv 2101.07525), with its per-iteration
    semantics.

    In train mode every call of an iteration normalises its input with
    ``w * batch_stats + (1 - w) * running_stats``, where ``running_stats`` stay fixed during
    the iteration: two views of an iteration
    (BYOL's, Momentum^2 Teacher's) see the same running statistics.  The batch statistics of
    the calls are collected, and :meth:`end_iteration` (called once per iteration by
    :meth:`EMATeacher.update <emanplug.core.teacher.EMATeacher.update>`) moves the running
    statistics once: ``running := w * mean_of_calls(batch_stats) + (1 - w) * running``.
    ``w`` is the attribute :attr:`batch_weight` (1 = plain BN, 0 = inference-mode BN), set
    from training progress with :func:`momentum_bn_weight`.  In eval mode it only normalises.

    The batch variance is the one Momentum^2 Teacher's layer uses, for normalising and for the
    running statistics alike: ``torch.var``'s unbiased estimate (sum of squares / (n - 1), n
    values per channel) multiplied once more by n / (n - 1), i.e. the biased variance times
    (n / (n - 1))^2 (6.6 % above it at n = 32, the teacher's 1-d BN with 32 images per GPU).
    Source: ``MomentumBatchNorm2d`` / ``MomentumBatchNorm1d`` of
    ``momentum_teacher/models/resnet_mbn.py`` (zengarden/momentum2-teacher; lines 81, 87, 104
    and 131, 137, 152 of the copy in WangWenhao0716/ISC-Track1-Submission at 9d8283e,
    ``Pretrain/momentum2-teacher-resnetIBN/``).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, **kwargs) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        self._require_running_stats()
        self.batch_weight = 1.0
        self._calls: List[tuple] = []  # (batch_mean, batch_var) of this iteration's calls

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if not self.training:
            return self._normalise_with_running_stats(x)
        w = float(self.batch_weight)
        n = x.numel() // x.size(1)
        if n < 2:
            raise ValueError(f'MomentumBN needs more than 1 value per channel in training, got input '
                             f'of shape {tuple(x.shape)}')
        unbiased_var, batch_mean = torch.var_mean(x, dim=_reduce_dims(x), correction=1)
        batch_var = unbiased_var * (n / (n - 1))  # Momentum^2 Teacher's variance (class docstring)
        mean = w * batch_mean + (1.0 - w) * self.running_mean
        var = w * batch_var + (1.0 - w) * self.running_var
        out = (x - _per_channel(mean, x)) * _per_channel(torch.rsqrt(var + self.eps), x)
        self._calls.append((batch_mean.detach(), batch_var.detach()))
        return _affine(out, self.weight, self.bias)

    @torch.no_grad()
    def end_iteration(self) -> None:
        """Move the running statistics once, from the mean of this iteration's batch
        statistics, and forget them (nothing happens after an iteration without calls)."""
        if not self._calls:
            return
        w = float(self.batch_weight)
        means, variances = zip(*self._calls)
        self.running_mean.mul_(1.0 - w).add_(torch.stack(means).mean(0), alpha=w)
        self.running_var.mul_(1.0 - w).add_(torch.stack(variances).mean(0), alpha=w)
        self.num_batches_tracked.add_(1)
        self._calls.clear()

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), '_calls': []}  # copies start a fresh iteration


def _divisors(n: int) -> str:
    return ', '.join(str(d) for d in range(1, n + 1) if n % d == 0)


class SplitBatchNorm(_AnyDimBatchNorm):
    """BatchNorm whose train-mode statistics are computed per sub-batch.

    The batch of N samples is cut into ``num_splits`` consecutive sub-batches of
    N / num_splits samples; each is normalised with its own statistics.  The
    running statistics are updated with the mean over sub-batches.  This is how
    ShuffleBN is emulated on one process: shuffle, split, normalise, unshuffle.

    Args:
        num_features (int): number of channels C.
        num_splits (int): number of sub-batches; must divide the batch size.
        eps, momentum, affine: as ``nn.BatchNorm2d`` (PyTorch momentum convention).
    """

    def __init__(self, num_features: int, num_splits: int = 2, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 **kwargs) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        if int(num_splits) < 1:
            raise ConfigError(f'num_splits={num_splits} is not allowed; allowed: an integer >= 1')
        if momentum is None:
            raise ConfigError('SplitBatchNorm: momentum=None (cumulative average) is not '
                              'supported; allowed: a float in [0, 1]')
        self.num_splits = int(num_splits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        s = self.num_splits
        if not self.training or s == 1:
            return super().forward(x)
        n, c, rest = x.shape[0], x.shape[1], x.shape[2:]
        if n % s:
            raise ConfigError(f'num_splits={s} does not divide the batch of {n} samples; '
                              f'allowed: a divisor of {n} ({_divisors(n)})')
        grouped = x.reshape(s, n // s, c, *rest).transpose(0, 1).reshape(n // s, s * c, *rest)
        running_mean = self.running_mean.repeat(s)
        running_var = self.running_var.repeat(s)
        weight = self.weight.repeat(s) if self.weight is not None else None
        bias = self.bias.repeat(s) if self.bias is not None else None
        out = F.batch_norm(grouped, running_mean, running_var, weight, bias, True,
                           self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(running_mean.view(s, c).mean(0))
            self.running_var.copy_(running_var.view(s, c).mean(0))
            self.num_batches_tracked.add_(1)
        return out.reshape(n // s, s, c, *rest).transpose(0, 1).reshape(n, c, *rest)


class GlobalBatchNorm(_AnyDimBatchNorm):
    """SyncBN for every backend: batch statistics of the global batch of all processes.

    On CUDA tensors (nccl) it runs the fused kernel of ``torch.nn.SyncBatchNorm``.  On CPU
    tensors, which ``torch.nn.SyncBatchNorm`` (and DDP around it) refuses, each process
    computes the mean and biased variance of its samples, all processes exchange them
    (one all-gather, differentiable, so gradients flow as in SyncBN) and combine them
    exactly into the statistics of the concatenated batch.  Without torch.distributed, or
    with one process, it is plain BN.  It is deliberately not a subclass of
    ``nn.SyncBatchNorm``, so that DDP on CPU accepts it and mmengine keeps it.

    Args: as ``nn.BatchNorm2d`` (PyTorch momentum convention), plus
        process_group (ProcessGroup, optional): processes to synchronise; default all.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Optional[object] = None, **kwargs) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        if momentum is None:
            raise ConfigError('GlobalBatchNorm: momentum=None (cumulative average) is not '
                              'supported; allowed: a float in [0, 1]')
        self.process_group = process_group

    def _forward_cuda(self, x: torch.Tensor) -> torch.Tensor:
        from torch.nn.modules._functions import SyncBatchNorm as SyncBatchNormFunction
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
        return SyncBatchNormFunction.apply(
            x, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
            self.momentum, self.process_group or dist.group.WORLD,
            world_size(self.process_group))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if not (self.training and world_size(self.process_group) > 1):
            return _BatchNorm.forward(self, x)  # plain BN: nothing to synchronise
        if x.is_cuda:
            return self._forward_cuda(x)  # torch's fused SyncBN kernels (nccl)
        c = x.shape[1]
        local_var, local_mean = torch.var_mean(x, dim=_reduce_dims(x), correction=0)
        count = x.new_full((1,), x.numel() // c)
        gathered = torch.stack(all_gather_with_grad(
            torch.cat([local_mean, local_var, count]), self.process_group))
        counts, means, variances = gathered[:, -1:], gathered[:, :c], gathered[:, c:2 * c]
        total = counts.sum()
        mean = (counts * means).sum(0) / total
        var = (counts * (variances + (means - mean) ** 2)).sum(0) / total
        out = (x - _per_channel(mean, x)) * _per_channel(torch.rsqrt(var + self.eps), x)
        if self.track_running_stats:
            with torch.no_grad():
                unbiased = var * total / (total - 1).clamp(min=1)
                self.running_mean.lerp_(mean, self.momentum or 0.0)
                self.running_var.lerp_(unbiased, self.momentum or 0.0)
                self.num_batches_tracked.add_(1)
        return _affine(out, self.weight, self.bias)


def copy_norm_state(src: nn.Module, dst: nn.Module) -> nn.Module:
    """Copy affine parameters and running statistics from ``src`` into ``dst`` where both have them."""
    with torch.no_grad():
        for name in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'):
            a, b = getattr(src, name, None), getattr(dst, name, None)
            if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape:
                b.copy_(a)
        for name in ('weight', 'bias'):
            a, b = getattr(src, name, None), getattr(dst, name, None)
            if isinstance(a, nn.Parameter) and isinstance(b, nn.Parameter):
                b.requires_grad_(a.requires_grad)
    dst.train(src.training)
    ref = next(itertools.chain(src.parameters(), src.buffers()), None)
    return dst if ref is None else dst.to(device=ref.device)


def replace_batchnorms(module: nn.Module,
                       make: Callable[[str, _BatchNorm], nn.Module]) -> nn.Module:
    """Replace every BatchNorm layer of ``module`` by ``make(qualified_name, layer)``.

    A layer counts as BatchNorm when it is an instance of ``torch``'s ``_BatchNorm``
    (BatchNorm1d/2d/3d, SyncBatchNorm and the layers of this module).  Returns the
    module, which is new when ``module`` itself is a BatchNorm layer.
    """
    def visit(prefix: str, mod: nn.Module) -> nn.Module:
        if isinstance(mod, _BatchNorm):
            return make(prefix, mod)
        for name, child in list(mod.named_children()):
            new = visit(f'{prefix}.{name}' if prefix else name, child)
            if new is not child:
                setattr(mod, name, new)
        return mod

    return visit('', module)


class InstanceNorm(nn.GroupNorm):
    """Instance norm for any ``(N, C, *)`` input, with learnable affine parameters.

    Spatial input is normalised per sample and channel (InstanceNorm).  A
    ``(N, C)`` input, as in MLP necks and heads, has one value per channel, which
    instance norm would map to zero; it is normalised per sample over its C
    features instead (LayerNorm), the batch-independent choice for such layers.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__(num_features, num_features, eps, affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups = 1 if x.dim() == 2 else self.num_groups
        return F.group_norm(x, groups, self.weight, self.bias, self.eps)


def bn_kwargs(bn: _BatchNorm) -> dict:
    """Constructor arguments shared by every BatchNorm-like layer, read off ``bn``."""
    return dict(num_features=bn.num_features, eps=bn.eps, momentum=bn.momentum,
                affine=bn.affine, track_running_stats=bn.track_running_stats)
