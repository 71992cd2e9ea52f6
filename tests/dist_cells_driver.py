"""Run by torchrun with 2 processes (see test_cells.py): trains a few iterations of every
(method x scheme) cell of the CIFAR-10 configs through tools/train.py's main(), with
TeacherCheckHook asserting finite losses and eq. (1)/(9) after every iteration, then
checks the norm layers each scheme promises.  Rank 0 writes a JSON summary."""
import glob
import json
import os
import os.path as osp
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))

import torch  # noqa: E402

EXPECTED = {  # scheme token -> (student norm class names, teacher norm class names)
    'bn-bn': ({'BatchNorm2d'}, {'BatchNorm2d'}),
    'syncbn-syncbn': ({'GlobalBatchNorm'}, {'GlobalBatchNorm'}),
    'bn-shufflebn': ({'BatchNorm2d'}, {'SplitBatchNorm'}),
    'gn-gn': ({'GroupNorm'}, {'GroupNorm'}),
    'in-in': ({'InstanceNorm'}, {'InstanceNorm'}),
    'bn-eman': ({'BatchNorm2d'}, {'EMAN'}),
    'bn-eman0.9': ({'BatchNorm2d'}, {'EMAN'}),
    'bn-eman0.99999': ({'BatchNorm2d'}, {'EMAN'}),
    'bn-teacherpn0.9': ({'BatchNorm2d'}, {'TeacherPN'}),
    'bn-teacherpn0.999': ({'BatchNorm2d'}, {'TeacherPN'}),
    'bn-studentpn0.9': ({'BatchNorm2d'}, {'EMAN'}),
    'bn-studentpn0.999': ({'BatchNorm2d'}, {'EMAN'}),
    'bn-momentumbn': ({'BatchNorm2d'}, {'MomentumBN'}),
}
NORM_NAMES = {'BatchNorm2d', 'GlobalBatchNorm', 'SplitBatchNorm', 'GroupNorm', 'InstanceNorm',
              'EMAN', 'TeacherPN', 'MomentumBN'}


def norm_types(module):
    # the backbone's 2d norm layers (necks may use 1d layers of the same family)
    return {type(m).__name__ for m in module.modules() if type(m).__name__ in NORM_NAMES}


def main(data_root, out_file, pattern):
    import train  # tools/train.py
    summary = {}
    configs = sorted(glob.glob(osp.join(ROOT, 'configs', '*', pattern)))
    for config in configs:
        name = osp.basename(config)[:-3]
        token = name.split('_')[-1]
        with tempfile.TemporaryDirectory() as tmp:
            cell = osp.join(tmp, 'cell.py')
            with open(cell, 'w') as f:
                f.write(f"_base_ = {config!r}\n"
                        "custom_hooks = [dict(type='EMANHook'), dict(type='TeacherCheckHook')]\n"
                        "train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,"
                        f" dataset=dict(data_root={data_root!r}))\n"
                        "train_cfg = dict(max_epochs=1)\n"
                        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=100))\n")
            runner = train.main([cell, '--launcher', 'pytorch', '--work-dir', osp.join(tmp, 'w')])
        model = runner.model.module
        check = [h for h in runner.hooks if type(h).__name__ == 'TeacherCheckHook'][0]
        student = norm_types(model.backbone)
        teacher = norm_types(model.teacher.module[0])
        losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
        summary[name] = dict(token=token, iters=runner.iter, checked=check.checked_iters,
                             losses=losses, student=sorted(student), teacher=sorted(teacher),
                             expected=[sorted(e) for e in EXPECTED[token]],
                             ok=(student, teacher) == EXPECTED[token])
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
    main(*sys.argv[1:4])
