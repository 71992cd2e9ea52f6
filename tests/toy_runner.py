"""A tiny deterministic MMEngine run with an EMA teacher (seconds on CPU), for tests of
resume, checkpoints and guards."""
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from emanplug.core import EMATeacher, prepare_student

from helpers import small_convnet


class ToyEMAModel(BaseModel):
    """Student regresses the teacher's output on the other view (deterministic)."""

    def __init__(self, scheme='bn-eman'):
        super().__init__()
        self.student = small_convnet()
        self.teacher = EMATeacher(prepare_student(self.student, scheme), scheme, momentum=0.9)

    def forward(self, inputs, mode='loss'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        target = self.teacher(x.flip(-1))
        return dict(loss=(self.student(x) - target).pow(2).mean())


class Interrupted(Exception):
    pass


class StopAfter(Hook):
    """Simulates a killed job: raises after iteration ``n`` (after its checkpoint is saved)."""
    priority = 'LOWEST'

    def __init__(self, n):
        self.n = n

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.n:
            raise Interrupted


def make_runner(work_dir, max_iters=6, resume=False, scheme='bn-eman', stop_after=None,
                interval=3, max_keep_ckpts=-1, load_from=None, model=None, hooks=()):
    torch.manual_seed(0)
    data = [dict(inputs=torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(i)))
            for i in range(32)]
    return Runner(
        model=model or ToyEMAModel(scheme), work_dir=str(work_dir), load_from=load_from,
        train_dataloader=dict(dataset=data, batch_size=8, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=interval, by_epoch=False,
                                           max_keep_ckpts=max_keep_ckpts),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='EMANHook'), *hooks] + ([StopAfter(stop_after)] if stop_after else []),
        randomness=dict(seed=0), resume=resume, default_scope='mmengine')
