"""Every provided config parses, names a registered model, and carries the scheme its file
name promises."""
from pathlib import Path

import pytest

import emanplug  # noqa: F401
from emanplug.apis import load_config
from emanplug.core import build_scheme

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)


def test_there_are_configs_for_every_family():
    names = [p.name for p in CONFIGS if p.parent.name != 'mmpretrain_recipe']
    for family, count in (('mocov2_resnet50_8xb32-coslr-200e_in1k_', 13),
                          ('mocov2_resnet18_1xb256-coslr-200e_cifar10_', 13),
                          ('byol_resnet50_8xb64-coslr-200e_in1k_', 12),
                          ('byol_resnet18_1xb256-coslr-200e_cifar10_', 12),
                          ('fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct_', 16),
                          ('fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_', 14),
                          ('mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_', 13),
                          ('byol_resnet18_2xb32-coslr-16e_cifar10-10k_', 12)):
        assert sum(n.startswith(family) for n in names) == count, family


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_parses_with_its_scheme(path):
    from mmpretrain.registry import MODELS
    cfg = load_config(str(path))
    model = cfg.model
    assert MODELS.get(model.type) is not None
    if model.type not in ('EMAMoCo', 'EMABYOL', 'FixMatch'):
        return  # evaluation configs (linear, fine-tune) have no scheme
    token = path.stem.rsplit('_', 1)[-1]
    scheme = model.get('scheme')
    if token in ('default', 'supervised'):
        assert scheme is None and not cfg.custom_hooks
    else:
        assert build_scheme(scheme).token == build_scheme(token).token
        assert any(h.type == 'EMANHook' for h in cfg.custom_hooks)


def test_table1_budget_rows_share_one_budget():
    """MoCo, BYOL and their supervised ceiling: same backbone, data, batch and schedule."""
    rows = [p for p in CONFIGS if '2xb32-coslr-16e_cifar10-10k' in p.name]
    assert len(rows) == 26
    seen = set()
    for path in rows:
        cfg = load_config(str(path))
        seen.add((repr(cfg.model.backbone), cfg.train_dataloader.batch_size,
                  cfg.train_dataloader.dataset.split_file, cfg.train_cfg.max_epochs,
                  repr(cfg.param_scheduler), repr(cfg.custom_hooks[-1])))
    assert len(seen) == 1, seen


@pytest.mark.parametrize('name, length', [
    ('fixmatch/fixmatch_resnet18_1xb32-mu2-coslr-2000it_cifar10-4000_bn-eman.py', 2000),
    ('fixmatch/fixmatch_resnet18_1xb32-mu2-coslr-4000it_cifar10-4000_bn-eman.py', 4000),
    ('fixmatch/fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000_bn-eman.py', 8000),
    ('mocov2/mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman.py', 16),
])
def test_schedule_warms_up_then_decays_to_zero_at_the_last_step(tmp_path, name, length):
    """A config that changes a budget's length must move the whole schedule with it: warm-up to
    the base lr, half of it mid-way, ~0 at the config's own last step (not before, not after).
    Trains a 1-parameter model under the config's schedule."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    cfg = load_config(str(ROOT / 'configs' / name))
    loop = cfg.train_cfg
    assert loop.get('max_iters', loop.get('max_epochs')) == length
    by_epoch = 'max_epochs' in loop
    iters_per_epoch = 3

    class Scalar(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, mode='loss'):
            return dict(loss=(self.w - 1).pow(2).sum())

    class RecordLR(Hook):
        lrs = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])

    total = length * iters_per_epoch if by_epoch else length
    base_lr = cfg.optim_wrapper.optimizer.lr
    runner = Runner(
        model=Scalar(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=[dict(inputs=0)] * iters_per_epoch, batch_size=1, num_workers=0,
                              sampler=dict(type='DefaultSampler' if by_epoch else 'InfiniteSampler',
                                           shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=base_lr)),
        param_scheduler=cfg.param_scheduler,
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=length) if by_epoch
        else dict(type='IterBasedTrainLoop', max_iters=length),
        default_hooks=dict(checkpoint=None, logger=None), custom_hooks=[RecordLR()],
        default_scope=cfg.default_scope)  # 'mmengine' would leak into later tests
    runner.train()
    lrs = RecordLR.lrs
    assert len(lrs) == total
    warmup_end = cfg.param_scheduler[0].end * (iters_per_epoch if by_epoch else 1)
    assert lrs[0] < 0.01 * base_lr
    assert lrs[warmup_end] == pytest.approx(base_lr)
    middle = (warmup_end + total) // 2
    assert lrs[middle] == pytest.approx(base_lr / 2, rel=0.02)
    assert lrs[-1] < 0.01 * base_lr  # one step before the end of the decay
