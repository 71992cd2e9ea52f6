"""Cross-sample (in)dependence of the teacher's output: the point of EMAN."""
import copy

import pytest
import torch

from emanplug.core import EMAN, EMATeacher, build_scheme, prepare_student
from emanplug.core.schemes import SCHEMES

from helpers import small_convnet, train_student_steps


def teacher_for(scheme):
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, scheme), scheme, momentum=0.9)
    train_student_steps(student)
    teacher.update()
    return teacher


def restoring(teacher):
    """``teacher``'s forward, each call from the state it has now: a difference between two
    calls then comes from their batches, not from statistics the first call moved."""
    state = copy.deepcopy(teacher.state_dict())

    def forward(batch):
        teacher.load_state_dict(state)
        return teacher(batch)
    return forward


def first_output_with_companions(forward, x0, companions):
    return forward(torch.cat([x0, companions]))[:1]


# Per registered scheme: in train mode, is the teacher's output for a sample a function of that
# sample alone (and of what the EMA update gave the teacher)?  In eval mode every teacher is.
BATCH_INDEPENDENT = {
    'eman': True, 'studentpn': True, 'gn': True, 'in': True,
    'teacherpn': True,  # the statistics of the previous batches (its forward then moves them)
    'bn': False, 'syncbn': False,  # batch statistics (of the global batch: one process here)
    'shufflebn': False,  # statistics of a sub-batch of the shuffled batch
    'momentumbn': False,  # batch statistics, with weight 1 at the start of training
}
SCHEME_ARGS = {'gn': dict(num_groups=4), 'shufflebn': dict(num_splits=2)}  # small_convnet, 1 process
# every registered scheme with its default arguments, and variants that change a momentum only
CASES = [dict(type=name, **SCHEME_ARGS.get(name, {})) for name in sorted(SCHEMES)] + ['bn-eman0.9']


def test_every_registered_scheme_has_an_expectation():
    missing = sorted(set(SCHEMES) - set(BATCH_INDEPENDENT))
    assert not missing, (f'registered scheme(s) {missing}: say in BATCH_INDEPENDENT whether the '
                         'teacher of each is batch-independent in train mode')


@pytest.mark.parametrize('scheme', CASES, ids=lambda s: build_scheme(s).token)
@pytest.mark.parametrize('mode', ['train', 'eval', 'train-after-eval'])
def test_teacher_batch_independence(scheme, mode):
    name = build_scheme(scheme).name
    if name not in BATCH_INDEPENDENT:
        pytest.fail(f'registered scheme {name!r} has no entry in BATCH_INDEPENDENT')
    teacher = teacher_for(scheme)
    if mode == 'eval':
        teacher.eval()
    elif mode == 'train-after-eval':
        teacher.eval()
        teacher.train()  # what mmengine does every epoch
    x0 = torch.randn(1, 3, 8, 8)
    others = torch.randn(7, 3, 8, 8)
    forward = restoring(teacher)
    ref = first_output_with_companions(forward, x0, others)
    replaced = first_output_with_companions(forward, x0, torch.randn(7, 3, 8, 8) * 3 + 1)
    if mode != 'eval' and not BATCH_INDEPENDENT[name]:
        assert not torch.allclose(ref, replaced, atol=1e-3)
        return
    assert torch.equal(ref, replaced)
    # permuting the batch permutes the outputs and nothing else
    batch = torch.cat([x0, others])
    perm = torch.randperm(8)
    assert torch.equal(forward(batch)[perm], forward(batch[perm]))


def test_teacher_pn_output_follows_the_statistics_its_forward_moved():
    """TeacherPN is batch-independent for a given state, but each train-mode forward moves its
    statistics: the same batch again gives another output (restored, the same output)."""
    teacher = teacher_for('bn-teacherpn')
    batch = torch.randn(8, 3, 8, 8) * 3 + 1
    forward = restoring(teacher)
    first = forward(batch)
    assert not torch.allclose(teacher(batch), first, atol=1e-3)
    assert torch.equal(forward(batch), first)


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
