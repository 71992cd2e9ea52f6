"""Cross-sample (in)dependence of the teacher's output: the point of EMAN."""
import pytest
import torch

from emanplug.core import EMAN, EMATeacher, prepare_student

from helpers import small_convnet, train_student_steps


def teacher_for(scheme):
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, scheme), scheme, momentum=0.9)
    train_student_steps(student)
    teacher.update()
    return teacher


def first_output_with_companions(teacher, x0, companions):
    return teacher(torch.cat([x0, companions]))[:1]


@pytest.mark.parametrize('scheme', ['bn-eman', 'gn-gn', 'in-in', 'bn-studentpn', 'bn-eman0.9'])
@pytest.mark.parametrize('mode', ['train', 'eval', 'train-after-eval'])
def test_batch_independent_teachers(scheme, mode):
    teacher = teacher_for(scheme if scheme != 'gn-gn' else dict(type='gn', num_groups=4))
    if mode == 'eval':
        teacher.eval()
    elif mode == 'train-after-eval':
        teacher.eval()
        teacher.train()  # what mmengine does every epoch
    x0 = torch.randn(1, 3, 8, 8)
    others = torch.randn(7, 3, 8, 8)
    ref = first_output_with_companions(teacher, x0, others)
    replaced = first_output_with_companions(teacher, x0, torch.randn(7, 3, 8, 8) * 3 + 1)
    assert torch.equal(ref, replaced)
    # permuting the batch permutes the outputs and nothing else
    batch = torch.cat([x0, others])
    perm = torch.randperm(8)
    assert torch.equal(teacher(batch)[perm], teacher(batch[perm]))


def test_bn_teacher_depends_on_the_batch_in_train_mode():
    teacher = teacher_for('bn-bn')
    teacher.train()
    x0 = torch.randn(1, 3, 8, 8)
    ref = first_output_with_companions(teacher, x0, torch.randn(7, 3, 8, 8))
    replaced = first_output_with_companions(teacher, x0, torch.randn(7, 3, 8, 8) * 3 + 1)
    assert not torch.allclose(ref, replaced, atol=1e-3)


def test_eman_teacher_has_eman_layers_and_student_keeps_bn():
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman')
    kinds = {type(m).__name__ for m in teacher.module.modules()}
    assert 'EMAN' in kinds and 'BatchNorm2d' not in kinds and 'BatchNorm1d' not in kinds
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in student.modules())
    assert not any(p.requires_grad for p in teacher.parameters())


def test_eman_layer_never_updates_itself():
    layer = EMAN(4).train()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    layer(torch.randn(16, 4, 3, 3) * 5 + 2)
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())
