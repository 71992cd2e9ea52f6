from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS

from ..teacher_student import TeacherStudentMixin, resolve_teacher_momentum


@MODELS.register_module()
class EMABYOL(TeacherStudentMixin, BaseSelfSupervisor):
    """BYOL whose target network is an emanplug EMA teacher with a chosen normalisation scheme.

    The target is an ``EMATeacher`` of the student's ``backbone`` and ``neck`` with BYOL's cosine
    momentum schedule ``m_k = 1 - (1 - m_0)(cos(pi k / K) + 1) / 2``, updated by ``EMANHook``.
    BYOL's default normalisation is ``'syncbn-syncbn'``; the EMAN paper uses ``'bn-eman'``.

    Args:
        backbone (dict): backbone config (e.g. mmpretrain ``ResNet``).
        neck (dict): projector config (``NonLinearNeck``).
        head (dict): ``LatentPredictHead`` config (predictor + cosine similarity loss).
        scheme (str | dict): student/teacher normalisation. Default ``'bn-eman'``.
        teacher_momentum (float, optional): paper-convention base momentum m_0. Default 0.99.
        base_momentum (float, optional): mmpretrain's key (weight of the new value, 0.01),
            accepted so that ``mmpretrain::byol`` configs can be inherited; m_0 = 1 - base_momentum.
        momentum_schedule (str): 'cosine' (BYOL, default) or 'constant'.
        pretrained, data_preprocessor, init_cfg: as mmpretrain's ``BaseSelfSupervisor``.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 scheme: Union[str, dict] = 'bn-eman', teacher_momentum: Optional[float] = None,
                 base_momentum: Optional[float] = None, momentum_schedule: str = 'cosine',
                 pretrained: Optional[str] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, pretrained=pretrained,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        momentum = resolve_teacher_momentum(teacher_momentum, base_momentum, 0.99, 'base_momentum')
        self.init_teacher(scheme, momentum, momentum_schedule)

    def loss(self, inputs: List[torch.Tensor], data_samples=None, **kwargs) -> Dict[str, torch.Tensor]:
        """Symmetric regression of each view's online prediction onto the other view's target."""
        self.check_teacher_is_driven()
        v1, v2 = inputs[0], inputs[1]
        online1 = self.neck(self.backbone(v1))[0]
        online2 = self.neck(self.backbone(v2))[0]
        target1 = self.teacher(v1)[0]
        target2 = self.teacher(v2)[0]
        loss = 2. * (self.head.loss(online1, target2) + self.head.loss(online2, target1))
        return dict(loss=loss)
