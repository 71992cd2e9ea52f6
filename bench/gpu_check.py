"""One prepared GPU check, one command, under 8 minutes:  bash tools/gpu_check.sh

On a machine with CUDA GPUs, in stages, each with a hard time limit (its processes are
killed when it runs over, and the next stage starts):

1. the CUDA tests (``pytest -m cuda tests/test_cuda.py``): teacher forward and update on the
   GPU equal the CPU's, the teacher stays float32 and its update exact under autocast (fp16,
   bf16), GlobalBatchNorm takes torch's CUDA SyncBN kernels;
2. MoCo v2, BYOL and FixMatch, ResNet-50 at 224 px, each config's per-GPU batch: the ImageNet
   configs of the Table 1/8 families (BN / BN and BN / EMAN; SyncBN / SyncBN too with 2 GPUs),
   built through tools/train.py's path with ``--amp`` (AmpOptimWrapper) and nccl under
   torchrun (MMEngine's Runner starts the process group), one real batch from each config's
   pipeline on a fake ImageNet (emanplug-fake-imagenet, 256 px), then ``--warmup`` + ``--steps``
   iterations of ``train_step`` + the EMANHook update (as bench/step_time.py; data loading
   excluded), on 1 GPU and, where there are 2, on 2.  After the steps the teachers must be
   float32 and finite, and the losses finite;
3. ``emanplug-eval`` on CUDA (``eval_stage``): a ResNet-50 in the official MoCo-EMAN layout
   evaluated by linear classification on 1 % of the fake ImageNet's labels (2 epochs, the
   config's own learning rate, one label set) and by kNN with the float16 feature bank; the
   stage passes when both finish and their table is written.

It prints images/s, the peak GPU memory and the EMAN / BN step-time ratio, and writes them to
docs/bench/gpu.md with the GPU's name and the command.  That file holds GPU numbers if and
only if they were measured on a GPU.  Before the stages, on any machine, it checks the stack
(the versions this Python imports; every method's BN / EMAN model built with emanplug
registered), which is what ``tools/gpu_check.sh --wheelhouse DIR`` proves of an offline
install; on a machine without CUDA it then prints one line saying it skipped the GPU stages,
writes nothing and exits 0.  Exit status 1 when a stage failed
or ran out of time (what was measured is still written).

    python bench/gpu_check.py [--steps 25] [--warmup 5] [--budget 450] [--out docs/bench/gpu.md]
"""
import argparse
import datetime
import gc
import json
import math
import os
import os.path as osp
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {  # method -> ImageNet config of the Table 1/8 family; the scheme token ends the name
    'moco': 'configs/mocov2/mocov2_resnet50_8xb32-coslr-100e_in1k_{}.py',
    'byol': 'configs/byol/byol_resnet50_8xb64-coslr-50e_in1k_{}.py',
    'fixmatch': 'configs/fixmatch/fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct_{}.py',
}
SCHEMES = {1: ('bn-bn', 'bn-eman'), 2: ('bn-bn', 'bn-eman', 'syncbn-syncbn')}
#: seconds: hard limits of the stages (each also ends before the overall --budget)
LIMITS = {'cuda tests': 150, 'data': 60, '1 GPU': 200, '2 GPUs': 230, 'evaluation': 90}
SKIP_LINE = ('gpu_check: skipped: no CUDA GPU here (torch.cuda.is_available() is False); '
             'nothing was measured and {out} was not written')


#: the stage running now (a process group), stopped with the check on SIGTERM / SIGINT
CURRENT = []


def _stop(signum, frame) -> None:
    for proc in CURRENT:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    log(f'stopped by signal {signum}: the running stage was killed')
    sys.exit(128 + signum)


def log(message: str) -> None:
    print(f'[gpu_check {time.strftime("%H:%M:%S")}] {message}', flush=True)


# --------------------------------------------------------------------------------------------
# the orchestrating process


