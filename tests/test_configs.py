"""Every provided config parses, names a registered model, and carries the scheme its file
name promises; the layout is mmpretrain's: reusable pieces in configs/_base_/, and per family
a main config beside the rows that inherit it."""
import ast
import re
from pathlib import Path

import pytest
from mmengine.config import Config

import emanplug  # noqa: F401
from emanplug.core import build_scheme
from emanplug.core.schemes import SCHEMES

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / 'configs' / '_base_'
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
# mmpretrain's name of an experiment: {algorithm}_{backbone}_{N}xb{batch}-{schedule}-{length}_{dataset}
MAIN_NAME = re.compile(r'[a-z0-9]+_[a-z0-9-]+_\d+xb\d+(-[a-z0-9]+)+_[a-z0-9-]+')


def local_bases(path):
    """The repository files a config's ``_base_`` names (``mmpretrain::`` ones left out)."""
    for node in ast.parse(path.read_text()).body:
        targets = [getattr(t, 'id', None) for t in getattr(node, 'targets', [])]
        if isinstance(node, ast.Assign) and '_base_' in targets:
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else value
            return [(path.parent / n).resolve() for n in names if '::' not in n]
    return []


# A family's main config is the one its rows inherit; every other config is a row.
MAIN_CONFIGS = sorted({b for p in CONFIGS for b in local_bases(p) if '_base_' not in b.parts})
ROWS = [p for p in CONFIGS if p not in MAIN_CONFIGS]


# The families of Tables 1 and 8: file-name prefix of the rows -> number of rows.  (ImageNet at
# the paper's Sec. 5.1 lengths, 100 / 100 / 50 epochs; the 200 / 800-epoch ImageNet families hold
# Table 2's rows only, and configs/*/metafile.yml lists every ImageNet row: tests/test_metafiles.py.)
TABLE_FAMILIES = {
    'mocov2_resnet50_8xb32-coslr-100e_in1k_': 13,
    'mocov2_resnet18_1xb256-coslr-200e_cifar10_': 13,
    'byol_resnet50_8xb64-coslr-50e_in1k_': 12,
    'byol_resnet18_1xb256-coslr-200e_cifar10_': 12,
    'fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct_': 17,
    'fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_': 14,
    'mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_': 13,
    'byol_resnet18_2xb32-coslr-16e_cifar10-10k_': 12,
}


def test_there_are_configs_for_every_family():
    names = [p.name for p in CONFIGS if p.parent.name != 'mmpretrain_recipe']
    for family, count in TABLE_FAMILIES.items():
        assert sum(n.startswith(family) for n in names) == count, family
        assert family.rstrip('_') + '.py' in names, f'{family}: no main config'


@pytest.mark.parametrize('family', TABLE_FAMILIES)
def test_every_registered_scheme_has_a_row(family):
    """The Table 1 / 8 families cover the registry: a newly registered scheme needs its rows."""
    tokens = [p.stem[len(family):] for p in ROWS if p.name.startswith(family)]
    covered = {build_scheme(t).name for t in tokens if t not in ('default', 'supervised')
               and not t.startswith('from-')}
    missing = sorted(set(SCHEMES) - covered)
    assert not missing, f'{family}*: no row for the registered scheme(s) {missing}'


def test_base_holds_only_reusable_pieces():
    """configs/_base_/ holds datasets, models, schedules and the runtime; experiments live in
    their algorithm folders."""
    tops = {p.relative_to(BASE).parts[0] for p in BASE.rglob('*.py')}
    assert tops <= {'datasets', 'models', 'schedules', 'default_runtime.py'}, sorted(tops)


@pytest.mark.parametrize('path', MAIN_CONFIGS, ids=lambda p: p.name)
def test_main_config_is_named_and_inherits_as_mmpretrain_does(path):
    assert path.parent.name != 'mmpretrain_recipe' and MAIN_NAME.fullmatch(path.stem), path.name
    for base in local_bases(path):  # reusable pieces, or another main config beside it
        assert BASE in base.parents or (base in MAIN_CONFIGS and base.parent == path.parent), base


@pytest.mark.parametrize('path', [p for p in ROWS if p.parent.name != 'mmpretrain_recipe'],
                         ids=lambda p: p.name)
def test_row_inherits_the_main_config_beside_it(path):
    """A row is its main config plus a few lines (a row without one, such as the supervised
    ceiling, inherits the reusable pieces only)."""
    bases = local_bases(path)
    mains = [b for b in bases if b in MAIN_CONFIGS]
    if not mains:
        assert bases and all(BASE in b.parents for b in bases), bases
        return
    assert len(bases) == 1 and mains[0].parent == path.parent, bases
    # same backbone and batch / schedule / length as the main config it changes
    assert path.stem.split('_')[1:3] == mains[0].stem.split('_')[1:3], mains[0].name


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_parses_with_its_scheme(path):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(path))
    model = cfg.model
    assert MODELS.get(model.type) is not None
    if model.type not in ('EMAMoCo', 'EMABYOL', 'FixMatch'):
        return  # evaluation configs (linear, fine-tune) have no scheme
    scheme = model.get('scheme')
    if path in MAIN_CONFIGS:  # runs on its own with the family's default scheme
        assert build_scheme(scheme).token == 'bn-eman'
        assert any(h.type == 'EMANHook' for h in cfg.custom_hooks)
        return
    token = path.stem.rsplit('_', 1)[-1]
    if token in ('default', 'supervised'):
        assert scheme is None and not cfg.custom_hooks
    else:
        assert build_scheme(scheme).token == build_scheme(token).token
        assert any(h.type == 'EMANHook' for h in cfg.custom_hooks)


def test_table1_budget_rows_share_one_budget():
    """MoCo, BYOL and their supervised ceiling: same backbone, data, batch and schedule."""
    rows = [p for p in ROWS if '2xb32-coslr-16e_cifar10-10k' in p.name]
    assert len(rows) == 26
    seen = set()
    for path in rows:
        cfg = Config.fromfile(str(path))
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

    cfg = Config.fromfile(str(ROOT / 'configs' / name))
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
