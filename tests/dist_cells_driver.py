"""Run by torchrun with 2 processes (see test_cells.py): trains a few iterations of every
(method x scheme) cell of the CIFAR-10 configs through tools/train.py's main(), with
TeacherCheckHook asserting finite losses and eq. (1)/(9) after every iteration, then
checks the norm layers each scheme promises.  Rank 0 writes a JSON summary."""
import copy
import json
import os
import os.path as osp
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402

import config_ledger as ledger  # noqa: E402
from speedups import freeze_long_lived_objects, plain_config_text  # noqa: E402

plain_config_text()

from emanplug.core import build_scheme  # noqa: E402
from emanplug.errors import ConfigError  # noqa: E402

NO_TEACHER = ('default', 'supervised')  # FixMatch's own model (one network), supervised baseline


def is_norm(module):
    return isinstance(module, (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm,
                               torch.nn.LayerNorm))


def norm_types(module):
    # the backbone's norm layers (necks may use 1d layers of the same family)
    return {type(m).__name__ for m in module.modules() if is_norm(m)}


def expected_norms(token):
    """(student, teacher) norm class names that a row's scheme promises, taken from the
    registered scheme class itself: its conversions applied to a conv + BN reference (so a
    newly registered scheme is checked without a table to extend)."""
    if token in NO_TEACHER:
        return {'BatchNorm2d'}, set()
    try:
        scheme = build_scheme(token)
    except ConfigError as err:
        raise SystemExit(f'config token {token!r} names no registered scheme: {err}')
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(32))
    student = scheme.convert_student(reference)
    teacher = scheme.convert_teacher(copy.deepcopy(student))
    return norm_types(student), norm_types(teacher)


def cell_overrides(config, data_root, split_file):
    """Small batches and a few iterations, on the test data, with TeacherCheckHook."""
    hooks = "[dict(type='TeacherCheckHook', expect_teacher=False)]" if config.endswith('_default.py') else \
        "[dict(type='EMANHook'), dict(type='TeacherCheckHook')]"
    common = (f"custom_hooks = {hooks}\n"
              "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=100))\n")
    narrow = "backbone=dict(stem_channels=32, base_channels=32)"  # half-width ResNet-18 (GN: 32 groups)
    if 'fixmatch' in osp.basename(config):  # 1 labeled + 7 unlabeled (weak, strong) per process
        return common + (
            f"model = dict({narrow}, head=dict(in_channels=256))\n"
            "train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False, dataset=dict("
            f"mu=7, split_file={split_file!r}, dataset=dict(data_root={data_root!r})))\n"
            f"val_dataloader = dict(batch_size=20, num_workers=0, dataset=dict(data_root={data_root!r}))\n"
            "test_dataloader = val_dataloader\n"
            "train_cfg = dict(max_iters=3, val_interval=3)\n")
    return common + (
        f"model = dict({narrow}, neck=dict(in_channels=256))\n"
        "train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,"
        f" dataset=dict(data_root={data_root!r}))\n"
        "train_cfg = dict(max_epochs=1)\n")


def main(data_root, out_file, group, split_file=''):
    from emanplug.cli import train  # noqa: F401
    from emanplug.cli.runner import distributed
    from emanplug.registry import register_all_modules
    register_all_modules()
    freeze_long_lived_objects()  # tests/speedups.py: mmengine collects garbage per dataset
    with distributed('pytorch'):  # one process group for all cells, torn down at the end
        run_cells(data_root, out_file, group, split_file)


def run_cells(data_root, out_file, group, split_file):
    from emanplug.cli import train
    summary = {}
    for config in map(str, ledger.configs(group)):  # the group's scheme rows (tests/config_ledger.py)
        name = osp.basename(config)[:-3]
        token = name.split('_')[-1]
        with tempfile.TemporaryDirectory() as tmp:
            cell = osp.join(tmp, 'cell.py')
            with open(cell, 'w') as f:
                f.write(f"_base_ = {config!r}\n" + cell_overrides(config, data_root, split_file))
            runner = train.run([cell, '--launcher', 'pytorch', '--work-dir', osp.join(tmp, 'w')])
        model = runner.model.module
        check = [h for h in runner.hooks if type(h).__name__ == 'TeacherCheckHook'][0]
        student = norm_types(model.backbone)
        teacher = norm_types(model.teacher.module.backbone) if model.teacher is not None else set()
        losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
        expected = expected_norms(token)
        summary[name] = dict(token=token, iters=runner.iter, checked=check.checked_iters,
                             losses=losses, student=sorted(student), teacher=sorted(teacher),
                             expected=[sorted(e) for e in expected],
                             ok=(student, teacher) == expected)
        if 'fixmatch' in name:
            hub = runner.message_hub
            summary[name]['mask_rate'] = hub.get_scalar('train/mask_rate').data[0].tolist()
            summary[name]['val'] = {k: hub.get_scalar(k).current() for k in hub.log_scalars
                                    if k.startswith('val/') and 'top1' in k}
        if token == 'bn-momentumbn':
            weights = {m.batch_weight for m in model.teacher.modules() if hasattr(m, 'batch_weight')}
            summary[name]['momentumbn_weight'] = sorted(weights)
        if token.startswith('bn-studentpn'):
            summary[name]['student_bn_momentum'] = sorted(
                {m.momentum for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)})
    if int(os.environ.get('RANK', 0)) == 0:
        with open(out_file, 'w') as f:
            json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main(*sys.argv[1:5])