def run_stage(name: str, cmd: list, limit: float, log_file: str, env: dict = None) -> dict:
    """Run ``cmd`` in its own process group for at most ``limit`` seconds (then SIGTERM, and
    SIGKILL 10 s later); its output goes to ``log_file``."""
    start = time.monotonic()
    log(f'{name}: started (limit {limit:.0f} s; log {osp.relpath(log_file, ROOT)})')
    with open(log_file, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env=env or os.environ.copy(), start_new_session=True)
        CURRENT[:] = [proc]
        try:
            rc = proc.wait(timeout=max(limit, 1))
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            rc = proc.returncode
        CURRENT.clear()
    seconds = time.monotonic() - start
    with open(log_file, errors='replace') as f:
        tail = f.read().splitlines()[-25:]
    status = 'timed out' if timed_out else ('ok' if rc == 0 else f'failed (exit {rc})')
    log(f'{name}: {status} after {seconds:.0f} s')
    if status != 'ok':
        print('\n'.join('    ' + line for line in tail), flush=True)
    return dict(name=name, status=status, seconds=seconds, tail=tail)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def bench_stage(world: int, data_root: str, args, limit: float, folder: str) -> tuple:
    cells = [(method, scheme) for method in CONFIGS for scheme in SCHEMES[world]]
    out = osp.join(folder, f'bench_{world}.json')
    cmd = [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={world}',
           f'--master_port={free_port()}', osp.abspath(__file__), '--worker',
           '--cells', json.dumps(cells), '--data-root', data_root, '--result', out,
           '--steps', str(args.steps), '--warmup', str(args.warmup), '--launcher', 'pytorch',
           '--batch-divisor', str(args.batch_divisor)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '4'))
    name = '1 GPU' if world == 1 else f'{world} GPUs'
    stage = run_stage(name, cmd, limit, osp.join(folder, f'bench_{world}.log'), env)
    rows = []
    if osp.exists(out):  # written after every cell: a stage that ran out of time keeps its rows
        with open(out) as f:
            rows = json.load(f)
    missing = len(cells) - len(rows)
    if missing and stage['status'] == 'ok':
        stage['status'] = f'{missing} cells missing'
    if any(r.get('error') for r in rows) and stage['status'] == 'ok':
        stage['status'] = 'cells failed'
    bad = [f'{r["method"]} {r["scheme"]}' for r in rows if not r.get('error') and not (
        r['teacher_ok'] and r['losses_ok'] and r['optim_wrapper'] == 'AmpOptimWrapper')]
    if bad and stage['status'] == 'ok':
        stage['status'] = 'checks failed: ' + ', '.join(bad)
    return stage, rows


#: a released-layout checkpoint (official MoCo-EMAN: module.encoder_q.* of torchvision's
#: ResNet-50), random weights: what emanplug-eval initialises from in the evaluation stage
MAKE_CHECKPOINT = (
    'import sys, torch, torchvision\n'
    "net = {k: v for k, v in torchvision.models.resnet50().state_dict().items() if not k.startswith('fc.')}\n"
    "state = {f'module.encoder_{q}.{k}': v for q in 'qk' for k, v in net.items()}\n"
    "torch.save({'epoch': 200, 'state_dict': state}, sys.argv[1])\n")


def eval_stage(data_root: str, limit: float, folder: str) -> dict:
    """emanplug-eval on CUDA: a short linear evaluation (1 % of the labels, 2 epochs, the
    config's own learning rate, one label set) and kNN with the float16 feature bank, of a
    ResNet-50 in the official MoCo-EMAN layout, on the fake ImageNet."""
    checkpoint = osp.join(folder, 'moco_official_layout.pth.tar')
    subprocess.run([sys.executable, '-c', MAKE_CHECKPOINT, checkpoint], check=True, cwd=ROOT)
    work = osp.join(folder, 'eval')
    loaders = [f'{k}.{v}' for k in ('train_dataloader', 'val_dataloader')
               for v in ('num_workers=2', 'persistent_workers=False')]
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'eval.py'), checkpoint, '--protocols', 'linear-1pct', 'knn',
           '--no-grid', '--label-sets', '1', '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=2',
           f'train_dataloader.dataset.dataset.data_root={data_root}', f'val_dataloader.dataset.data_root={data_root}',
           f'test_dataloader.dataset.data_root={data_root}', *loaders, f'custom_hooks.0.bank.data_root={data_root}',
           f'custom_hooks.0.query.data_root={data_root}', 'custom_hooks.0.num_workers=2']
    stage = run_stage('evaluation', cmd, limit, osp.join(folder, 'eval.log'))
    table = osp.join(work, 'table.md')
    if stage['status'] == 'ok':
        with open(table) as f:
            cells = {r[1].strip(): [c.strip() for c in r] for r in (line.split('|') for line in f) if len(r) > 3}
        stage['summary'] = (f"linear-1pct top-1 {cells.get('linear-1pct', ['?'] * 6)[5]}, "
                            f"kNN top-1 {cells.get('knn', ['?'] * 4)[3]} (fake ImageNet, random weights)")
    return stage


def ratio_rows(rows: list) -> list:
    for r in rows:
        ref = next((x for x in rows if x['method'] == r['method'] and x['world'] == r['world']
                    and x['scheme'] == 'bn-bn' and x.get('step')), None)
        r['ratio'] = r['step'] / ref['step'] if r.get('step') and ref else None
    return rows


