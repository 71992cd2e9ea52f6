import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS

from ...core.distributed import all_gather_cat, world_size
from ...errors import ConfigError
from ..teacher_student import TeacherStudentMixin, resolve_teacher_momentum


class CollapseMonitor:
    """Warns loudly when a contrastive loss sits at log(K + 1), the loss of constant outputs."""

    def __init__(self, num_negatives: int, patience: int = 50, tol: float = 0.01) -> None:
        self.chance = math.log(num_negatives + 1)
        self.patience, self.tol, self.count = patience, tol, 0

    def __call__(self, loss: float) -> None:
        self.count = self.count + 1 if abs(loss - self.chance) < self.tol * self.chance else 0
        if self.count == self.patience:
            print_log(f'!!! COLLAPSE: the loss has sat at log(K+1) = {self.chance:.3f} for '
                      f'{self.patience} iterations (constant outputs). Use a learning-rate '
                      'warm-up, a lower lr or a higher teacher momentum. !!!',
                      logger='current', level=40)


@MODELS.register_module()
class EMAMoCo(TeacherStudentMixin, BaseSelfSupervisor):
    """MoCo v2 whose key encoder is an emanplug EMA teacher with a chosen normalisation scheme.

    The key encoder is an ``EMATeacher`` of the student's ``backbone`` and ``neck``, updated by
    ``EMANHook`` after every iteration (eq. 1; eq. 9 for EMAN).  Keys are shuffled only when
    the scheme is ShuffleBN (MoCo's default, ``'bn-shufflebn'``); ``'bn-eman'`` turns the
    shuffle off, as in the EMAN paper.

    Args:
        backbone (dict): backbone config (e.g. mmpretrain ``ResNet``).
        neck (dict): projection neck config (e.g. ``MoCoV2Neck``).
        head (dict): contrastive head config (``ContrastiveHead``, temperature 0.2).
        scheme (str | dict): student/teacher normalisation, e.g. ``'bn-eman'`` (default),
            ``'bn-shufflebn'``, ``'syncbn-syncbn'``; see ``emanplug.core.build_scheme``.
        teacher_momentum (float, optional): paper-convention m (weight of the old value).
            Default 0.999.
        momentum (float, optional): mmpretrain's key (weight of the new value, 0.001), accepted
            so that ``mmpretrain::mocov2`` configs can be inherited; converted to m = 1 - momentum.
        queue_len (int): number of negative keys K. Default 65536.
        feat_dim (int): dimension of the keys. Default 128.
        pretrained, data_preprocessor, init_cfg: as mmpretrain's ``BaseSelfSupervisor``.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 scheme: Union[str, dict] = 'bn-eman', teacher_momentum: Optional[float] = None,
                 momentum: Optional[float] = None, queue_len: int = 65536, feat_dim: int = 128,
                 pretrained: Optional[str] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, pretrained=pretrained,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.init_teacher(scheme, resolve_teacher_momentum(teacher_momentum, momentum, 0.999))
        self.queue_len = queue_len
        self.register_buffer('queue', nn.functional.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
        self.collapse = CollapseMonitor(queue_len)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: torch.Tensor) -> None:
        keys = all_gather_cat(keys)
        n, ptr = keys.shape[0], int(self.queue_ptr)
        if self.queue_len % n:
            raise ConfigError(f'model.queue_len={self.queue_len} is not a multiple of the global '
                              f'batch size {n} ({world_size()} processes); allowed: a multiple of {n}')
        self.queue[:, ptr:ptr + n] = keys.t()
        self.queue_ptr[0] = (ptr + n) % self.queue_len

    def loss(self, inputs: List[torch.Tensor], data_samples=None, **kwargs) -> Dict[str, torch.Tensor]:
        """InfoNCE of queries (student) against keys (teacher) and the queue; also returns
        (logged only) ``pos_sim``, ``neg_sim`` and ``neg_sim_max``: the mean cosine similarity
        of a query to its key, to the queue's keys, and to the most similar of them."""
        self.check_teacher_is_driven()
        im_q, im_k = inputs[0], inputs[1]
        q = nn.functional.normalize(self.neck(self.backbone(im_q))[0], dim=1)
        k = nn.functional.normalize(self.teacher(im_k)[0], dim=1)  # no grad; scheme's forward
        l_pos = (q * k).sum(dim=1, keepdim=True)
        l_neg = q @ self.queue.clone().detach()
        loss = self.head.loss(l_pos, l_neg)
        self._dequeue_and_enqueue(k)
        self.collapse(loss.item())
        # logged, not optimised (mmengine sums only the keys with 'loss'): cosine similarity
        # of each query to its key, to the queue on average and to its nearest queue entry
        return dict(loss=loss, pos_sim=l_pos.detach().mean(), neg_sim=l_neg.detach().mean(),
                    neg_sim_max=l_neg.detach().max(dim=1).values.mean())
