"""Initialise a backbone from the student or the teacher of a self-supervised checkpoint,
whatever code wrote it: the evaluation configs' ``init_cfg`` (linear classification and
fine-tuning, ``configs/{mocov2,byol}/benchmarks/``).

    backbone=dict(type='ResNet', depth=50, ..., init_cfg=dict(
        type='SelfSupPretrained', checkpoint='work_dirs/<run>/epoch_200.pth', model='student'))

``model`` is the one option: ``'student'`` (MoCo's query encoder, BYOL's online network: what
the EMAN paper evaluated, the official ``main_lincls.py --model-prefix encoder_q`` /
``online_net.backbone``) or ``'teacher'`` (the key encoder / target network, EMAN's
averaged model).  The layout is recognised from the keys (:data:`LAYOUTS`): emanplug's own
checkpoints (old positional teacher keys included), the official MoCo-EMAN / BYOL-EMAN
``.pth.tar`` releases (``module.encoder_q.*`` / ``module.online_net.backbone.*`` under
``state_dict``) and mmpretrain's model-zoo MoCo v2 / BYOL checkpoints.  The file is read by
mmengine's loaders, which ``import emanplug`` makes safe (``weights_only=True``,
:mod:`emanplug.checkpoint_files`); the weights must fit the backbone exactly: a missing,
unexpected or reshaped key stops the run with one line, where mmengine's ``Pretrained``
(``strict=False``) would train on random weights.

Note: mmengine applies an ``init_cfg`` of a type other than ``'Pretrained'`` before the
children's own initialisation, and mmpretrain's ResNet zeroes the last BN of each block
afterwards when ``zero_init_residual=True``: the evaluation configs set it to False.
"""
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

from mmengine.logging import print_log
from mmengine.model.weight_init import BaseInit
from mmengine.registry import WEIGHT_INITIALIZERS

from ..checkpoint import MODELS, migrate_state_dict, state_dict_mismatch
from ..errors import ConfigError


class Layout(NamedTuple):
    """Where one code base keeps the student's and the teacher's backbone."""
    name: str
    marker: str  # a key prefix that only this layout has
    student: str  # prefix of the student's backbone
    teacher: Optional[str]  # prefix of the teacher's backbone (None: no teacher in the file)
    excluded: Tuple[str, ...] = ()  # sub-prefixes under the backbone prefix that are not backbone


#: Checked in this order (keys with one leading ``module.`` of DDP removed first).
LAYOUTS: Tuple[Layout, ...] = (
    Layout('emanplug', 'teacher.module.backbone.', 'backbone.', 'teacher.module.backbone.'),
    # official models/moco.py: the MLP projection head is the encoder's ``fc``
    Layout('official MoCo-EMAN', 'encoder_q.', 'encoder_q.', 'encoder_k.', ('fc.',)),
    Layout('official BYOL-EMAN', 'online_net.backbone.', 'online_net.backbone.', 'target_net.backbone.'),
    # mmpretrain's MoCo / BYOL: teacher = ExponentialMovingAverage(Sequential(backbone, neck))
    Layout('mmpretrain MoCo', 'encoder_k.module.0.', 'backbone.', 'encoder_k.module.0.'),
    Layout('mmpretrain BYOL', 'target_net.module.0.', 'backbone.', 'target_net.module.0.'),
    # a model without a teacher (a classifier, FixMatch's default): its only backbone
    Layout('backbone of a model without teacher', 'backbone.', 'backbone.', None),
)

ALLOWED = ('checkpoints of emanplug, the official MoCo-EMAN / BYOL-EMAN releases (module.encoder_q.* / '
           'module.online_net.backbone.*) or mmpretrain MoCo v2 / BYOL')