def table(rows: list) -> list:
    lines = ['| method | scheme | GPUs | batch per GPU | step ms | ratio to BN/BN | images/s | '
             'peak GPU memory GiB | teacher float32 and finite | losses finite | AMP | loss scale |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        if r.get('error'):
            lines.append(f'| {r["method"]} | {r["scheme"]} | {r["world"]} | - | failed: '
                         f'{r["error"][:160]} | | | | | | | |')
            continue
        ratio = f'{r["ratio"]:.2f}x' if r.get('ratio') else '-'
        lines.append(f'| {r["method"]} | {r["scheme"]} | {r["world"]} | {r["batch"]}'
                     f'{" (reduced: OOM)" if r["reduced"] else ""} | {1000 * r["step"]:.1f} | {ratio} | '
                     f'{r["images_per_s"]:.0f} | {r["peak_gib"]:.1f} | '
                     f'{"yes" if r["teacher_ok"] else "NO"} | {"yes" if r["losses_ok"] else "NO"} | '
                     f'{"yes" if r["optim_wrapper"] == "AmpOptimWrapper" else "NO"} | {r["loss_scale"]} |')
    return lines


def write_report(path: str, args, info: dict, stages: list, rows: list) -> None:
    eman = [r for r in rows if r['scheme'] == 'bn-eman' and r.get('ratio')]
    lines = [
        '# GPU check: `bash tools/gpu_check.sh` (`python bench/gpu_check.py '
        + ' '.join(sys.argv[1:]) + '`)',
        '',
        f'Measured {info["date"]} on {info["gpus"]} x {info["gpu"]} ({info["memory_gib"]:.0f} GiB each), '
        f'torch {info["torch"]}, CUDA {info["cuda"]}, cuDNN {info["cudnn"]}, {info["cpus"]} CPU cores, '
        f'{info["platform"]}.',
        '',
        'ResNet-50 at 224 px, the ImageNet configs of the Table 1/8 families '
        '(`' + '`, `'.join(c.format('{scheme}') for c in CONFIGS.values()) + '`) with their per-GPU '
        'batch, `--amp` (AmpOptimWrapper, float16 autocast, dynamic loss scale), nccl started by '
        "MMEngine's Runner under torchrun. One real batch of each config's pipeline "
        '(a fake ImageNet of 256 px JPEGs); median of '
        f'{args.steps} iterations of `train_step` + the EMANHook update after {args.warmup} warm-up '
        'iterations (data loading excluded; the slowest process sets the step). Images per step: MoCo / '
        'BYOL the batch (2 views each), FixMatch the labeled batch and mu = 5 times as many unlabeled '
        'images (weak + strong). Peak memory: `torch.cuda.max_memory_allocated`, largest process.',
        '',
        'Stages: ' + '; '.join(f'{s["name"]} {s["status"]} ({s["seconds"]:.0f} s'
                               + (f': {s["summary"]}' if s.get('summary') else '') + ')' for s in stages) + '.',
        '',
    ] + table(rows)
    if eman:
        lines += ['', 'EMAN / BN step-time ratio: ' + ', '.join(
            f'{r["method"]} {r["world"]} GPU{"s" if r["world"] > 1 else ""} {r["ratio"]:.2f}x' for r in eman) + '.']
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def stack_check() -> None:
    """The part that runs anywhere (also without CUDA): the versions of the stack this Python
    imports, and emanplug registered with every method's BN / EMAN model built from its config."""
    import importlib.metadata as metadata

    import torch
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    import emanplug
    emanplug.register_all_modules()

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return '-'
    names = ('torchvision', 'numpy', 'mmengine', 'mmcv', 'mmcv-lite', 'mmpretrain', 'lightly')
    log(f'stack: Python {platform.python_version()}, torch {torch.__version__}, '
        + ', '.join(f'{n} {version(n)}' for n in names if version(n) != '-')
        + f'; emanplug {emanplug.__version__} from {osp.dirname(emanplug.__file__)}')
    for method, pattern in CONFIGS.items():
        cfg = Config.fromfile(osp.join(ROOT, pattern.format('bn-eman')))
        model = MODELS.build(cfg.model)
        log(f'stack: {method} bn-eman model built ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters)')


def check(args) -> int:
    import torch
    out = args.out if osp.isabs(args.out) else osp.join(ROOT, args.out)
    stack_check()
    if not torch.cuda.is_available():
        print(SKIP_LINE.format(out=args.out), flush=True)
        return 0
    deadline = time.monotonic() + args.budget
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    gpus = torch.cuda.device_count()
    props = torch.cuda.get_device_properties(0)
    info = dict(date=datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), gpus=gpus, gpu=props.name,
                memory_gib=props.total_memory / 2**30, torch=torch.__version__, cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version(), cpus=os.cpu_count(), platform=platform.platform())
    log(f'{gpus} x {props.name}; budget {args.budget:.0f} s')
    folder = osp.join(ROOT, 'work_dirs', 'gpu_check')
    os.makedirs(folder, exist_ok=True)
    stages, rows = [], []

    def left(stage: str) -> float:
        return min(LIMITS[stage], deadline - time.monotonic() - 5)

    if left('cuda tests') >= 30:
        stages.append(run_stage('cuda tests', [sys.executable, '-m', 'pytest', '-q', '-m', 'cuda',
                                               '-p', 'no:cacheprovider', 'tests/test_cuda.py'],
                                left('cuda tests'), osp.join(folder, 'cuda_tests.log')))
        stages[-1]['summary'] = next((line.strip('= ') for line in reversed(stages[-1]['tail']) if any(
            word in line for word in (' passed', ' failed', ' error', ' skipped', 'no tests ran'))), '?')
        log(f'cuda tests: {stages[-1]["summary"]}')
    with tempfile.TemporaryDirectory(prefix='emanplug-gpu-check-') as tmp:
        data_root = osp.join(tmp, 'imagenet')
        data = run_stage('data', [sys.executable, osp.join(ROOT, 'tools', 'make_fake_imagenet.py'), data_root,
                                  '--classes', '4', '--train-per-class', '48', '--val-per-class', '4',
                                  '--size', '256'], left('data'), osp.join(folder, 'data.log'))
        if data['status'] != 'ok':
            stages.append(data)
        for world in (1, 2):
            name = '1 GPU' if world == 1 else '2 GPUs'
            if data['status'] != 'ok' or gpus < world:
                continue
            if left(name) < 60:
                stages.append(dict(name=name, status='skipped (budget spent)', seconds=0, tail=[]))
                log(f'{name}: skipped, the budget of {args.budget:.0f} s is spent')
                continue
            stage, got = bench_stage(world, data_root, args, left(name), folder)
            stages.append(stage)
            rows += got
        if data['status'] == 'ok' and left('evaluation') >= 45:
            stages.append(eval_stage(data_root, left('evaluation'), folder))
            log(f'evaluation: {stages[-1].get("summary", stages[-1]["status"])}')
    rows = ratio_rows(rows)
    for line in table(rows):
        print(line)
    if any(r.get('step') for r in rows):
        write_report(out, args, info, stages, rows)
        log(f'wrote {osp.relpath(out, ROOT)}')
    else:
        log(f'nothing measured; {osp.relpath(out, ROOT)} not written')
    bad = [s for s in stages if s['status'] != 'ok']
    log('done: ' + ('every stage ok' if not bad else 'problems in ' + ', '.join(
        f'{s["name"]} ({s["status"]})' for s in bad)))
    return 1 if bad else 0


