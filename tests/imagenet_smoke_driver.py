"""Run by torchrun with 2 processes (see test_imagenet_smoke.py): trains every ImageNet config
of one family (``configs/FAMILY/*in1k*.py``, main configs and rows) for 2 iterations on a
fake ImageNet (emanplug-fake-imagenet), in this one process group, each config through
``emanplug.cli.train.run`` (tools/train.py's code path: config checks, prepare_config,
MMEngine's Runner with DDP on gloo, the configs' pipelines, samplers, optimizers (LARS for
BYOL), EMANHook, KNNEvalHook, NonFiniteGuardHook, checkpoints, FixMatch's evaluation).

Only what the CPU cannot afford is made small, by a generated config that inherits the real
one (``_base_``) and overrides: every crop 64 px (resize 73), a ResNet-50 of half width
(w2: full width), the MLPs of neck and head a quarter as wide, 2 images per process, 2
iterations in 1 epoch (``num_batch_per_epoch``), MoCo's queue 64 keys, FixMatch mu 2, the
kNN monitor at k 2, no dataloader workers.  ``data/imagenet/`` becomes the fake data root;
the FixMatch rows initialised from a MoCo run read that MoCo config's smoke checkpoint
(trained first when it is not there).

    python -m torch.distributed.run --nproc_per_node=2 tests/imagenet_smoke_driver.py \\
        FAMILY DATA_ROOT WORK_ROOT SUMMARY.json [CONFIG_GLOB]

Rank 0 writes a JSON summary: per config the iterations, losses, checkpoint, kNN epochs /
validation metrics, whether the MoCo initialisation reached student and teacher, seconds.
"""
import copy
import glob
import json
import os
import os.path as osp
import re
import sys
import time
import traceback

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SIZE = 64  # crop side; the configs' 224 scaled down (their resize 256 -> 73)
CHECKPOINT_REF = re.compile(r'^work_dirs/([^/]+)/epoch_\d+\.pth$')


def shrink(node, data_root, work_root):
    """The config ``node`` (a dict of the resolved config, or any value in it) with every
    crop / resize at the smoke size and every ``data/imagenet/`` and ``work_dirs/`` path moved."""
    if isinstance(node, dict):
        node = {k: shrink(v, data_root, work_root) for k, v in node.items()}
        kind = node.get('type')
        if kind == 'RandomResizedCrop':
            node['scale'] = SIZE
        elif kind == 'ResizeEdge':
            node['scale'] = round(SIZE * 256 / 224)
        elif kind == 'CenterCrop':
            node['crop_size'] = SIZE
        elif kind in ('Resize', 'RandomCrop', 'Pad', 'RandomResize', 'ResizeShortEdge'):
            raise SystemExit(f'smoke driver: no rule for transform {kind}; add one')
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(shrink(v, data_root, work_root) for v in node)
    if isinstance(node, str):
        if node.startswith('data/imagenet/'):
            return osp.join(data_root, node[len('data/imagenet/'):])
        match = CHECKPOINT_REF.match(node)
        if match:
            return osp.join(work_root, match.group(1), 'epoch_1.pth')
    return node


