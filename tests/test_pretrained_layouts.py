"""The released checkpoints initialise the ImageNet evaluation configs: files written here in
the official MoCo-EMAN / BYOL-EMAN ``.pth.tar`` layouts (``state_dict`` of
``module.encoder_q.*`` / ``module.online_net.backbone.*``, as the official models/moco.py and
models/byol.py name them) and in mmpretrain's model-zoo MoCo v2 / BYOL layout (built with
mmpretrain's own models), loaded into the backbone of the linear config through
``SelfSupPretrained`` (emanplug/models/pretrained.py) and mmengine's safe loader: every key
of the backbone comes from the chosen network, none is missing or left over."""
from pathlib import Path

import pytest
import torch
import torchvision
from mmengine.config import Config

import emanplug
from emanplug.errors import ConfigError
from emanplug.models.pretrained import LAYOUTS, backbone_weights

ROOT = Path(__file__).resolve().parents[1]
LINEAR = {
    'mocov2': 'configs/mocov2/benchmarks/resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k.py',
    'byol': 'configs/byol/benchmarks/resnet50_byol-pre_8xb32-linear-steplr-50e_in1k.py',
}


def torchvision_backbone(seed):
    """A ResNet-50 as the official backbone/resnet.py names it (torchvision's, without fc)."""
    torch.manual_seed(seed)
    state = torchvision.models.resnet50().state_dict()
    return {k: v for k, v in state.items() if not k.startswith('fc.')}


def prefixed(prefix, state):
    return {prefix + k: v for k, v in state.items()}


def official_moco(student, teacher):
    mlp = {'fc.0.weight': torch.randn(2048, 2048), 'fc.0.bias': torch.zeros(2048),
           'fc.2.weight': torch.randn(128, 2048), 'fc.2.bias': torch.zeros(128)}
    state = {**prefixed('module.encoder_q.', {**student, **mlp}),
             **prefixed('module.encoder_k.', {**teacher, **mlp}),
             'module.queue': torch.randn(128, 16), 'module.queue_ptr': torch.zeros(1, dtype=torch.long)}
    return {'epoch': 200, 'arch': 'MoCoEMAN', 'state_dict': state,
            'optimizer': {'state': {}, 'param_groups': [{'lr': 0.0, 'momentum': 0.9, 'params': [0, 1]}]}}


def official_byol(student, teacher):
    neck = {'mlp.0.weight': torch.randn(16, 2048), 'mlp.1.weight': torch.ones(16), 'mlp.1.bias': torch.zeros(16),
            'mlp.1.running_mean': torch.zeros(16), 'mlp.1.running_var': torch.ones(16),
            'mlp.1.num_batches_tracked': torch.tensor(7), 'mlp.3.weight': torch.randn(8, 16)}
    state = {**prefixed('module.online_net.backbone.', student), **prefixed('module.online_net.neck.', neck),
             **prefixed('module.target_net.backbone.', teacher), **prefixed('module.target_net.neck.', neck),
             **prefixed('module.predictor.', neck)}
    return {'epoch': 200, 'arch': 'BYOLEMAN', 'state_dict': state}


def mmpretrain_model(config):
    """mmpretrain's own MoCo v2 / BYOL model, its teacher moved away from the student."""
    import mmpretrain
    from mmpretrain.registry import MODELS
    emanplug.register_all_modules()
    cfg = Config.fromfile(str(Path(mmpretrain.__file__).parent / '.mim' / 'configs' / config)).model
    if 'queue_len' in cfg:
        cfg.queue_len = 16
    model = MODELS.build(cfg)
    teacher = 'encoder_k.module.0.' if 'queue_len' in cfg else 'target_net.module.0.'
    state = model.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            if key.startswith(teacher) and value.is_floating_point():
                value.add_(1.0)
    student = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    return ({'meta': {'mmpretrain_version': '1.2.0'}, 'state_dict': state}, student,
            {k[len(teacher):]: v for k, v in state.items() if k.startswith(teacher)})


def linear_backbone(family, checkpoint, model):
    from mmpretrain.registry import MODELS
    emanplug.register_all_modules()
    cfg = Config.fromfile(str(ROOT / LINEAR[family]))
    cfg.model.backbone.init_cfg.update(checkpoint=str(checkpoint), model=model)
    classifier = MODELS.build(cfg.model)
    classifier.init_weights()
    return classifier.backbone.state_dict()


