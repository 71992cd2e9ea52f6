"""EMAN for mmpretrain's own MoCo, DenseCL, BYOL and MoCoV3 by one config line
(``EMANTeacherHook``, configs/mmpretrain_recipe/*_mmpretrain-model_bn-eman.py).

Each recipe is trained as it is (mmpretrain's model class, its ``update_parameters`` calls,
its key shuffle, its optimizer) on a generated ImageNet tree, made small only where the CPU
cannot afford it (the smoke driver's shrinking: 64 px crops, a half-width ResNet-50, thin
MLPs); every ``update_parameters`` call is recorded and checked against eq. (1)/(9) computed
here by hand with the momentum read from mmpretrain's config in its own convention."""
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from emanplug.cli import fake_imagenet, train
from emanplug.errors import ConfigError
from emanplug.models.averaged_teacher import AveragedModelTeacher
from imagenet_smoke_driver import write_cell
from speedups import run_side_by_side

ROOT = Path(__file__).resolve().parents[1]
RECIPE_DIR = ROOT / 'configs' / 'mmpretrain_recipe'
RECIPES = {  # model class: (recipe, teacher attribute)
    'MoCo': ('mocov2_resnet50_8xb32-coslr-200e_in1k_mmpretrain-model_bn-eman.py', 'encoder_k'),
    'DenseCL': ('densecl_resnet50_8xb32-coslr-200e_in1k_mmpretrain-model_bn-eman.py', 'encoder_k'),
    'BYOL': ('byol_resnet50_16xb256-coslr-200e_in1k_mmpretrain-model_bn-eman.py', 'target_net'),
    'MoCoV3': ('mocov3_resnet50_8xb512-amp-coslr-100e_in1k_mmpretrain-model_bn-eman.py',
               'momentum_encoder'),
}
ITERS = 3


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    root = tmp_path_factory.mktemp('fake') / 'imagenet'
    fake_imagenet.run([str(root), '--classes', '2', '--train-per-class', '6', '--val-per-class',
                       '1', '--size', '72'])
    return root


def small_config(recipe: str, imagenet: Path, folder: Path, extra: str = '') -> str:
    """The recipe as a small run of ITERS iterations (one epoch) on the generated data."""
    folder.mkdir(parents=True, exist_ok=True)
    cell = write_cell(str(RECIPE_DIR / recipe), str(imagenet), str(folder / 'work'), str(folder))
    text = open(cell).read()
    assert "'num_batch_per_epoch': 2" in text
    with open(cell, 'w') as f:
        f.write(text.replace("'num_batch_per_epoch': 2", f"'num_batch_per_epoch': {ITERS}"))
    cfg = Config.fromfile(cell)
    lines = []
    if cfg.optim_wrapper.type == 'AmpOptimWrapper':  # MoCoV3's recipe: CUDA fp16, fp32 here
        plain = {k: v for k, v in cfg.optim_wrapper.to_dict().items() if k != 'loss_scale'}
        lines.append(f"optim_wrapper = {dict(plain, type='OptimWrapper', _delete_=True)!r}")
    with open(cell, 'a') as f:
        f.write('\n'.join(lines + [extra]) + '\n')
    return cell


def record_updates(monkeypatch) -> list:
    """Every AveragedModelTeacher.update_parameters call: steps, teacher before / after and
    the student it was given, each as a state dict copy."""
    calls = []
    original = AveragedModelTeacher.update_parameters

    def spy(self, model):
        snap = lambda m: {k: v.detach().clone() for k, v in m.state_dict().items()}  # noqa: E731
        before, student, steps = snap(self.module), snap(model), int(self.steps)
        original(self, model)
        calls.append(dict(steps=steps, before=before, student=student, after=snap(self.module)))
    monkeypatch.setattr(AveragedModelTeacher, 'update_parameters', spy)
    return calls


def mmpretrain_momentum(model_cfg: dict, steps: int, total: int) -> float:
    """The paper's m (weight of the old value) at call ``steps`` of mmpretrain's own teacher:
    ExponentialMovingAverage(momentum) for MoCo/DenseCL, CosineEMA(base_momentum) for
    BYOL/MoCoV3 (mmengine's convention: the weight of the new value)."""
    if model_cfg['type'] in ('MoCo', 'DenseCL'):
        return 1 - model_cfg['momentum']
    new = model_cfg['base_momentum'] * (math.cos(math.pi * steps / total) + 1) / 2
    return 1 - new