def overrides(config, data_root, work_root):
    """``{top-level key: value}`` that make ``config`` a smoke run (see the module's doc)."""
    from mmengine.config import Config
    full = Config.fromfile(config).to_dict()
    cfg = shrink(copy.deepcopy(full), data_root, work_root)
    model = cfg['model']
    backbone = model['backbone']
    old_base = backbone.get('base_channels', 64)
    backbone['base_channels'] = old_base // 2  # >= 32: gn-gn's 32 groups divide every layer
    backbone['stem_channels'] = backbone.get('stem_channels', 64) // 2
    features = 32 * backbone['base_channels']  # ResNet-50: 4 x 8 x base at the last stage
    for part in ('neck', 'head'):
        module = model.get(part) or {}
        if 'in_channels' in module:
            module['in_channels'] = features
        if 'hid_channels' in module:
            module['hid_channels'] //= 4
        if isinstance(module.get('predictor'), dict):  # BYOL's predictor
            module['predictor']['hid_channels'] //= 4
    if 'queue_len' in model:
        model['queue_len'] = 64  # a multiple of the global batch (2 processes x 2)
    loader = cfg['train_dataloader']
    loader.update(batch_size=2, num_workers=0, persistent_workers=False, num_batch_per_epoch=2)
    if loader['dataset'].get('type') == 'LabeledSubset' and loader['dataset'].get('split_file'):
        loader['batch_size'] = 1  # a 1 % / 10 % list of the fake ImageNet: 1 image per class, 4 in all
    if 'mu' in loader['dataset']:
        loader['dataset']['mu'] = 2
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(batch_size=8, num_workers=0, persistent_workers=False)
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') == 'KNNEvalHook':
            hook.update(k=2, batch_size=8, num_workers=0)
    cfg['train_cfg']['max_epochs'] = 1
    cfg['default_hooks']['logger'] = dict(cfg['default_hooks'].get('logger') or {}, interval=1)
    keys = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'custom_hooks',
            'train_cfg', 'default_hooks')
    return {k: cfg[k] for k in keys if k in cfg and cfg[k] != full.get(k)}


