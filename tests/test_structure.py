"""The structure users rely on: a core without OpenMMLab side effects, an explicit student
preparation that cannot be forgotten, one update call per step, named teacher parts in
checkpoints, and old checkpoints that keep loading."""
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from emanplug.checkpoint import migrate_state_dict, part_state_dict
from emanplug.core import (EMATeacher, MomentumBN, MomentumSchedule, momentum_bn_weight,
                           prepare_student, prepared_scheme)
from emanplug.errors import ConfigError

from helpers import small_convnet


def run_python(code: str) -> str:
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_core_import_loads_torch_only_and_patches_nothing():
    code = (
        'import sys, torch\n'
        'before = list(torch.serialization.get_safe_globals())\n'
        'import emanplug.core, emanplug\n'
        'from emanplug.core import EMATeacher, prepare_student\n'
        'loaded = sorted({m.split(".")[0] for m in sys.modules} & {"mmengine", "mmpretrain", "mmcv", "lightly"})\n'
        'print(loaded, list(torch.serialization.get_safe_globals()) == before)\n')
    assert run_python(code) == '[] True'


def test_openmmlab_programs_get_the_registrations():
    """custom_imports=['emanplug'] runs with mmengine loaded: importing emanplug registers."""
    code = ('import mmengine, emanplug\n'
            'from mmpretrain.registry import MODELS, HOOKS\n'
            'print(MODELS.get("EMAMoCo").__name__, HOOKS.get("EMANHook").__name__)\n')
    assert run_python(code) == 'EMAMoCo EMANHook'


@pytest.mark.parametrize('scheme', ['bn-eman', 'gn-gn', 'in-in', 'syncbn-syncbn'])
def test_unprepared_student_is_refused_with_one_line(scheme):
    with pytest.raises(ConfigError) as e:
        EMATeacher(small_convnet(), scheme)
    msg = str(e.value)
    assert '\n' not in msg and f"prepare_student(student, '{scheme}')" in msg


def test_student_prepared_for_another_scheme_is_refused():
    student = prepare_student(small_convnet(), 'bn-eman')
    with pytest.raises(ConfigError, match=r"prepared for 'bn-eman'.*prepare_student\(student, 'gn-gn'\)"):
        EMATeacher(student, 'gn-gn')


def test_prepared_student_trains_its_new_layers():
    """The trap of an in-place conversion: an optimizer built before it never sees GN's weights."""
    student = prepare_student(small_convnet(width=8), dict(type='gn', num_groups=4))
    optimizer = torch.optim.SGD(student.parameters(), lr=0.5)
    teacher = EMATeacher(student, dict(type='gn', num_groups=4))
    gn = [m for m in student.modules() if isinstance(m, nn.GroupNorm)]
    assert gn and all(any(p is m.weight for g in optimizer.param_groups for p in g['params']) for m in gn)
    before = [m.weight.detach().clone() for m in gn]
    student(torch.randn(4, 3, 8, 8)).pow(2).mean().backward()
    optimizer.step()
    assert all(not torch.equal(b, m.weight) for b, m in zip(before, gn))
    teacher.update(0, 10)


def test_update_with_step_follows_the_schedule_and_sets_progress():
    student = prepare_student(small_convnet(), 'bn-momentumbn')
    teacher = EMATeacher(student, 'bn-momentumbn', momentum=0.99, momentum_schedule='cosine')
    teacher.update(24, 100)  # step 24 done: the next forward is step 25 of 100
    weights = {m.batch_weight for m in teacher.module.modules() if isinstance(m, MomentumBN)}
    assert weights == {momentum_bn_weight(0.25)}
    with pytest.raises(ConfigError, match='update\\(momentum=m\\)'):
        teacher.update(0.99)  # the old positional momentum


def tiny_moco():
    import emanplug
    emanplug.register_all_modules()
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(
        type='EMAMoCo', _scope_='mmpretrain', scheme='bn-eman', queue_len=16, feat_dim=8,
        backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=16, out_channels=8),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)))


def test_teacher_keys_name_their_parts():
    keys = list(tiny_moco().state_dict())
    assert any(k.startswith('teacher.module.backbone.conv1.') for k in keys)
    assert any(k.startswith('teacher.module.neck.') for k in keys)
    assert not any(k.startswith('teacher.module.0.') for k in keys)


def to_old_layout(state_dict: dict) -> dict:
    """The keys of checkpoints written before the teacher's parts were named."""
    out = {}
    for k, v in state_dict.items():
        for i, part in enumerate(('backbone', 'neck', 'head')):
            k = k.replace(f'teacher.module.{part}.', f'teacher.module.{i}.')
        out[k] = v
    return out


