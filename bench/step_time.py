"""Training step time, images/s and peak memory of every (method x scheme) cell, on 1 process
and on 2 processes (gloo), measured side by side in one run; ratios to BN/EMAN.

    python bench/step_time.py [--methods moco byol fixmatch] [--schemes bn-bn bn-eman ...]
                              [--procs 1 2] [--steps 10] [--batch 64] [--width 32]
                              [--data-root data/cifar10]

Each cell runs in a fresh process (torchrun for 2 processes, 1 thread each; 1 process gets
all threads), builds the CIFAR-10 config of the cell through the same path as
tools/train.py (Runner, DDP wrapper, EMANHook), takes one real batch from its dataloader and
times ``train_step`` + the EMANHook update on that batch (data loading excluded).  The
global batch is the same on 1 and 2 processes: MoCo/BYOL ``--batch`` images (two views
each), FixMatch ``--batch / 2`` labeled + ``mu`` times as many unlabeled (weak + strong).
The backbone is a ResNet-18 of width ``--width`` (64 = the configs' full width) at 32 px.
Peak memory = peak resident set size of process 0 (Linux), including the framework.

    python bench/step_time.py --moco-overhead

instead compares emanplug's MoCo v2 step with a plain PyTorch loop on the same backbone,
batch and EMATeacher, with lightly's projection head and NT-Xent memory bank.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIGS = {  # method -> config glob; the scheme token ends the file name
    'moco': 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_{}.py',
    'byol': 'configs/byol/byol_resnet18_1xb256-coslr-200e_cifar10_{}.py',
    'fixmatch': 'configs/fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_{}.py',
}
MU = 5  # FixMatch unlabeled ratio here (the CPU-budget configs' value)


def schemes_of(method: str):
    paths = sorted(glob.glob(osp.join(ROOT, CONFIGS[method].format('*'))))
    return [osp.basename(p)[:-3].split('_')[-1] for p in paths]


def synthetic_imagefolder(root: str, per_class: int = 24) -> str:
    """A small ImageFolder (train/, test/, a 10-per-class split) when no data root is given."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    names = []
    for split in ('train', 'test'):
        for c in range(10):
            folder = osp.join(root, split, f'class{c}')
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(img).save(osp.join(folder, f'{i:04d}.jpg'))
                if split == 'train' and i < 10:
                    names.append(f'class{c}/{i:04d}.jpg')
    with open(osp.join(root, 'split.txt'), 'w') as f:
        f.writelines(n + '\n' for n in names)
    return root


def cell_config(method: str, scheme: str, args, procs: int, tmp: str) -> str:
    config = osp.join(ROOT, CONFIGS[method].format(scheme))
    w = args.width
    data_root = args.data_root.rstrip('/') + '/'
    lines = [f'_base_ = {config!r}',
             "default_hooks = dict(logger=dict(interval=1000), checkpoint=dict(interval=100000))",
             'custom_hooks = ' + ("[]" if scheme == 'default' else "[dict(type='EMANHook')]")]
    narrow = f'backbone=dict(stem_channels={w}, base_channels={w})'
    if scheme == 'bn-shufflebn':  # 1 process shuffles 2 sub-batches; 2 shuffle across processes
        narrow += f", scheme=dict(type='bn-shufflebn', num_splits={2 if procs == 1 else 1})"
    if method == 'fixmatch':
        per_proc = args.batch // 2 // procs
        lines += [f'model = dict({narrow}, head=dict(in_channels={8 * w}))',
                  f'train_dataloader = dict(batch_size={per_proc}, num_workers=0, persistent_workers=False,'
                  f' dataset=dict(mu={MU}, split_file={args.split_file!r},'
                  f' dataset=dict(data_root={data_root!r})))']
    else:
        per_proc = args.batch // procs
        lines += [f'model = dict({narrow}, neck=dict(in_channels={8 * w}))',
                  f'train_dataloader = dict(batch_size={per_proc}, num_workers=0, persistent_workers=False,'
                  f' dataset=dict(data_root={data_root!r}))']
    path = osp.join(tmp, f'{method}_{scheme}_{procs}.py')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def time_steps(step, warmup: int, steps: int):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def train_step_fn(runner, hooks, batch):
    """One timed training step: the hooks' before/after_train_iter around ``train_step``."""
    def step():
        for h in hooks:
            h.before_train_iter(runner, 0, batch)
        runner.model.train_step(batch, optim_wrapper=runner.optim_wrapper)
        for h in hooks:
            h.after_train_iter(runner, 0, batch)
    return step