def write_cell(config, data_root, work_root, folder):
    """A config that inherits ``config`` and overrides what the smoke run needs."""
    name = osp.basename(config)[:-3]
    path = osp.join(folder, f'{name}.py')  # the config's name: MMEngine names the run after it
    lines = [f'_base_ = {config!r}'] + [f'{k} = {v!r}' for k, v in overrides(config, data_root, work_root).items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def init_checkpoint(cfg_model):
    """The checkpoint a config's backbone is initialised from (FixMatch from MoCo, the
    evaluation configs from MoCo / BYOL), or None."""
    init = (cfg_model.get('backbone') or {}).get('init_cfg') or {}
    kinds = ('Pretrained', 'SelfSupPretrained')
    return init.get('checkpoint') if isinstance(init, dict) and init.get('type') in kinds else None


def make_probe():
    """A hook that, before the first iteration, compares the student's and the teacher's
    first convolution with the checkpoint the backbone was initialised from."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper

    from emanplug.checkpoint_files import load_checkpoint_file

    class InitProbe(Hook):
        priority = 'LOWEST'  # after every other hook's before_train (EMANHook's included)

        def __init__(self):
            self.result = None

        def before_train(self, runner):
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            path = init_checkpoint(runner.cfg.model)
            if path is None:
                return
            state = load_checkpoint_file(path, map_location='cpu')['state_dict']
            ref = state['backbone.conv1.weight']
            teacher = getattr(model, 'teacher', None)
            self.result = dict(
                checkpoint=path,
                student=bool(torch.equal(model.backbone.conv1.weight.detach(), ref)),
                teacher=None if teacher is None else bool(
                    torch.equal(teacher.module.backbone.conv1.weight, ref)))
    return InitProbe()


def check_checkpoint(path):
    """``(finite, has_teacher)`` of a saved checkpoint."""
    import torch

    from emanplug.checkpoint_files import load_checkpoint_file
    state = load_checkpoint_file(path, map_location='cpu')['state_dict']
    finite = all(bool(torch.isfinite(v).all()) for v in state.values()
                 if torch.is_tensor(v) and v.is_floating_point())
    return finite, any(k.startswith('teacher.module.backbone.') for k in state)


def run_config(config, data_root, work_root, summary, keep):
    import torch.distributed as dist

    from emanplug.cli import train
    from emanplug.cli.runner import load_config
    name = osp.basename(config)[:-3]
    work_dir = osp.join(work_root, name)
    cells = osp.join(work_root, '_configs', f'rank{dist.get_rank()}')  # each process its own copy
    os.makedirs(cells, exist_ok=True)
    # the MoCo checkpoint a FixMatch row starts from: trained first when it is missing
    wanted = init_checkpoint(load_config(config).model)
    match = CHECKPOINT_REF.match(wanted or '')
    if match and not osp.isfile(osp.join(work_root, match.group(1), 'epoch_1.pth')):
        found = glob.glob(osp.join(ROOT, 'configs', '*', match.group(1) + '.py'))
        if found:
            run_config(found[0], data_root, work_root, summary, keep)
    entry = summary.setdefault(name, {})
    start = time.perf_counter()
    try:
        cell = write_cell(config, data_root, work_root, cells)
        probe = make_probe()
        runner = train.run([cell, '--launcher', 'pytorch', '--work-dir', work_dir], hooks=[probe])
        model = runner.model.module
        hub = runner.message_hub
        knn = [h for h in runner.hooks if type(h).__name__ == 'KNNEvalHook']
        checkpoint = osp.join(work_dir, 'epoch_1.pth')
        teacher = getattr(model, 'teacher', None)
        entry.update(
            iters=runner.iter, epochs=runner.epoch,
            losses=hub.get_scalar('train/loss').data[0].tolist(),
            checkpoint=osp.isfile(checkpoint),
            optimizer=type(runner.optim_wrapper.optimizer).__name__,
            hooks=[type(h).__name__ for h in runner.hooks],
            teacher_dtypes=sorted({str(t.dtype) for t in teacher.module.state_dict().values()
                                   if t.is_floating_point()}) if teacher is not None else [],
            knn_epochs=[r['epoch'] for r in knn[0].history] if knn else [],
            knn=[{k: v for k, v in r.items() if k.startswith('knn/')} for r in knn[0].history] if knn else [],
            val={k: hub.get_scalar(k).current() for k in hub.log_scalars if k.startswith('val/')},
            init=probe.result)
        if entry['checkpoint']:
            entry['checkpoint_finite'], entry['checkpoint_teacher'] = check_checkpoint(checkpoint)
        del runner, model, teacher
    except BaseException as err:  # recorded; the other configs still run
        entry['error'] = f'{type(err).__name__}: {err}'.strip().splitlines()[-1][:500]
        entry['traceback'] = traceback.format_exc()[-3000:]
        if isinstance(err, KeyboardInterrupt):
            raise
    entry['seconds'] = round(time.perf_counter() - start, 1)
    dist.barrier()
    if dist.get_rank() == 0:
        if name not in keep:  # checkpoints are ~80 MB each; keep the ones FixMatch starts from
            for path in glob.glob(osp.join(work_dir, '*.pth')):
                os.remove(path)
        print(f'[smoke] {name}: {entry.get("error") or "ok"} ({entry["seconds"]} s)', flush=True)


def main(family, data_root, work_root, out_file, pattern='*in1k*.py'):
    import torch

    from emanplug.cli.runner import distributed
    from emanplug.registry import register_all_modules
    register_all_modules()
    torch.set_num_threads(1)
    configs = sorted(glob.glob(osp.join(ROOT, 'configs', family, pattern)))
    # the MoCo runs the FixMatch rows start from are kept (a later FixMatch family reads them)
    keep = set()
    # and so are the MoCo / BYOL runs the evaluation configs (configs/*/benchmarks/) start from
    for path in glob.glob(osp.join(ROOT, 'configs', 'fixmatch', '*in1k*.py')) + \
            glob.glob(osp.join(ROOT, 'configs', '*', 'benchmarks', '*in1k*.py')):
        keep.update(re.findall(r"work_dirs/([^/'\"]+)/epoch_\d+\.pth", open(path).read()))
    summary = {}
    start = time.perf_counter()
    with distributed('pytorch', timeout=120):  # one process group for every config
        for config in configs:
            run_config(config, data_root, work_root, summary, keep)
    if int(os.environ.get('RANK', 0)) == 0:
        with open(out_file, 'w') as f:
            json.dump(dict(family=family, configs=[osp.basename(c)[:-3] for c in configs],
                           seconds=round(time.perf_counter() - start, 1), runs=summary), f, indent=1)


if __name__ == '__main__':
    main(*sys.argv[1:6])
