"""Two trainings sharing the CPU: each run's iteration time alone and with a second identical
run started at the same moment, under several CPU policies, side by side in one run.

    python bench/contention.py [--epochs 4] [--policies today passive one-thread emanplug]
                               [--out docs/bench/contention.md]

Each run is the quickstart's BN/EMAN config (MoCo v2, digits, ResNet-18 of width 32 at 16 px,
batch 64) through ``tools/train.py`` for ``--epochs`` epochs.  The iteration time is the
median of MMEngine's logged ``time`` (seconds per iteration, data included) after the first
epoch; wall is the whole command (start-up included).  Policies (environment of the command):

* ``today``: emanplug's CPU policy off (``EMANPLUG_CPU_POLICY=off``): PyTorch's defaults;
* ``passive``: policy off, ``OMP_WAIT_POLICY=PASSIVE`` set by hand;
* ``one-thread``: policy off, ``OMP_NUM_THREADS=1``;
* ``emanplug``: what the entry points choose by themselves (emanplug/cli/cpu_policy.py).

The slowdown of a policy is its pair's mean iteration time over its own solo time; the
criterion is at most 2.2x with a solo time not slower than ``today``'s.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
POLICIES = {
    'today': {'EMANPLUG_CPU_POLICY': 'off'},
    'passive': {'EMANPLUG_CPU_POLICY': 'off', 'OMP_WAIT_POLICY': 'PASSIVE'},
    'one-thread': {'EMANPLUG_CPU_POLICY': 'off', 'OMP_NUM_THREADS': '1'},
    'emanplug': {},
}
CLEARED = ('EMANPLUG_CPU_POLICY', 'OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')


def start(policy: str, work_dir: str, epochs: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(POLICIES[policy])
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', work_dir,
           '--cfg-options', f'train_cfg.max_epochs={epochs}', 'default_hooks.checkpoint.interval=1000']
    log = open(osp.join(osp.dirname(work_dir), osp.basename(work_dir) + '.log'), 'w')
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def iteration_time(work_dir: str, iters_per_epoch: int) -> float:
    """Median logged seconds per iteration after the first epoch."""
    [scalars] = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    times = []
    with open(scalars) as f:
        for line in f:
            row = json.loads(line)
            if 'time' in row and row.get('iter', 0) > iters_per_epoch:
                times.append(row['time'])
    return statistics.median(times)


def run(policy: str, n: int, folder: str, epochs: int) -> dict:
    dirs = [osp.join(folder, f'{policy}-{n}-{i}') for i in range(n)]
    t0 = time.perf_counter()
    procs = [start(policy, d, epochs) for d in dirs]
    walls = []
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f'{policy}: a run failed, see {folder}')
        walls.append(time.perf_counter() - t0)
    iters = [iteration_time(d, 19) for d in dirs]
    return dict(iter_s=statistics.mean(iters), wall_s=statistics.mean(walls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--policies', nargs='+', default=list(POLICIES), choices=list(POLICIES))
    parser.add_argument('--out', default=None, help='markdown file to write (default: print only)')
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix='emanplug-contention-')
    rows = []
    for policy in args.policies:
        solo = run(policy, 1, folder, args.epochs)
        pair = run(policy, 2, folder, args.epochs)
        rows.append((policy, solo, pair))
        print(f'{policy}: solo {solo["iter_s"] * 1000:.0f} ms/iter, pair {pair["iter_s"] * 1000:.0f} '
              f'ms/iter ({pair["iter_s"] / solo["iter_s"]:.2f}x)', flush=True)
    today = dict((p, s) for p, s, _ in rows).get('today')
    lines = ['# Two trainings at once on this machine: iteration time alone and in a pair.',
             f'# python bench/contention.py --epochs {args.epochs} --policies {" ".join(args.policies)}',
             f'# machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; '
             f'{CONFIG}, {args.epochs} epochs x 19 iterations; median logged time after epoch 1',
             '| policy | solo ms/iter | pair ms/iter (mean of the 2) | pair / solo | solo / today\'s solo '
             '| solo wall s | pair wall s |', '|---|---|---|---|---|---|---|']
    for policy, solo, pair in rows:
        vs_today = f'{solo["iter_s"] / today["iter_s"]:.2f}x' if today else '-'
        lines.append(f'| {policy} | {solo["iter_s"] * 1000:.0f} | {pair["iter_s"] * 1000:.0f} | '
                     f'{pair["iter_s"] / solo["iter_s"]:.2f}x | {vs_today} | {solo["wall_s"]:.1f} | '
                     f'{pair["wall_s"]:.1f} |')
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
