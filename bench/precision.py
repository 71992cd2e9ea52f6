"""MoCo v2 (BN / EMAN teacher) on the CIFAR-10 CPU budget in three precisions, side by side in
one run: step time and the kNN top-1 after a short training run of the same length each.

    python bench/precision.py [--variants fp32 bf16 compile] [--steps 20] [--warmup 3]
                              [--compile-warmup 8] [--repeats 2] [--train-iters 312]
                              [--batch 64] [--data-root data/cifar10] [--out docs/bench/precision.md]

Variants (each in fresh processes, 1 process with all threads; the same config, seed and
data order):

* ``fp32``: what ``tools/train.py CONFIG`` runs;
* ``bf16``: ``tools/train.py CONFIG --amp`` on a CPU with native bfloat16: the forward under
  ``torch.autocast('cpu', torch.bfloat16)`` (``CPUAutocastOptimWrapper``), float32 weights and
  teacher;
* ``compile``: the student's and the teacher's backbones compiled with ``torch.compile``
  (inductor; ``backbone.forward = torch.compile(backbone.forward)``, so parameter names,
  teacher pairing and checkpoints are unchanged).  MMEngine's ``compile=True`` (compiling
  ``train_step``) fails on EMAMoCo with inductor in torch 2.14: the graph break at the queue
  pointer (``int(self.queue_ptr)``) leaves the in-place enqueue outside the graph whose
  backward saved the queue buffer itself instead of its clone ("one of the variables needed
  for gradient computation has been modified by an inplace operation").

Config: ``configs/mocov2/mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman.py`` (ResNet-18,
ImageNet stem, 32 px, 10,000 training images) on one process with the global batch
``--batch`` (the config: 2 processes x 32).  Step time: the median of ``--steps`` iterations
of ``train_step`` + the EMANHook update on one real batch after ``--warmup`` iterations
(``--compile-warmup`` for ``compile``: the first iterations compile), built as
bench/step_time.py builds it (``timing_runner``; data loading excluded); the variants are
timed in turn ``--repeats`` times and the fastest median counts (machine load drifts).
Accuracy: a run of ``--train-iters`` iterations through MMEngine's Runner as tools/train.py
runs it (data loading included), the config's schedule squeezed into that length (linear
warm-up over the first eighth, then cosine; ``--train-iters 0``: no run, step times only),
then the config's kNN monitor (k=200, 5,000 train images as bank, 5,000 test images as
queries; evaluated in float32) on the student's and the teacher's backbone.
Writes a Markdown table (with the command line and the ratios to fp32) to ``--out``.

The data: CIFAR-10 in the ImageFolder layout at ``--data-root``; when it is missing it is
extracted from ``../shared/data/cifar10-jpeg.tar.gz`` (``--archive``) and the split files the
config reads are written (as bench/table1_cifar10.sh does).
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/mocov2/mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman.py'
ARCHIVE = osp.join(osp.dirname(ROOT), 'shared', 'data', 'cifar10-jpeg.tar.gz')
#: the split files the config reads: (subset, images)
SPLITS = (('train', 10000), ('train', 5000), ('test', 5000))
VARIANTS = {
    'fp32': 'float32 (tools/train.py CONFIG)',
    'bf16': 'CPU bfloat16 autocast (--amp)',
    'compile': 'torch.compile (inductor) of the student and teacher backbones',
}


def ensure_cifar10(data_root: str, archive: str) -> None:
    """Extract CIFAR-10 into ``data_root`` and write the config's split files, where missing."""
    if not osp.isdir(osp.join(data_root, 'train')):
        if not osp.isfile(archive):
            sys.exit(f'error: no CIFAR-10 at {data_root}/train and no archive {archive}; allowed: '
                     'CIFAR-10 in the ImageFolder layout at --data-root or --archive <its .tar.gz>')
        os.makedirs(data_root, exist_ok=True)
        with tarfile.open(archive, 'r:gz') as tar:
            tar.extractall(data_root, filter='data')
    from emanplug.cli import split
    for subset, n in SPLITS:
        if not osp.isfile(osp.join(data_root, 'splits', f'{subset}_{n}_seed0.txt')):
            split.run([data_root, '--num-labeled', str(n), '--seed', '0', '--subset', subset])