@pytest.mark.parametrize('kind', list(RECIPES))
def test_recipe_gives_mmpretrains_model_an_exact_eman_teacher(kind, imagenet, tmp_path, monkeypatch):
    recipe, attr = RECIPES[kind]
    calls = record_updates(monkeypatch)
    runner = train.run([small_config(recipe, imagenet, tmp_path), '--work-dir', str(tmp_path / 'w')])
    model = runner.model
    assert type(model).__name__ == kind  # mmpretrain's own class, not an emanplug model
    teacher = getattr(model, attr)
    assert isinstance(teacher, AveragedModelTeacher) and teacher.scheme.token == 'bn-eman'
    assert {type(m).__name__ for m in teacher.module.modules()} >= {'EMAN'}
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    # the student's (possibly converted) norm layers still use the tensors the optimizer steps
    stepped = {id(p) for g in runner.optim_wrapper.optimizer.param_groups for p in g['params']}
    assert all(id(p) in stepped for p in teacher.student.parameters())
    keys = [k for k in model.state_dict() if k.startswith(attr + '.')]
    assert f'{attr}.steps' in keys and f'{attr}.module.0.conv1.weight' in keys  # mmpretrain's keys

    # (b, c) each call is eq. (1)/(9) by hand; the first call copies the student
    model_cfg = runner.cfg.model
    assert [c['steps'] for c in calls] == list(range(ITERS)) and int(teacher.steps) == ITERS
    assert all(torch.equal(v, calls[0]['student'][k]) for k, v in calls[0]['after'].items())
    checked = set()
    for call in calls[1:]:
        m = mmpretrain_momentum(model_cfg, call['steps'], runner.max_iters)
        for name, after in call['after'].items():
            old, new = call['before'][name], call['student'][name]
            if after.is_floating_point():  # parameters (eq. 1) and BN statistics (eq. 9)
                assert torch.equal(after, torch.lerp(old, new, 1 - m)), (name, call['steps'])
            else:  # num_batches_tracked: copied
                assert torch.equal(after, new), name
            checked.add(name.rpartition('.')[2])
    assert {'weight', 'running_mean', 'running_var', 'num_batches_tracked'} <= checked

    # (a) the teacher's output for a sample does not depend on its batch-mates
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        a = teacher(torch.stack([x[0], x[1]]))[0]
        b = teacher(torch.stack([x[0], x[2]]))[0]
    assert torch.equal(a[0], b[0])
    assert not torch.equal(a[1], b[1])


def test_batch_independence_check_would_catch_a_bn_teacher(imagenet, tmp_path):
    """The negative control of (a): the same model with scheme bn-bn (mmpretrain's own
    behaviour, batch statistics) gives sample 0 different outputs next to different samples."""
    recipe, attr = RECIPES['MoCo']
    cell = small_config(recipe, imagenet, tmp_path,
                        "custom_hooks = [dict(type='EMANTeacherHook', scheme='bn-bn')]")
    runner = train.run([cell, '--work-dir', str(tmp_path / 'w')])
    teacher = getattr(runner.model, attr)
    assert teacher.scheme.token == 'bn-bn'
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        a = teacher(torch.stack([x[0], x[1]]))[0]
        b = teacher(torch.stack([x[0], x[2]]))[0]
    assert not torch.allclose(a[0], b[0], atol=1e-4)


