"""tools/train.py with the provided configs: exact resume, mmpretrain recipes, config errors."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from emanplug.cli import train
from emanplug.errors import ConfigError
import config_ledger as ledger
from speedups import run_side_by_side

ROOT = Path(__file__).resolve().parents[1]


class Interrupted(Exception):
    pass


@HOOKS.register_module(force=True)
class InterruptAfterEpoch(Hook):
    """Simulates a killed job after epoch ``n`` (once its checkpoint is written)."""
    priority = 'LOWEST'

    def __init__(self, n):
        self.n = n

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.n:
            raise Interrupted


def write_config(tmp_path, base, cifar_root, extra='', hooks="dict(type='EMANHook')", images=None):
    """A 3-epoch config on the test data, batches of 16 (of the first ``images`` images only)."""
    cfg = tmp_path / 'cfg.py'
    indices = '' if images is None else f', indices={images}'
    cfg.write_text(
        f"_base_ = {str(ROOT / base)!r}\n"
        f"train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,"
        f" dataset=dict(data_root={str(cifar_root)!r}{indices}))\n"
        "train_cfg = dict(max_epochs=3)\n"
        "model = dict(backbone=dict(stem_channels=16, base_channels=16), neck=dict(in_channels=128))\n"
        "warmup_epochs = 1\n"
        "default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))\n"
        f"custom_hooks = [{hooks}]\n" + extra)
    return str(cfg)


@pytest.mark.parametrize('base', [
    'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-shufflebn.py',  # queue + shuffle
    'configs/byol/byol_resnet18_1xb256-coslr-200e_cifar10_bn-eman.py',  # cosine momentum
])
def test_resume_reaches_the_same_state_as_an_uninterrupted_run(base, cifar_root, tmp_path):
    knn = ("dict(type='KNNEvalHook', interval=1, k=5, batch_size=64, num_workers=0, "
           "bank=dict(data_prefix='train', pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]), "
           "query=dict(data_prefix='test', pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))")
    # 2 iterations per epoch (32 images): the cut run stops after iteration 2 of 6
    full_cfg = write_config(tmp_path / 'a', base, cifar_root, hooks=f"dict(type='EMANHook'), {knn}",
                            images=32) if (tmp_path / 'a').mkdir() is None else None
    full = train.run([full_cfg, '--work-dir', str(tmp_path / 'full')])

    (tmp_path / 'b').mkdir()
    cut_cfg = write_config(tmp_path / 'b', base, cifar_root,
                           hooks=f"dict(type='EMANHook'), {knn}, dict(type='InterruptAfterEpoch', n=1)",
                           images=32)
    with pytest.raises(Interrupted):
        train.run([cut_cfg, '--work-dir', str(tmp_path / 'cut')])
    assert (tmp_path / 'cut' / 'epoch_1.pth').exists()
    resumed = train.run([full_cfg, '--work-dir', str(tmp_path / 'cut'), '--resume'])

    assert resumed.iter == full.iter == 6 and resumed.epoch == full.epoch == 3
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert any(k.startswith('teacher.') for k in a)
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize('recipe', [str(p.relative_to(ROOT)) for p in ledger.configs('mmpretrain-from')])
def test_mmpretrain_configs_train_with_eman_after_the_recipe_lines(recipe, cifar_root, tmp_path):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(  # only data and size are changed here, to fit a test
        f"_base_ = {str(ROOT / recipe)!r}\n"
        "train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=dict("
        f"_delete_=True, type='CustomDataset', data_root={str(cifar_root)!r}, data_prefix='train',"
        " indices=8, pipeline={{_base_.train_pipeline}}))\n"
        "model = dict(backbone=dict(depth=18), neck=dict(in_channels=512, hid_channels=256))\n"
        "train_cfg = dict(max_epochs=1)\n")
    runner = train.run([str(cfg), '--work-dir', str(tmp_path / 'w')])
    model = runner.model
    assert type(model).__name__ in ('EMAMoCo', 'EMABYOL')
    assert {type(m).__name__ for m in model.teacher.modules()} >= {'EMAN'}
    assert model.teacher.updates_this_process == 2
    # mmpretrain's momentum keys (weight of the new value) were converted to the paper's m
    assert model.teacher.momentum == pytest.approx(0.999 if type(model).__name__ == 'EMAMoCo' else 0.99)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))


MOCO = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman.py'


@pytest.mark.parametrize('extra, message', [
    ("model = dict(scheme='bn-fancy')\n", "model.scheme: scheme='bn-fancy' is unknown; allowed: bn,"),
    ("model = dict(scheme=dict(type='shufflebn', num_splits=5))\n",
     'model.scheme: train_dataloader.batch_size=16 is not divisible by ShuffleBN num_splits=5'),
    ("train_dataloader = dict(dataset=dict(data_root='/nonexistent/cifar'))\n",
     "train_dataloader.dataset.data_root='/nonexistent/cifar' does not exist"),
    ("model = dict(teacher_momentum=1.5)\n", 'model.teacher_momentum=1.5 is outside [0, 1]'),
])
def test_config_errors_stop_before_training(extra, message, cifar_root, tmp_path):
    cfg = write_config(tmp_path, MOCO, cifar_root, extra)
    with pytest.raises(ConfigError) as err:
        train.run([cfg, '--work-dir', str(tmp_path / 'w')])
    assert message in str(err.value) and '\n' not in str(err.value)
    assert not (tmp_path / 'w' / 'epoch_1.pth').exists()


def test_byol_without_the_hook_is_refused(cifar_root, tmp_path):
    cfg = write_config(tmp_path, 'configs/byol/byol_resnet18_1xb256-coslr-200e_cifar10_bn-eman.py',
                       cifar_root, hooks='')
    with pytest.raises(ConfigError, match="custom_hooks has no EMANHook; allowed: add custom_hooks="):
        train.run([cfg, '--work-dir', str(tmp_path / 'w')])


def test_cli_prints_one_line(cifar_root, tmp_path):
    cfg = write_config(tmp_path, MOCO, cifar_root, "model = dict(scheme='bn-fancy')\n")
    # both commands side by side (each is mostly imports on one core)
    (bad_code, _, bad_err), (missing_code, _, missing_err) = run_side_by_side(
        [[sys.executable, str(ROOT / 'tools' / 'train.py'), arg] for arg in (cfg, 'nope.py')])
    assert bad_code != 0 and missing_code != 0
    lines = [l for l in bad_err.splitlines() if l.strip() and 'Warning' not in l
             and 'warnings.warn' not in l]
    assert lines == [lines[-1]] and lines[-1].startswith('error: model.scheme: ')
    assert missing_err.strip().splitlines()[-1] == "error: config file 'nope.py' does not exist"


def test_a_scheme_set_on_the_command_line_gets_its_own_work_dir(capsys):
    """--cfg-options model.scheme=... without --work-dir: work_dirs/<config>_scheme-<token>,
    not the config's own work dir (the checkpoints of two schemes would mix and resume)."""
    config = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
    name = Path(config).stem

    def work_dir(*argv):
        train.run([str(ROOT / config), '--check-only', *argv])
        return capsys.readouterr().out.strip().rsplit('(work dir ', 1)[1].rstrip(')')

    assert work_dir() == f'work_dirs/{name}'
    assert work_dir('--cfg-options', 'model.scheme=bn-eman0.9') == f'work_dirs/{name}_scheme-bn-eman0.9'
    assert work_dir('--cfg-options', 'model.scheme=BN-BN') == f'work_dirs/{name}_scheme-bn-bn'
    assert work_dir('--cfg-options', 'model.scheme=gn-gn', '--work-dir', 'w') == 'w'
    with pytest.raises(ConfigError, match="model.scheme: scheme='bn-fancy' is unknown"):
        train.run([str(ROOT / config), '--check-only', '--cfg-options', 'model.scheme=bn-fancy'])


def test_two_runs_of_one_config_in_one_process_get_their_own_logger_and_hub(tmp_path):
    """mmengine names a run's logger and message hub '<config>_<second>' and returns an
    existing instance of that name: two runs started in one second would share them (the
    second logging through the first's handlers, its scalars added to the first's)."""
    from emanplug.cli.runner import build_runner, load_config, prepare_config
    config = str(ROOT / 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py')
    first, second = (build_runner(prepare_config(load_config(config), str(tmp_path / name)))
                     for name in ('a', 'b'))
    assert first.experiment_name != second.experiment_name
    assert first.logger is not second.logger and first.message_hub is not second.message_hub
    assert second.experiment_name.startswith('mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman-')