def variant_config(variant: str, args, work_dir: str):
    """The config of ``variant`` after tools/train.py's preparation (``--amp`` for bf16)."""
    from emanplug.cli.checks import check_config
    from emanplug.cli.runner import load_config, prepare_config
    cfg = load_config(osp.join(ROOT, CONFIG))
    root = args.data_root.rstrip('/') + '/'
    split = lambda subset, n: osp.join(root, 'splits', f'{subset}_{n}_seed0.txt')  # noqa: E731
    loader = cfg.train_dataloader
    loader.update(batch_size=args.batch)
    loader.dataset.update(split_file=split('train', 10000))
    loader.dataset.dataset.update(data_root=root)
    for hook in cfg.custom_hooks:
        if hook['type'] == 'KNNEvalHook':
            hook.update(at_start=False)
            for key, (subset, n) in (('bank', ('train', 5000)), ('query', ('test', 5000))):
                hook[key].update(split_file=split(subset, n))
                hook[key].dataset.update(data_root=root)
    iters = args.train_iters or 16  # 0: no training run (the schedule is never used)
    warm = max(1, iters // 8)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warm),
        dict(type='CosineAnnealingLR', T_max=max(iters - warm, 1), by_epoch=False, begin=warm,
             end=iters)]
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.update(interval=max(1, min(50, iters // 4)))
    cfg.log_processor = dict(window_size=10, by_epoch=False)
    cfg.randomness = dict(seed=0)
    prepare_config(cfg, work_dir, None, variant == 'bf16', CONFIG)
    check_config(cfg, 'train')
    return cfg


def compile_backbones(model) -> None:
    """``torch.compile`` (inductor) the forward of the student's and the teacher's backbone in
    place: the modules, their names and the teacher's pairing stay as they are."""
    import torch
    for backbone in (model.backbone, model.teacher.module.backbone):
        backbone.forward = torch.compile(backbone.forward)


def worker(variant: str, mode: str, args) -> dict:
    """``mode='time'``: the step time; ``mode='train'``: the short run and its kNN top-1."""
    import torch

    from emanplug.registry import register_all_modules
    register_all_modules()
    from step_time import peak_rss_mb, time_steps, timing_runner, train_step_fn
    work_dir = tempfile.mkdtemp(prefix=f'emanplug-precision-{variant}-')
    cfg = variant_config(variant, args, work_dir)
    out = dict(variant=variant, threads=torch.get_num_threads(),
               optim_wrapper=cfg.optim_wrapper.get('type', 'OptimWrapper'))
    if mode == 'time':
        runner, hooks, batch = timing_runner(cfg)
        if variant == 'compile':
            compile_backbones(runner.model)
        step = train_step_fn(runner, hooks, batch)

        warmup = args.compile_warmup if variant == 'compile' else args.warmup
        start = time.perf_counter()
        for _ in range(warmup):
            step()
        out['warmup_s'] = time.perf_counter() - start
        out['step'], out['times'] = time_steps(step, 0, args.steps)
        out['peak_mb'] = peak_rss_mb()
        return out
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    if variant == 'compile':
        compile_backbones(runner.model)
    start = time.perf_counter()
    runner.train()
    out['train_s'] = time.perf_counter() - start
    out['iters'] = runner.iter
    knn = next(h for h in runner.hooks if type(h).__name__ == 'KNNEvalHook')
    out['knn'] = knn.evaluate(runner, 0)
    teacher = runner.model.teacher.module.state_dict()
    out['teacher_dtypes'] = sorted({str(v.dtype).replace('torch.', '') for v in teacher.values()
                                    if v.is_floating_point()})
    return out


def run_worker(variant: str, mode: str, args, tmp: str):
    out = osp.join(tmp, f'{variant}_{mode}.json')
    cmd = [sys.executable, osp.abspath(__file__), '--worker', variant, '--mode', mode,
           '--result', out, *args.passed]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0 or not osp.exists(out):
        last = (proc.stderr.strip().splitlines() or ['?'])[-1]
        print(f'# {variant} {mode}: failed: {last}', file=sys.stderr)
        with open(osp.join(tmp, f'{variant}_{mode}.log'), 'w') as f:
            f.write(proc.stdout + proc.stderr)
        return None
    with open(out) as f:
        result = json.load(f)
    print(f'# {variant} {mode}: done in {time.time() - start:.0f} s', file=sys.stderr)
    return result


def table(rows: dict, args, wall: float) -> str:
    import torch

    from emanplug.engine import cpu_bf16_support
    ref = (rows.get('fp32') or {}).get('time')
    ref_train = (rows.get('fp32') or {}).get('train')
    lines = [
        '# Precision: float32, CPU bfloat16 autocast and torch.compile (MoCo v2, BN / EMAN)', '',
        f'    python bench/precision.py {" ".join(sys.argv[1:])}', '',
        f'Measured {datetime.date.today().isoformat()} in {wall / 60:.0f} min on {platform.machine()}, '
        f'{os.cpu_count()} cores, native bfloat16: {cpu_bf16_support() or "none"}; torch '
        f'{torch.__version__}; 1 process. `{CONFIG}` with a global batch of {args.batch} on one '
        f'process; step time: median of {args.steps} iterations of train_step + EMANHook on one '
        f'batch after warm-up ({args.warmup}; compile {args.compile_warmup}), data loading '
        f'excluded, fastest of {args.repeats} rounds; kNN top-1 (k=200, 5,000 / 5,000 images, '
        f'evaluated in float32) after {args.train_iters} iterations through the Runner (warm-up '
        '1/8, cosine; data loading included); train s: that run (compilation included), without '
        'the kNN evaluation.', '',
        '| variant | how | step ms | ratio to fp32 | images/s | warm-up s | train s | ratio to fp32 '
        '| kNN top-1 student | kNN top-1 teacher | teacher dtype |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for variant in args.variants:
        t, r = rows[variant].get('time'), rows[variant].get('train')
        step = f'{1000 * t["step"]:.0f}' if t else 'failed'
        ratio = f'{t["step"] / ref["step"]:.2f}x' if t and ref else '-'
        ips = f'{args.batch / t["step"]:.0f}' if t else '-'
        warm = f'{t["warmup_s"]:.0f}' if t else '-'
        train_s = f'{r["train_s"]:.0f}' if r else ('failed' if args.train_iters else '-')
        train_ratio = f'{r["train_s"] / ref_train["train_s"]:.2f}x' if r and ref_train else '-'
        knn = r['knn'] if r else {}
        acc = lambda k: f'{100 * knn[k]:.2f}' if k in knn else '-'  # noqa: E731
        dtypes = ', '.join(r['teacher_dtypes']) if r else '-'
        lines.append(f'| {variant} | {VARIANTS[variant]} | {step} | {ratio} | {ips} | {warm} | '
                     f'{train_s} | {train_ratio} | {acc("knn/student_top1")} | '
                     f'{acc("knn/teacher_top1")} | {dtypes} |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument('--steps', type=int, default=20, help='timed iterations')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--compile-warmup', type=int, default=8,
                        help='warm-up iterations of the compile variant (they compile)')
    parser.add_argument('--repeats', type=int, default=2, help='timing rounds (the fastest counts)')
    parser.add_argument('--train-iters', type=int, default=312,
                        help='iterations of the training run before the kNN evaluation '
                             '(0: step times only)')
    parser.add_argument('--batch', type=int, default=64, help='global batch (one process)')
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data', 'cifar10'))
    parser.add_argument('--archive', default=ARCHIVE)
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'bench', 'precision.md'))
    parser.add_argument('--worker', choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument('--mode', choices=['time', 'train'], help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.mode, args)
        with open(args.result, 'w') as f:
            json.dump(result, f)
        return result
    for name in ('steps', 'warmup', 'compile_warmup', 'repeats', 'train_iters', 'batch'):
        least = 0 if name in ('warmup', 'compile_warmup', 'train_iters') else 1
        if getattr(args, name) < least:
            parser.error(f'--{name.replace("_", "-")}={getattr(args, name)}; allowed: an integer '
                         f'>= {least}')
    args.data_root = osp.abspath(args.data_root)
    ensure_cifar10(args.data_root, args.archive)
    args.passed = ['--steps', str(args.steps), '--warmup', str(args.warmup),
                   '--compile-warmup', str(args.compile_warmup), '--train-iters', str(args.train_iters),
                   '--batch', str(args.batch), '--data-root', args.data_root]
    start = time.time()
    rows = {v: {} for v in args.variants}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):  # in turn, so that a drifting machine load hits all alike
            for variant in args.variants:
                result, best = run_worker(variant, 'time', args, tmp), rows[variant].get('time')
                if result is not None and (best is None or result['step'] < best['step']):
                    rows[variant]['time'] = result
        for variant in args.variants if args.train_iters else ():
            rows[variant]['train'] = run_worker(variant, 'train', args, tmp)
        failed = [f for f in os.listdir(tmp) if f.endswith('.log')]
        for name in failed:
            with open(osp.join(tmp, name)) as f:
                print(f'# --- {name} (last lines) ---\n' + ''.join(f.readlines()[-15:]), file=sys.stderr)
    text = table(rows, args, time.time() - start)
    print(text)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text)
    print(f'# written: {args.out}', file=sys.stderr)
    return rows


if __name__ == '__main__':
    main()
