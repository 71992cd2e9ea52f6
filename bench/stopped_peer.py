"""What a stopped rank does to a two-process job: the times of the events, from the start.

    python bench/stopped_peer.py [--timeout SECONDS] [--limit 480]

Two processes under torchrun train the quickstart config (``tests/dist_stop_driver.py``);
rank 1 stops itself (SIGSTOP, as a hung machine would) after its second iteration.  Printed,
in seconds from the start: rank 1 stopping, rank 0's one line (the peer did not answer within
``env_cfg.dist_cfg.timeout``), torchrun's closing signal (SIGTERM to the other rank), its
SIGKILL of the stopped rank and its own exit.  Without ``--timeout`` the run keeps
emanplug's default (300 s on CPU / gloo).  Whatever is left of the job when it ends or
``--limit`` passes is killed and listed (the ranks run in sessions of their own).
"""
import argparse
import os
import os.path as osp
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
EVENTS = {'rank 1: stopping': 'rank 1 stops', 'did not answer': "rank 0's one line",
          'closing signal': 'torchrun: SIGTERM to the ranks', '(SIGKILL)': 'torchrun: SIGKILL of the stopped rank'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--timeout', type=float, default=None,
                        help='env_cfg.dist_cfg.timeout in seconds (default: emanplug\'s)')
    parser.add_argument('--limit', type=float, default=480, help='seconds before the job is killed')
    parser.add_argument('--port', type=int, default=29673)
    return parser.parse_args()


def end_ranks(pids: str) -> list:
    """SIGKILL every rank that wrote its process id into ``pids``; the ones still running."""
    left = []
    for name in os.listdir(pids):
        try:
            os.kill(int(name), signal.SIGKILL)
            left.append(name)
        except ProcessLookupError:
            pass
    return left


def main() -> None:
    args = parse_args()
    work = tempfile.mkdtemp(prefix='stopped_peer_')
    pids = osp.join(work, 'pids')
    os.makedirs(pids)
    options = ['train_cfg.max_epochs=1', 'custom_hooks.1.at_start=False']
    if args.timeout is not None:
        options.append(f'env_cfg.dist_cfg.timeout={args.timeout:g}')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={args.port}',
           osp.join(ROOT, 'tests', 'dist_stop_driver.py'), CONFIG, '--launcher', 'pytorch',
           '--work-dir', osp.join(work, 'run'), '--cfg-options', *options]
    env = dict(os.environ, OMP_NUM_THREADS='1', STOP_DRIVER_PIDS=pids)
    start = time.time()
    job = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    seen = set()

    def read() -> None:
        for line in job.stdout:
            for key, what in EVENTS.items():
                if key in line and key not in seen:
                    seen.add(key)
                    print(f'{time.time() - start:7.1f} s  {what}: {line.strip()[:160]}', flush=True)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        job.wait(timeout=args.limit)
        print(f'{time.time() - start:7.1f} s  torchrun exits with status {job.returncode}', flush=True)
    except subprocess.TimeoutExpired:
        print(f'{time.time() - start:7.1f} s  the job still runs: killed', flush=True)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    reader.join(5)
    left = end_ranks(pids)
    print(f'ranks left running at the end: {", ".join(left) if left else "none"}')


if __name__ == '__main__':
    main()