def timing_runner(cfg):
    """``(runner, its EMANHooks, one real batch)``: a Runner built from ``cfg`` as
    tools/train.py builds it, weights initialised and the hooks prepared, ready for timing
    ``train_step`` (also used by bench/gpu_check.py)."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.logger.setLevel('WARNING')
    loop = runner.train_loop  # builds the dataloader
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner._init_model_weights()
    hooks = [h for h in runner.hooks if type(h).__name__ == 'EMANHook']
    for h in hooks:
        h.before_train(runner)
    batch = next(iter(loop.dataloader))
    runner.model.train()
    return runner, hooks, batch


def worker(config: str, launcher: str, warmup: int, steps: int, out: str) -> None:
    """One cell: build as tools/train.py does, time train_step + EMANHook on one batch."""
    import torch

    from emanplug.cli.runner import distributed, load_config, prepare_config
    from emanplug.registry import register_all_modules
    register_all_modules()
    from emanplug.core.distributed import rank, world_size
    cfg = load_config(config)
    cfg.launcher = launcher
    tmp = tempfile.mkdtemp(prefix='emanplug-bench-')
    prepare_config(cfg, osp.join(tmp, 'work'), None, False, config)
    with distributed(launcher):
        if world_size() > 1:
            torch.set_num_threads(1)
        runner, hooks, batch = timing_runner(cfg)

        step = train_step_fn(runner, hooks, batch)

        median, times = time_steps(step, warmup, steps)
        # every process must agree: the slowest process sets the pace of a synchronous step
        t = torch.tensor([median])
        if world_size() > 1:
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        if rank() == 0:
            with open(out, 'w') as f:
                json.dump(dict(step=t.item(), peak_mb=peak_rss_mb(), threads=torch.get_num_threads()), f)


def run_cell(method, scheme, procs, args, tmp):
    config = cell_config(method, scheme, args, procs, tmp)
    out = osp.join(tmp, f'{method}_{scheme}_{procs}.json')
    cmd = [osp.abspath(__file__), '--worker', config, '--out', out,
           '--warmup', str(args.warmup), '--steps', str(args.steps)]
    if procs == 1:
        cmd = [sys.executable] + cmd + ['--launcher', 'none']
    else:
        cmd = [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={procs}',
               '--master_port', str(free_port())] + cmd + ['--launcher', 'pytorch']
    env = dict(os.environ, OMP_NUM_THREADS='1' if procs > 1 else os.environ.get('OMP_NUM_THREADS', ''))
    if not env['OMP_NUM_THREADS']:
        del env['OMP_NUM_THREADS']
    for _ in range(2):  # one retry: gloo teardown at exit aborts now and then
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if proc.returncode == 0 and osp.exists(out):
            break
    if proc.returncode != 0 or not osp.exists(out):
        last = (proc.stderr.strip().splitlines() or ['?'])[-1]
        print(f'# {method} {scheme} x{procs}: failed: {last}', file=sys.stderr)
        return None
    with open(out) as f:
        return json.load(f)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def images_per_step(method: str, batch: int) -> int:
    return batch // 2 * (1 + MU) if method == 'fixmatch' else batch


def schemes_bench(args) -> list:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.data_root is None:
            args.data_root = synthetic_imagefolder(osp.join(tmp, 'data'))
            args.split_file = osp.join(args.data_root, 'split.txt')
        for method in args.methods:
            schemes = args.schemes or schemes_of(method)
            for scheme in schemes:
                if scheme not in schemes_of(method):
                    print(f'# {method}: no config for scheme {scheme}; skipped', file=sys.stderr)
                    continue
                for procs in args.procs:
                    r = run_cell(method, scheme, procs, args, tmp)
                    if r is not None:
                        rows.append(dict(r, method=method, scheme=scheme, procs=procs))
                        print(f'# {method} {scheme} x{procs}: {1000 * r["step"]:.0f} ms', file=sys.stderr)
    print(f'# python {" ".join(sys.argv)}')
    print(f'# machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; '
          f'ResNet-18 width {args.width}, 32 px, global batch {args.batch}, median of {args.steps} steps')
    print('| method | scheme | processes | step ms | ratio to bn-eman | images/s | peak MB (process 0) |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        ref = next((x for x in rows if x['method'] == r['method'] and x['procs'] == r['procs']
                    and x['scheme'] == 'bn-eman'), None)
        ratio = f'{r["step"] / ref["step"]:.2f}x' if ref else '-'
        ips = images_per_step(r['method'], args.batch) / r['step']
        print(f'| {r["method"]} | {r["scheme"]} | {r["procs"]} | {1000 * r["step"]:.0f} | {ratio} | '
              f'{ips:.0f} | {r["peak_mb"]:.0f} |')
    return rows


def moco_overhead(args) -> dict:
    """emanplug's EMAMoCo train_step (+ EMANHook) vs a plain loop, same tensors and networks."""
    import torch
    import torch.nn as nn
    from lightly.loss import NTXentLoss
    from lightly.models.modules import MoCoProjectionHead
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    from emanplug.core import EMATeacher, prepare_student
    from emanplug.registry import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    w, b = args.width, args.batch
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS['moco'].format('bn-eman')))
    cfg.model.backbone.update(stem_channels=w, base_channels=w)
    cfg.model.neck.update(in_channels=8 * w)
    queue, dim = cfg.model.queue_len, cfg.model.feat_dim
    views = [torch.randint(0, 256, (b, 3, 32, 32), dtype=torch.uint8) for _ in range(2)]

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel('WARNING')  # init_weights reports every tensor
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4))
    data = dict(inputs=views, data_samples=[DataSample() for _ in range(b)])

    def emanplug_step():
        model.train_step(data, optim_wrapper=wrapper)
        model.teacher.update()

    class Pooled(nn.Module):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            return self.backbone(x)[-1].mean((2, 3))

    student = nn.Sequential(Pooled(MODELS.build(cfg.model.backbone)),
                            MoCoProjectionHead(8 * w, 8 * w, dim))
    teacher = EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman', momentum=cfg.model.teacher_momentum)
    criterion = NTXentLoss(temperature=0.2, memory_bank_size=(queue, dim))
    optimizer = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    mean = torch.tensor(cfg.data_preprocessor.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.data_preprocessor.std).view(1, 3, 1, 1)
    student.train()

    def plain_step():
        q_view, k_view = [(v.flip(1).float() - mean) / std for v in views]  # BGR->RGB, normalise
        loss = criterion(student(q_view), teacher(k_view))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        teacher.update()

    results = {}
    for _ in range(2):  # interleave the two, twice, to even out drifting machine load
        for name, step in (('plain', plain_step), ('emanplug', emanplug_step)):
            t, _ = time_steps(step, args.warmup, args.steps)
            results.setdefault(name, []).append(t)
    plain, ours = min(results['plain']), min(results['emanplug'])
    print(f'# python {" ".join(sys.argv)}')
    print(f'# machine: {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads; '
          f'MoCo v2, ResNet-18 width {w} (CIFAR stem), 32 px, batch {b}, K={queue}, EMAN teacher')
    print('| loop | step ms | ratio |\n|---|---|---|')
    print(f'| plain PyTorch + lightly (NTXentLoss memory bank, MoCoProjectionHead) | {1000 * plain:.1f} | 1.00x |')
    print(f'| emanplug EMAMoCo.train_step + teacher update | {1000 * ours:.1f} | {ours / plain:.2f}x |')
    return dict(plain=plain, emanplug=ours)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument('--schemes', nargs='+', default=None, help='default: every scheme with a config')
    parser.add_argument('--procs', nargs='+', type=int, default=[1, 2])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--width', type=int, default=32)
    parser.add_argument('--data-root', default=None, help='CIFAR-10 ImageFolder (default: synthetic images)')
    parser.add_argument('--split-file', default=None, help='FixMatch labeled split (default: in data root)')
    parser.add_argument('--moco-overhead', action='store_true')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--launcher', default='none', help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.launcher, args.warmup, args.steps, args.out)
    if args.moco_overhead:
        return moco_overhead(args)
    if args.data_root is not None and args.split_file is None:
        found = sorted(glob.glob(osp.join(args.data_root, 'splits', 'train_*.txt')))
        if not found and 'fixmatch' in args.methods:
            sys.exit(f'--data-root {args.data_root} has no splits/train_*.txt for FixMatch; '
                     'write one with tools/make_split.py or pass --split-file')
        args.split_file = found[-1] if found else None
    return schemes_bench(args)


if __name__ == '__main__':
    main()
