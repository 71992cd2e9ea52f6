"""Run by torchrun with 2 processes (see test_imagenet_smoke.py): trains every ImageNet config
of one family (a group of tests/config_ledger.py: ``configs/FAMILY/*in1k*.py``, main configs and rows) for 2 iterations on a
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
        GROUP DATA_ROOT WORK_ROOT SUMMARY.json

GROUP names the configs in tests/config_ledger.py (``imagenet-mocov2``: configs/mocov2/*in1k*.py).
The frozen benchmarks of a ``-benchmarks`` group (kNN / retrieval / low-shot configs: nothing to
train) are evaluated instead, through ``emanplug.cli.test.run`` (emanplug-test) in this process
group, from a ResNet-18 in the family's official checkpoint layout: ``*_frozen_in1k`` with
``--protocol knn`` on the fake ImageNet, ``*_lowshot_voc07`` with ``--protocol lowshot`` on a
generated VOC2007 folder (emanplug.testing.make_fake_voc), their images at the smoke size.

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


def rewrite(node, text, mapping=None):
    """``node`` (a resolved config or any value in it) with every string passed through
    ``text`` and every dict, once its values are rewritten, through ``mapping``."""
    if isinstance(node, dict):
        node = {k: rewrite(v, text, mapping) for k, v in node.items()}
        return mapping(node) if mapping else node
    if isinstance(node, (list, tuple)):
        return type(node)(rewrite(v, text, mapping) for v in node)
    return text(node) if isinstance(node, str) else node


def smoke_checkpoint(text, work_root):
    """A ``work_dirs/RUN/epoch_N.pth`` a config starts from: RUN's smoke checkpoint."""
    match = CHECKPOINT_REF.match(text)
    return osp.join(work_root, match.group(1), 'epoch_1.pth') if match else text


def smaller_transform(node):
    """A transform of the pipelines at the smoke size."""
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


def shrink(node, data_root, work_root):
    """The config ``node`` with every crop / resize at the smoke size and every
    ``data/imagenet/`` and ``work_dirs/`` path moved."""
    def path(text):
        if text.startswith('data/imagenet/'):
            return osp.join(data_root, text[len('data/imagenet/'):])
        return smoke_checkpoint(text, work_root)
    return rewrite(node, path, smaller_transform)


def shorten(cfg):
    """``cfg`` (a resolved config) made a 2-iteration run, in place: 2 images per process (1
    epoch of 2 batches, or 2 iterations of an iteration-based loop), FixMatch mu 2, the kNN
    monitor at k 2, no dataloader workers, a log line per iteration."""
    loader = cfg['train_dataloader']
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    if 'mu' in loader['dataset']:
        loader['dataset']['mu'] = 2
    if 'max_iters' in cfg['train_cfg']:  # an iteration-based loop validates after its last
        cfg['train_cfg']['max_iters'] = 2
    else:
        loader['num_batch_per_epoch'] = 2
        cfg['train_cfg']['max_epochs'] = 1
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(batch_size=8, num_workers=0, persistent_workers=False)
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') == 'KNNEvalHook':
            hook.update(k=2, batch_size=8, num_workers=0)
    cfg['default_hooks']['logger'] = dict(cfg['default_hooks'].get('logger') or {}, interval=1)


def changed(cfg, full):
    """``{top-level key: value}`` of the smoke run ``cfg`` that differ from the config ``full``."""
    keys = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'custom_hooks',
            'train_cfg', 'default_hooks')
    return {k: cfg[k] for k in keys if k in cfg and cfg[k] != full.get(k)}


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
    shorten(cfg)
    loader = cfg['train_dataloader']
    if loader['dataset'].get('type') == 'LabeledSubset' and loader['dataset'].get('split_file'):
        loader['batch_size'] = 1  # a 1 % / 10 % list of the fake ImageNet: 1 image per class, 4 in all
    return changed(cfg, full)


def write_cell(config, data_root, work_root, folder, make=overrides):
    """A config that inherits ``config`` and overrides what the smoke run needs
    (``make(config, data_root, work_root)``: the overrides; this module's for ImageNet)."""
    name = osp.basename(config)[:-3]
    path = osp.join(folder, f'{name}.py')  # the config's name: MMEngine names the run after it
    lines = [f'_base_ = {config!r}'] + [f'{k} = {v!r}' for k, v in make(config, data_root, work_root).items()]
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
    from emanplug.models.pretrained import find_layout

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
            state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
            ref = state[find_layout(state, path).student + 'conv1.weight']  # the student's, in any layout
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


def run_config(config, data_root, work_root, summary, keep, make=overrides):
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
            run_config(found[0], data_root, work_root, summary, keep, make)
    entry = summary.setdefault(name, {})
    start = time.perf_counter()
    try:
        cell = write_cell(config, data_root, work_root, cells, make)
        probe = make_probe()
        runner = train.run([cell, '--launcher', 'pytorch', '--work-dir', work_dir], hooks=[probe])
        model = runner.model.module
        hub = runner.message_hub
        knn = [h for h in runner.hooks if type(h).__name__ == 'KNNEvalHook']
        last = osp.join(work_dir, 'last_checkpoint')  # CheckpointHook's record of its last save
        checkpoint = open(last).read().strip() if osp.isfile(last) else ''
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


def is_frozen(config):
    """A frozen-backbone benchmark (``configs/*/benchmarks/*_frozen_*.py``, ``*_lowshot_voc07.py``):
    nothing to train, a KNNEvalHook that emanplug-test reads."""
    from emanplug.cli.runner import load_config
    cfg = load_config(config)
    return not cfg.get('train_dataloader') and any(
        h.get('type') == 'KNNEvalHook' for h in cfg.get('custom_hooks') or [])