# --------------------------------------------------------------------------------------------
# the worker: one process per GPU under torchrun, every cell of the stage in turn


def cell_config(method: str, scheme: str, data_root: str, divisor: int):
    from emanplug.cli.runner import load_config
    config = osp.join(ROOT, CONFIGS[method].format(scheme))
    cfg = load_config(config)
    loader = cfg.train_dataloader
    batch = max(1, loader.batch_size // divisor)
    loader.update(batch_size=batch, num_workers=4, persistent_workers=False)
    dataset = loader.dataset
    if dataset.get('type') == 'SemiSupervisedDataset':
        dataset.dataset.data_root = data_root
        dataset.split_file = osp.join(data_root, 'splits', '10percent.txt')
    else:
        dataset.data_root = data_root
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].dataset.data_root = data_root
            cfg[key].update(num_workers=2, persistent_workers=False)
    cfg.custom_hooks = [dict(type='EMANHook')] if cfg.model.get('scheme') is not None else []
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**6, save_last=False)
    cfg.launcher = 'pytorch'
    cfg.log_level = 'WARNING'  # no hook tables in the log of the stage
    return config, cfg, batch


def time_cell(method: str, scheme: str, data_root: str, args, divisor: int) -> dict:
    import torch
    from step_time import timing_runner  # bench/step_time.py (this script's folder)

    from emanplug.cli.checks import check_config
    from emanplug.cli.runner import prepare_config
    from emanplug.core.distributed import world_size
    from emanplug.hooks.eman_hook import find_teachers

    config, cfg, batch = cell_config(method, scheme, data_root, divisor)
    work = tempfile.mkdtemp(prefix='emanplug-gpu-cell-')
    prepare_config(cfg, work, None, True, config)  # --amp: AmpOptimWrapper on CUDA
    check_config(cfg, 'train')
    runner, hooks, data = timing_runner(cfg)  # bench/step_time.py
    losses = []

    def step(i):
        for h in hooks:
            h.before_train_iter(runner, i, data)
        out = runner.model.train_step(data, optim_wrapper=runner.optim_wrapper)
        for h in hooks:
            h.after_train_iter(runner, i, data)
        losses.append(float(out['loss'].detach()))

    cuda = torch.cuda.is_available()  # (False only in a dry run of this code on a CPU)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for i in range(args.warmup):
        step(i)
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        step(args.warmup + i)
        sync()
        times.append(time.perf_counter() - start)
    teachers = find_teachers(runner.model)
    teacher_ok = all(t.dtype == torch.float32 and bool(torch.isfinite(t).all())
                     for teacher in teachers for t in teacher.module.state_dict().values()
                     if t.is_floating_point())
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    stats = torch.tensor([statistics.median(times), peak, float(not teacher_ok),
                          float(not all(map(math.isfinite, losses)))], device='cuda' if cuda else 'cpu')
    if world_size() > 1:  # the slowest process sets the pace; any failure counts
        torch.distributed.all_reduce(stats, op=torch.distributed.ReduceOp.MAX)
    step_s, peak, teacher_bad, loss_bad = stats.tolist()
    world = world_size()
    mu = cfg.train_dataloader.dataset.get('mu', 0) if method == 'fixmatch' else 0
    images = batch * (1 + mu) * world
    scaler = getattr(runner.optim_wrapper, 'loss_scaler', None)
    result = dict(method=method, scheme=scheme, world=world, batch=batch, reduced=divisor > args.batch_divisor,
                  step=step_s, images_per_s=images / step_s, peak_gib=peak,
                  teacher_ok=not teacher_bad, teachers=len(teachers), losses_ok=not loss_bad,
                  optim_wrapper=type(runner.optim_wrapper).__name__,
                  loss_scale=float(scaler.get_scale()) if scaler is not None else None)
    return result