def same_weights(loaded, expected):
    assert set(loaded) == set(expected), dict(missing=sorted(set(loaded) - set(expected))[:3],
                                              unexpected=sorted(set(expected) - set(loaded))[:3])
    wrong = [k for k in loaded if not torch.equal(loaded[k], expected[k])]
    assert not wrong, wrong[:3]


@pytest.fixture(scope='module')
def networks():
    return torchvision_backbone(0), torchvision_backbone(1)


@pytest.mark.parametrize('model', ['student', 'teacher'])
@pytest.mark.parametrize('family,layout', [('mocov2', official_moco), ('byol', official_byol)])
def test_official_release_layouts_load_into_the_linear_backbone(tmp_path, networks, family, layout, model):
    student, teacher = networks
    path = tmp_path / 'model_best.pth.tar'
    torch.save(layout(student, teacher), path)
    same_weights(linear_backbone(family, path, model), student if model == 'student' else teacher)


@pytest.mark.parametrize('model', ['student', 'teacher'])
@pytest.mark.parametrize('family,config', [
    ('mocov2', 'mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'),
    ('byol', 'byol/byol_resnet50_16xb256-coslr-200e_in1k.py')])
def test_mmpretrain_model_zoo_layouts_load_into_the_linear_backbone(tmp_path, family, config, model):
    checkpoint, student, teacher = mmpretrain_model(config)
    path = tmp_path / 'mmpretrain.pth'
    torch.save(checkpoint, path)
    same_weights(linear_backbone(family, path, model), student if model == 'student' else teacher)


def test_emanplug_layouts_old_and_new_load(tmp_path, networks):
    student, teacher = networks
    for teacher_prefix in ('teacher.module.backbone.', 'teacher.module.0.'):  # new, emanplug <= 0.1.0
        path = tmp_path / 'epoch_200.pth'
        torch.save({'meta': {'epoch': 200}, 'state_dict': {**prefixed('backbone.', student),
                                                           **prefixed(teacher_prefix, teacher)}}, path)
        same_weights(linear_backbone('mocov2', path, 'teacher'), teacher)
        same_weights(linear_backbone('mocov2', path, 'student'), student)


def test_every_layout_is_recognised_by_its_marker_alone():
    names = [layout.name for layout in LAYOUTS]
    assert len(names) == len(set(names))
    for layout in LAYOUTS:
        state = {layout.student + 'conv1.weight': 1}
        if layout.teacher:
            state[layout.teacher + 'conv1.weight'] = 2
        found, weights = backbone_weights(state, 'teacher' if layout.teacher else 'student')
        assert found.name == layout.name and weights == {'conv1.weight': 2 if layout.teacher else 1}


def test_what_does_not_fit_stops_with_one_line(tmp_path, networks):
    student, teacher = networks
    path = tmp_path / 'r18.pth.tar'
    torch.manual_seed(0)
    r18 = {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}
    torch.save(official_moco(r18, r18), path)
    with pytest.raises(ConfigError, match=r'r18.pth.tar: the student backbone \(official MoCo-EMAN layout\) does '
                                          r'not fit the backbone: 198 missing \(layer1.0.conv3.weight, .*\), 23 of another shape'):
        linear_backbone('mocov2', path, 'student')
    path = tmp_path / 'classifier.pth'
    torch.save({'state_dict': prefixed('backbone.', student)}, path)
    with pytest.raises(ConfigError, match=r"init_cfg.model='teacher': .*classifier.pth holds one network .* "
                                          'no teacher; allowed: model=student'):
        linear_backbone('mocov2', path, 'teacher')
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'encoder.weight': torch.zeros(1)}}, path)
    with pytest.raises(ConfigError, match=r'other.pth: no self-supervised backbone found \(keys encoder.weight, '
                                          r'...\); allowed: checkpoints of emanplug, the official'):
        linear_backbone('mocov2', path, 'student')
    with pytest.raises(ConfigError, match=r"init_cfg.model='ema' is not allowed; allowed: student, teacher"):
        linear_backbone('mocov2', path, 'ema')
