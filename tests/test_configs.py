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