def test_old_checkpoint_keys_migrate_and_load_strictly(tmp_path):
    from mmengine.runner import load_checkpoint
    source = tiny_moco()
    with torch.no_grad():  # make the teacher differ from the student
        for p in source.teacher.module.parameters():
            p.add_(0.01)
    old = to_old_layout(source.state_dict())
    assert any(k.startswith('teacher.module.0.') for k in old)
    path = tmp_path / 'old.pth'
    torch.save({'state_dict': old, 'meta': {}}, path)
    target = tiny_moco()
    load_checkpoint(target, str(path), strict=True)  # mmengine's loader (load_from, resume)
    for k, v in source.state_dict().items():
        assert torch.equal(v, target.state_dict()[k]), k
    backbone = part_state_dict(old, 'teacher', 'backbone')
    assert backbone.keys() == source.teacher.module.backbone.state_dict().keys()


def test_migration_keeps_new_keys_and_outer_prefixes():
    sd = {'module.teacher.module.1.mlp.0.weight': 1, 'backbone.conv1.weight': 2}
    assert migrate_state_dict(sd) == {'module.teacher.module.neck.mlp.0.weight': 1,
                                      'backbone.conv1.weight': 2}
    new = {'teacher.module.backbone.conv1.weight': 3}
    assert migrate_state_dict(new) == new


def test_a_teacher_of_positional_parts_loads_its_own_keys_unchanged():
    """Only teachers of named parts rename: a plain nn.Sequential student keeps 'module.0.'."""
    student = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(student, 'bn-eman')
    state = {k: v + 1 if v.is_floating_point() else v for k, v in teacher.state_dict().items()}
    other = EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman')
    other.load_state_dict(state, strict=True)
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in state.items())
    with pytest.raises(ConfigError, match="no teacher backbone.*'teacher.module.backbone.'"):
        part_state_dict({'backbone.w': 1}, 'teacher')


def test_student_and_teacher_share_one_scheme_built_once_per_teacher(monkeypatch):
    import emanplug.core.student as student_module
    import emanplug.core.teacher as teacher_module
    built = []

    def counting(spec, real=student_module.build_scheme):
        built.append(spec)
        return real(spec)
    for module in (student_module, teacher_module):
        monkeypatch.setattr(module, 'build_scheme', counting)
    student = prepare_student(small_convnet(), 'bn-eman0.9')
    teacher = EMATeacher(student, 'bn-eman0.9')
    assert built == ['bn-eman0.9', 'bn-eman0.9']  # one for the student, one for the teacher
    assert teacher.scheme is prepared_scheme(student)  # one object, not a token to match
    assert not hasattr(teacher.module, '_emanplug_scheme')  # the copy is no prepared student
    with pytest.raises(ConfigError, match="prepared for 'bn-eman0.9'"):
        EMATeacher(student, 'bn-eman')  # another argument, the same token family


def test_update_takes_the_student_like_timm_and_the_old_call_still_works():
    student = prepare_student(small_convnet(), 'bn-eman')
    a, b = EMATeacher(student, 'bn-eman', 0.9), EMATeacher(student, 'bn-eman', 0.9)
    student(torch.randn(4, 3, 8, 8))
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.1)
    a.update(nn.DataParallel(student), 3, 10)
    b.update(3, 10)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    a.update(step=4, total=10)  # the keywords of the old signature
    b.update(student, 4, total=10)
    a.update(None, None)  # no step: the base momentum
    b.update()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ConfigError, match='not the student this teacher was built from'):
        a.update(small_convnet(), 4, 10)


def test_momentum_schedule_is_an_object_checked_once():
    schedule = MomentumSchedule(0.99, 'cosine')
    assert schedule(0, 10) == 0.99 and schedule(10, 10) == 1.0
    assert schedule.replace(name='constant')(10, 10) == 0.99
    with pytest.raises(ConfigError, match='momentum=1.5 is outside'):
        MomentumSchedule(1.5)
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman', 0.99, 'cosine')
    teacher.set_momentum(0.9)
    assert (teacher.momentum, teacher.momentum_schedule, teacher.momentum_at(0, 4)) == (0.9, 'cosine', 0.9)


def test_random_state_kept_around_a_block():
    from emanplug.random_state import rng_state_kept
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    with pytest.raises(RuntimeError):
        with rng_state_kept():
            torch.rand(5)
            raise RuntimeError
    assert torch.equal(torch.rand(2), expected)
