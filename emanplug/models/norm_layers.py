"""Registers emanplug's norm layers in MMEngine's root ``MODELS`` registry, so that
``norm_cfg=dict(type='EMAN')`` works wherever mmcv / mmpretrain build norm layers
(``mmcv.cnn.build_norm_layer``: ResNet backbones, 1d necks and heads).

Registered names: ``EMAN``, ``TeacherPN``, ``MomentumBN``, ``SplitBN``,
``GlobalSyncBN`` (SyncBN that also runs on CPU / gloo) and ``InstanceNormAny``.
"""
from mmengine.registry import MODELS

from ..core.norms import EMAN, GlobalBatchNorm, InstanceNorm, MomentumBN, SplitBatchNorm, TeacherPN

for _name, _cls in (('EMAN', EMAN), ('TeacherPN', TeacherPN), ('MomentumBN', MomentumBN),
                    ('SplitBN', SplitBatchNorm), ('GlobalSyncBN', GlobalBatchNorm),
                    ('InstanceNormAny', InstanceNorm)):
    MODELS.register_module(_name, module=_cls, force=True)
