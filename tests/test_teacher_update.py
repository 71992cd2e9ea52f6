"""The teacher update follows eq. (1) and (9) of the EMAN paper, per scheme."""
import copy
import math

import pytest
import torch

from emanplug.core import EMATeacher, prepare_student, cosine_momentum, ema_update_

from helpers import small_convnet, train_student_steps


def by_hand(old, new, m):
    return m * old.double() + (1 - m) * new.double()


def close(a, b):
    return torch.allclose(a.double(), b, rtol=1e-6, atol=1e-7)


def setup(scheme, m=0.9):
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, scheme), scheme, momentum=m)
    train_student_steps(student)
    old = copy.deepcopy(teacher.module.state_dict())
    return student, teacher, old


def test_eman_update_is_eq_1_and_9():
    m = 0.9
    student, teacher, old = setup('bn-eman', m)
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        if name.endswith('num_batches_tracked'):
            assert torch.equal(value, s[name]) and value.item() == 3  # copied
        else:
            assert close(value, by_hand(old[name], s[name], m)), name
    assert any(n.endswith('running_var') for n in t)


@pytest.mark.parametrize('stats_m', [0.5, 0.99999])
def test_eman_statistics_momentum_can_differ(stats_m):
    m = 0.9
    student, teacher, old = setup(dict(type='eman', momentum=stats_m), m)
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        if name.endswith(('running_mean', 'running_var')):
            assert close(value, by_hand(old[name], s[name], stats_m)), name
        elif name.endswith(('weight', 'bias')):
            assert close(value, by_hand(old[name], s[name], m)), name


def test_student_pn_copies_statistics():
    student, teacher, old = setup('bn-studentpn0.999', 0.9)
    assert all(b.momentum == pytest.approx(0.001) for b in student.modules()
               if isinstance(b, torch.nn.modules.batchnorm._BatchNorm))
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        if 'running' in name or 'num_batches' in name:
            assert torch.equal(value, s[name]), name


@pytest.mark.parametrize('scheme', ['bn-bn', 'bn-teacherpn', 'bn-momentumbn'])
def test_own_statistics_schemes_keep_teacher_buffers(scheme):
    student, teacher, old = setup(scheme, 0.9)
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        if 'running' in name or 'num_batches' in name:
            assert torch.equal(value, old[name]), name
        else:
            assert close(value, by_hand(old[name], s[name], 0.9)), name


def test_momentum_one_freezes_and_zero_copies():
    student, teacher, old = setup('bn-eman', 0.9)
    teacher.update(momentum=1.0)
    assert all(torch.equal(v, old[k]) for k, v in teacher.module.state_dict().items()
               if v.is_floating_point())
    teacher.update(momentum=0.0)
    s = student.state_dict()
    assert all(torch.equal(v, s[k]) for k, v in teacher.module.state_dict().items())


def test_teacher_starts_as_exact_copy():
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman')
    s = student.state_dict()
    assert all(torch.equal(v, s[k]) for k, v in teacher.module.state_dict().items())
    assert 'module.0.weight' in teacher.state_dict()
    assert not any(k.startswith('_student') for k in teacher.state_dict())


def test_ema_update_vectorised_matches_formula():
    t = [torch.randn(5), torch.randn(2, 3)]
    s = [torch.randn(5), torch.randn(2, 3)]
    expect = [by_hand(a, b, 0.7) for a, b in zip(t, s)]
    ema_update_(t, s, 0.7)
    assert all(close(a, e) for a, e in zip(t, expect))


def test_cosine_schedule_matches_formula():
    m0, K = 0.99, 1000
    assert cosine_momentum(m0, 0, K) == pytest.approx(m0, abs=1e-15)
    assert cosine_momentum(m0, K // 2, K) == pytest.approx(1 - (1 - m0) / 2, abs=1e-15)
    assert cosine_momentum(m0, K, K) == pytest.approx(1.0, abs=1e-15)
    k = 123
    assert cosine_momentum(m0, k, K) == pytest.approx(
        1 - (1 - m0) * (math.cos(math.pi * k / K) + 1) / 2, abs=1e-15)
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman', momentum=m0, momentum_schedule='cosine')
    assert teacher.momentum_at(K // 2, K) == pytest.approx(0.995)
    constant = EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman', momentum=m0)
    assert constant.momentum_at(K // 2, K) == m0


def _replace_first_bn(model):
    """Swap the first norm layer for a new one with other values (a structural change, as a
    SyncBN conversion makes)."""
    for parent in model.modules():
        for name, child in parent.named_children():
            if hasattr(child, 'running_mean'):
                fresh = copy.deepcopy(child)
                fresh.running_mean.fill_(3.0)
                fresh.weight.data.fill_(2.0)
                setattr(parent, name, fresh)
                return name
    raise AssertionError('no norm layer')


@pytest.mark.parametrize('where', ['student', 'teacher'])
def test_update_follows_modules_replaced_after_caching(where):
    """update() caches its tensor pairs; a module replaced in student or teacher afterwards
    (without going through the EMATeacher) must still be updated by eq. (1)/(9)."""
    m = 0.5
    student, teacher, _ = setup('bn-eman', m)
    teacher.update()  # fills the cache
    _replace_first_bn(student if where == 'student' else teacher.module)
    old = copy.deepcopy(teacher.module.state_dict())
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        if not name.endswith('num_batches_tracked'):
            assert close(value, by_hand(old[name], s[name], m)), name


def test_update_follows_tensors_moved_after_caching():
    """Moving the model (here to float64; a device move is the same) replaces buffers."""
    m = 0.5
    student = small_convnet()
    model = torch.nn.ModuleDict(dict(student=student))
    teacher = EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman', momentum=m)
    model['teacher'] = teacher
    train_student_steps(student)
    teacher.update()
    model.double()
    with torch.no_grad():
        for tensor in list(student.parameters()) + list(student.buffers()):
            if tensor.is_floating_point():
                tensor.add_(torch.rand_like(tensor))
    old = copy.deepcopy(teacher.module.state_dict())
    teacher.update()
    s, t = student.state_dict(), teacher.module.state_dict()
    for name, value in t.items():
        assert value.dtype == s[name].dtype
        if not name.endswith('num_batches_tracked'):
            assert close(value, by_hand(old[name], s[name], m)), name


def test_deepcopied_teacher_updates_its_own_tensors():
    student = small_convnet()
    model = torch.nn.ModuleDict(dict(student=student, teacher=EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman', 0.5)))
    model['teacher'].update()
    clone = copy.deepcopy(model)
    before = copy.deepcopy(model['teacher'].module.state_dict())
    train_student_steps(clone['student'])
    clone['teacher'].update()
    for name, value in model['teacher'].module.state_dict().items():
        assert torch.equal(value, before[name]), name  # the original is untouched
    assert clone['teacher'].student is clone['student']
