"""MMEngine adapters: norm layers by config, EMANHook in a Runner, exact resume under
torch's safe loading, and refusal of unsafe checkpoints."""
import os
import pickle
import subprocess
import sys

import numpy as np

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel

import emanplug  # noqa: F401  (registers everything)
from emanplug.compat import UnsafeCheckpointError, load_checkpoint_file
from emanplug.core import EMAN

from helpers import small_convnet
from toy_runner import Interrupted, ToyEMAModel, make_runner


def test_eman_norm_cfg_in_mmpretrain_backbone_and_neck():
    from mmpretrain.models import NonLinearNeck, ResNet
    backbone = ResNet(18, norm_cfg=dict(type='EMAN'))
    reference = ResNet(18, norm_cfg=dict(type='BN'))
    assert isinstance(backbone.bn1, EMAN)
    assert list(backbone.state_dict()) == list(reference.state_dict())
    neck = NonLinearNeck(512, 64, 32, norm_cfg=dict(type='EMAN'))
    assert any(isinstance(m, EMAN) for m in neck.modules())
    backbone.train()
    x, y = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    y[0] = x[0]
    assert torch.equal(backbone(x)[0][:1], backbone(y)[0][:1])


def test_hook_updates_teacher_and_resume_is_exact(tmp_path):
    full = make_runner(tmp_path / 'full', 6)
    full.train()
    teacher = full.model.teacher
    assert teacher.updates_this_process == 6
    assert isinstance(teacher.module[1], EMAN)  # mmengine's model.train() changed nothing
    student_stats = full.model.student[1].running_mean
    assert not torch.equal(teacher.module[1].running_mean, student_stats)

    interrupted = make_runner(tmp_path / 'part', stop_after=3)
    with pytest.raises(Interrupted):
        interrupted.train()
    resumed = make_runner(tmp_path / 'part', resume=True)  # safe loading (weights_only)
    resumed.train()
    assert resumed.iter == 6
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_resume_with_other_scheme_is_refused(tmp_path):
    with pytest.raises(Interrupted):
        make_runner(tmp_path, stop_after=3).train()
    runner = make_runner(tmp_path, resume=True, scheme='bn-studentpn')
    with pytest.raises(ValueError, match='resume: the checkpoint was trained with teachers'):
        runner.train()


class NoTeacher(ToyEMAModel):
    def __init__(self):
        BaseModel.__init__(self)
        self.student = small_convnet()

    def forward(self, inputs, mode='loss'):
        return dict(loss=self.student(torch.stack(inputs)).pow(2).mean())


def test_hook_without_teacher_is_a_config_error(tmp_path):
    runner = make_runner(tmp_path)
    runner.model = NoTeacher()
    with pytest.raises(ValueError, match='EMANHook: model NoTeacher has no EMATeacher'):
        runner.call_hook('before_train')


def test_teacher_check_counts_only_iterations_that_checked_a_teacher(tmp_path):
    from emanplug.hooks import TeacherCheckHook
    runner = make_runner(tmp_path / 'a', max_iters=2, hooks=[dict(type='TeacherCheckHook')])
    runner.train()
    check = next(h for h in runner.hooks if isinstance(h, TeacherCheckHook))
    assert check.checked_iters == runner.iter == 2
    # a run in which it finds no teacher fails, at the first iteration
    runner = make_runner(tmp_path / 'b', max_iters=2)
    runner.model = NoTeacher()
    with pytest.raises(ValueError, match='TeacherCheckHook: model NoTeacher has no EMATeacher'):
        TeacherCheckHook().before_train_iter(runner, 0)
    # a run with no teacher by design checks its losses only, and a teacher there is an error
    TeacherCheckHook(expect_teacher=False).before_train_iter(runner, 0)
    runner.model = ToyEMAModel()
    with pytest.raises(AssertionError, match='the model has 1 teacher'):
        TeacherCheckHook(expect_teacher=False).before_train_iter(runner, 0)


class Evil:
    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_checkpoint_with_pickled_callable_is_refused(tmp_path):
    marker = tmp_path / 'executed'
    Evil.marker = marker
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'payload': Evil()}}, path)
    with pytest.raises(UnsafeCheckpointError) as e:
        load_checkpoint_file(str(path))
    msg = str(e.value)
    assert '\n' not in msg and str(path) in msg and 'posix.system' in msg
    assert 'refusing to load it' in msg
    from mmengine.runner import load_checkpoint  # mmengine's path goes through the same check
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(nn.Linear(1, 1), str(path))
    assert not marker.exists()


def test_safe_loading_stays_on_globally(tmp_path):
    path = tmp_path / 'evil.pth'
    Evil.marker = tmp_path / 'executed'
    torch.save(Evil(), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not (tmp_path / 'executed').exists()


def test_message_hub_checkpoint_loads_in_a_fresh_process(tmp_path):
    """A checkpoint with HistoryBuffers (mmengine's message hub) loads in a process that has
    not created a HistoryBuffer yet: mmengine registers min/max/mean/current lazily."""
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer()
    for v in (3.0, 1.0, 2.0):
        buf.update(v)
    path = tmp_path / 'hub.pth'
    torch.save({'message_hub': {'log_scalars': {'loss': buf}}, 'meta': {'step': np.int64(3)}}, path)
    code = ('import emanplug\nfrom emanplug.compat import load_checkpoint_file\n'
            f'ckpt = load_checkpoint_file({str(path)!r})\n'
            "buf = ckpt['message_hub']['log_scalars']['loss']\n"
            "print(buf.min(), buf.max(), buf.mean(), buf.current())\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['1.0', '3.0', '2.0', '2.0']


def test_disallowed_getattr_is_named_in_the_error(tmp_path):
    class Sneaky:
        def __reduce__(self):
            from mmengine.logging import HistoryBuffer
            return (getattr, (HistoryBuffer, 'update'))
    path = tmp_path / 'sneaky.pth'
    torch.save({'meta': Sneaky()}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"getattr\(HistoryBuffer, 'update'\)"):
        load_checkpoint_file(str(path))