def test_resume_keeps_the_teacher_and_its_steps(imagenet, tmp_path):
    recipe, attr = RECIPES['BYOL']
    cell = small_config(recipe, imagenet, tmp_path)
    first = train.run([cell, '--work-dir', str(tmp_path / 'w')])
    saved = {k: v.clone() for k, v in getattr(first.model, attr).state_dict().items()}
    more = tmp_path / 'more.py'
    more.write_text(f'_base_ = {cell!r}\ntrain_cfg = dict(max_epochs=2)\n')
    resumed = train.run([str(more), '--work-dir', str(tmp_path / 'w'), '--resume'])
    teacher = getattr(resumed.model, attr)
    assert int(teacher.steps) == 2 * ITERS and resumed.iter == 2 * ITERS
    assert saved['steps'] == ITERS  # the resumed run did not start the teacher again from a copy
    ckpt = torch.load(tmp_path / 'w' / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['emanplug_averaged_teachers'][0]['scheme'] == 'bn-eman'


BAD_HOOKS = [
    ("[dict(type='EMANTeacherHook', scheme='bn-shufflebn')]",
     "scheme 'bn-shufflebn' needs its own teacher forward, which mmpretrain models bypass; "
     'allowed: bn-bn, bn-eman'),
    ("[dict(type='EMANTeacherHook', scheme='bn-fancy')]",
     "EMANTeacherHook.scheme: scheme='bn-fancy' is unknown; allowed:"),
    ("[dict(type='EMANTeacherHook'), dict(type='EMANHook')]",
     'EMANTeacherHook: the config also has EMANHook'),
]


@pytest.fixture(scope='module')
def bad_hook_runs(imagenet, tmp_path_factory):
    """tools/train.py on the MoCo recipe with each of BAD_HOOKS, each in a fresh process of its
    own, all started at once (mostly imports on one core each: side by side on 2 cores they take
    about half the time): ``{hooks: (returncode, stdout, stderr)}``."""
    recipe, _ = RECIPES['MoCo']
    commands = []
    for hooks, _ in BAD_HOOKS:
        folder = tmp_path_factory.mktemp('bad_hooks')
        cell = small_config(recipe, imagenet, folder, f'custom_hooks = {hooks}')
        commands.append([sys.executable, str(ROOT / 'tools' / 'train.py'), cell, '--work-dir', str(folder / 'w')])
    results = run_side_by_side(commands, timeout=600, cwd=ROOT)
    return {hooks: result for (hooks, _), result in zip(BAD_HOOKS, results)}


@pytest.mark.parametrize('hooks, message', BAD_HOOKS)
def test_bad_teacher_hook_settings_are_one_line(hooks, message, bad_hook_runs):
    returncode, _, stderr = bad_hook_runs[hooks]
    assert returncode != 0
    last = stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and message in last, stderr[-2000:]
    assert 'Traceback' not in stderr


def test_teacher_hook_refuses_a_model_without_an_averaged_teacher():
    from emanplug.models.averaged_teacher import convert_averaged_teachers
    assert convert_averaged_teachers(torch.nn.Sequential(torch.nn.Linear(2, 2)), 'bn-eman') == []
    from mmengine.model import StochasticWeightAverage
    model = torch.nn.Module()
    model.backbone = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    model.swa = StochasticWeightAverage(model.backbone)
    with pytest.raises(ConfigError, match='StochasticWeightAverage is not an exponential'):
        convert_averaged_teachers(model, 'bn-eman')


def test_two_gloo_processes_train_mmpretrains_moco_with_an_eman_teacher(imagenet, tmp_path):
    recipe, attr = RECIPES['MoCo']
    cell = small_config(recipe, imagenet, tmp_path)
    from test_imagenet_smoke import free_port
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           f'--master_port={free_port()}', str(ROOT / 'tools' / 'train.py'), cell,
           '--work-dir', str(tmp_path / 'w'), '--launcher', 'pytorch']
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'encoder_k is now an EMA teacher of scheme bn-eman' in result.stdout + result.stderr
    state = torch.load(tmp_path / 'w' / 'epoch_1.pth', map_location='cpu', weights_only=False)
    sd = state['state_dict']
    assert int(sd[f'{attr}.steps']) == ITERS
    # the teacher's statistics moved from the initial copy by eq. (9) (not copied from the
    # student: its running_var would then equal the student's)
    name = f'{attr}.module.0.bn1.running_var'
    assert torch.isfinite(sd[name]).all() and not torch.equal(sd[name], sd['backbone.bn1.running_var'])


@pytest.mark.parametrize('scheme', __import__('emanplug.models.averaged_teacher',
                                              fromlist=['x']).model_schemes())
def test_every_plain_forward_scheme_converts_mmpretrains_moco(scheme):
    """Built directly (no Runner): each scheme the hook allows converts mmpretrain's MoCo after
    its optimizer exists, and the optimizer still trains every tensor the student uses."""
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    from emanplug.models.averaged_teacher import convert_averaged_teachers
    model = MODELS.build(dict(
        type='MoCo', queue_len=8, feat_dim=16, momentum=0.01,
        backbone=dict(type='ResNet', depth=18, base_channels=32, norm_cfg=dict(type='SyncBN')),
        neck=dict(type='MoCoV2Neck', in_channels=256, hid_channels=32, out_channels=16,
                  with_avg_pool=True),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert convert_averaged_teachers(model, scheme) == ['encoder_k']
    teacher = model.encoder_k
    assert teacher.scheme.token == scheme and teacher.momentum == pytest.approx(0.99)
    stepped = {id(p) for g in optimizer.param_groups for p in g['params']}
    assert all(id(p) in stepped for p in model.backbone.parameters())
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    for _ in range(2):
        loss = model.loss(views, [DataSample() for _ in range(4)])['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert int(teacher.steps) == 2 and torch.isfinite(loss)