def find_layout(state_dict: Mapping[str, object], source: str = 'checkpoint') -> Layout:
    """The :class:`Layout` of a state dict (DDP's ``module.`` already removed).

    Example:
        >>> find_layout({'encoder_q.conv1.weight': 0, 'encoder_k.conv1.weight': 0}).name
        'official MoCo-EMAN'
    """
    for layout in LAYOUTS:
        if any(k.startswith(layout.marker) for k in state_dict):
            return layout
    shown = ', '.join(list(state_dict)[:3])
    raise ConfigError(f'{source}: no self-supervised backbone found (keys {shown}, ...); allowed: {ALLOWED}')


def backbone_weights(state_dict: Mapping[str, object], model: str = 'student',
                     source: str = 'checkpoint') -> Tuple[Layout, Dict[str, object]]:
    """``(layout, weights)``: the backbone of ``model`` (``'student'`` / ``'teacher'``) in a
    checkpoint's state dict, with the layout's prefix removed.

    Example:
        >>> sd = {'module.online_net.backbone.conv1.weight': 1, 'module.target_net.backbone.conv1.weight': 2,
        ...       'module.online_net.neck.mlp.0.weight': 3}
        >>> layout, weights = backbone_weights(sd, 'teacher'); layout.name, weights
        ('official BYOL-EMAN', {'conv1.weight': 2})
    """
    if model not in MODELS:
        raise ConfigError(f'init_cfg.model={model!r} is not allowed; allowed: {", ".join(MODELS)}')
    plain = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}
    plain = migrate_state_dict(plain)  # emanplug <= 0.1.0: teacher.module.0. = backbone
    layout = find_layout(plain, source)
    prefix = getattr(layout, model)
    if prefix is None:
        raise ConfigError(f'init_cfg.model={model!r}: {source} holds one network ({layout.name}), no '
                          'teacher; allowed: model=student')
    weights = {k[len(prefix):]: v for k, v in plain.items()
               if k.startswith(prefix) and not k[len(prefix):].startswith(layout.excluded)}
    return layout, weights


@WEIGHT_INITIALIZERS.register_module()
class SelfSupPretrained(BaseInit):
    """``init_cfg`` type: load the student's or the teacher's backbone of a self-supervised
    checkpoint into the module, exactly (see the module's doc).

    Args:
        checkpoint (str): a local file or a URL (mmengine's loaders, made safe by emanplug).
        model (str): ``'student'`` (default, what the paper evaluated) or ``'teacher'``.
        map_location (str): as ``torch.load``. Default ``'cpu'``.
    """

    def __init__(self, checkpoint: str, model: str = 'student', map_location: str = 'cpu') -> None:
        super().__init__()
        if model not in MODELS:
            raise ConfigError(f'init_cfg.model={model!r} is not allowed; allowed: {", ".join(MODELS)}')
        if not checkpoint:
            raise ConfigError('init_cfg.checkpoint is empty; allowed: a checkpoint of a pretraining '
                              'run, e.g. --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_200.pth')
        self.checkpoint, self.model, self.map_location = checkpoint, model, map_location

    def __call__(self, module) -> None:
        from mmengine.runner.checkpoint import CheckpointLoader
        loaded = CheckpointLoader.load_checkpoint(self.checkpoint, map_location=self.map_location)
        state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else None
        if not isinstance(state, dict):
            raise ConfigError(f'init_cfg.checkpoint {self.checkpoint} holds a {type(loaded).__name__}, '
                              f'not a state dict; allowed: {ALLOWED}')
        layout, weights = backbone_weights(state, self.model, source=self.checkpoint)
        problem = state_dict_mismatch(module.state_dict(), weights)
        if problem:
            raise ConfigError(f'init_cfg.checkpoint {self.checkpoint}: the {self.model} backbone '
                              f'({layout.name} layout) does not fit the backbone: {problem}; allowed: '
                              'a checkpoint of the same architecture')
        module.load_state_dict(weights, strict=True)
        print_log(f'backbone: {len(weights)} tensors of the {self.model} backbone of {self.checkpoint} '
                  f'({layout.name} layout)', logger='current')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: the {self.model} backbone of {self.checkpoint}'