def worker(args) -> None:
    import torch

    from emanplug.cli.runner import distributed
    from emanplug.core.distributed import rank
    from emanplug.registry import register_all_modules
    register_all_modules()
    rows = []
    with distributed(args.launcher):
        for method, scheme in json.loads(args.cells):
            start = time.monotonic()
            row = None
            for divisor in (args.batch_divisor, 2 * args.batch_divisor, 4 * args.batch_divisor):
                # a GPU with less memory: half the batch, then a quarter
                try:
                    row = time_cell(method, scheme, args.data_root, args, divisor)
                    break
                except torch.cuda.OutOfMemoryError as err:
                    row = dict(method=method, scheme=scheme, error=f'out of memory: {str(err)[:120]}')
                except Exception as err:  # recorded; the next cell still runs
                    row = dict(method=method, scheme=scheme, error=f'{type(err).__name__}: {err}'.splitlines()[0])
                    import traceback
                    traceback.print_exc()
                    break
                finally:
                    gc.collect()
                    torch.cuda.empty_cache()
            row.setdefault('world', int(os.environ.get('WORLD_SIZE', 1)))
            row['seconds'] = time.monotonic() - start
            rows.append(row)
            if rank() == 0:
                print(f'[gpu_check] {method} {scheme} x{row["world"]}: ' + (
                    f'failed: {row["error"]}' if row.get('error') else
                    f'{1000 * row["step"]:.1f} ms/step, {row["images_per_s"]:.0f} images/s, '
                    f'{row["peak_gib"]:.1f} GiB, teacher ok {row["teacher_ok"]}'), flush=True)
                with open(args.result, 'w') as f:
                    json.dump(rows, f, indent=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=25, help='timed iterations per cell')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations first')
    parser.add_argument('--budget', type=float, default=450, help='seconds for the whole check')
    parser.add_argument('--out', default='docs/bench/gpu.md')
    parser.add_argument('--batch-divisor', type=int, default=1,
                        help="per-GPU batch = the config's / this (a GPU with little memory)")
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--cells', help=argparse.SUPPRESS)
    parser.add_argument('--data-root', help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    parser.add_argument('--launcher', default='pytorch', help=argparse.SUPPRESS)
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    return check(args)


if __name__ == '__main__':
    sys.exit(main())