def hook_options(data_root, size=None):
    """--cfg-options of a frozen config's KNNEvalHook: its bank and query sets read ``data_root``,
    8 images a batch, no workers; ``size``: the crop (resize x 256 / 224) of the
    [Load, ResizeEdge, CenterCrop, Pack] pipelines of the ImageNet / VOC07 configs."""
    options = ['custom_hooks.0.num_workers=0', 'custom_hooks.0.batch_size=8']
    for part in ('bank', 'query'):
        options.append(f'custom_hooks.0.{part}.data_root={data_root}')
        if size:
            options += [f'custom_hooks.0.{part}.pipeline.1.scale={round(size * 256 / 224)}',
                        f'custom_hooks.0.{part}.pipeline.2.crop_size={size}']
    return options


def evaluate_frozen_config(config, checkpoint, protocol, options, work_root, summary):
    """``emanplug-test CONFIG CHECKPOINT --protocol PROTOCOL --launcher pytorch --cfg-options ...``
    (emanplug.cli.test.run) in each process of this process group: the hook shards the bank over
    them (the Runner leaves the frozen, headless model unwrapped: DDP refuses a model without a
    trainable parameter)."""
    import torch.distributed as dist

    from emanplug.cli import test
    name = osp.basename(config)[:-3]
    entry = summary.setdefault(name, {})
    start = time.perf_counter()
    try:
        results = test.run([config, checkpoint, '--protocol', protocol, '--launcher', 'pytorch',
                            '--work-dir', osp.join(work_root, name), '--cfg-options', *options])
        entry.update(frozen=True, protocol=protocol, checkpoint=checkpoint,
                     results={k: float(v) for k, v in results.items()})
    except BaseException as err:  # recorded; the other configs still run
        entry['error'] = f'{type(err).__name__}: {err}'.strip().splitlines()[-1][:500]
        entry['traceback'] = traceback.format_exc()[-3000:]
        if isinstance(err, KeyboardInterrupt):
            raise
    entry['seconds'] = round(time.perf_counter() - start, 1)
    dist.barrier()
    if dist.get_rank() == 0:
        print(f'[smoke] {name} --protocol {protocol}: {entry.get("error") or "ok"} ({entry["seconds"]} s)', flush=True)


def frozen_inputs(family, work_root):
    """``(checkpoint, voc_root)`` for the frozen configs of ``family``: a ResNet-18 in the family's
    official layout (MoCo-EMAN encoder_q / encoder_k, BYOL-EMAN online / target network:
    tests/test_pretrained_layouts.py) and a generated VOC2007 folder (16 positives per class
    from trainval: low-shot draws up to k = 16); rank 0 writes them."""
    import torch
    import torch.distributed as dist
    import torchvision

    from emanplug.testing import make_fake_voc
    from test_pretrained_layouts import official_byol, official_moco
    folder = osp.join(work_root, '_frozen')
    checkpoint = osp.join(folder, f'official_{family}.pth.tar')
    voc = osp.join(folder, 'voc')
    if dist.get_rank() == 0:
        os.makedirs(folder, exist_ok=True)

        def resnet18(seed):
            torch.manual_seed(seed)
            return {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}
        layout = official_moco if family == 'mocov2' else official_byol
        torch.save(layout(resnet18(0), resnet18(1)), checkpoint)
        if not osp.isdir(voc):
            make_fake_voc(voc, per_class_trainval=16, per_class_test=2, size=48)
    dist.barrier()
    return checkpoint, voc


def main(group, data_root, work_root, out_file):
    import torch

    import config_ledger as ledger
    from emanplug.cli.runner import distributed
    from emanplug.registry import register_all_modules
    register_all_modules()
    torch.set_num_threads(1)
    configs = list(map(str, ledger.configs(group)))
    frozen = {c for c in configs if is_frozen(c)}
    # the MoCo runs the FixMatch rows start from are kept (a later FixMatch family reads them)
    keep = set()
    # and so are the MoCo / BYOL runs the evaluation configs (configs/*/benchmarks/) start from
    for path in glob.glob(osp.join(ROOT, 'configs', 'fixmatch', '*in1k*.py')) + \
            glob.glob(osp.join(ROOT, 'configs', '*', 'benchmarks', '*in1k*.py')):
        keep.update(re.findall(r"work_dirs/([^/'\"]+)/epoch_\d+\.pth", open(path).read()))
    summary = {}
    start = time.perf_counter()
    with distributed('pytorch', timeout=120):  # one process group for every config
        if frozen:  # the frozen benchmarks: emanplug-test on an official-layout ResNet-18
            checkpoint, voc = frozen_inputs(group.split('-')[1], work_root)
        for config in configs:
            if config not in frozen:
                run_config(config, data_root, work_root, summary, keep)
            elif config.endswith('_voc07.py'):  # Table 5's VOC07 rows: low-shot SVMs, multi-label
                evaluate_frozen_config(config, checkpoint, 'lowshot', ['model.backbone.depth=18',
                                       *hook_options(voc, SIZE)], work_root, summary)
            else:  # Table 4's kNN on the fake ImageNet (train / val)
                evaluate_frozen_config(config, checkpoint, 'knn', ['model.backbone.depth=18',
                                       *hook_options(data_root, SIZE)], work_root, summary)
    if int(os.environ.get('RANK', 0)) == 0:
        with open(out_file, 'w') as f:
            json.dump(dict(group=group, configs=[osp.basename(c)[:-3] for c in configs],
                           seconds=round(time.perf_counter() - start, 1), runs=summary), f, indent=1)


if __name__ == '__main__':
    main(*sys.argv[1:5])
