"""Run a table of experiments (configs x seeds), resumable, and summarise it.

    emanplug-run-table CONFIG[:PROCS] [CONFIG[:PROCS] ...] --seeds 0 1 [--procs 2]
                       [--work-dir work_dirs/table] [--out docs/results/table]
                       [--records docs/results/runs/table] [--cfg-options key=value ...] [--dry-run]
    (in a checkout: python tools/run_table.py ...)

Each (config, seed) trains in ``WORK_DIR/<config name>/seed<k>`` in a process of its own,
``python -m emanplug.cli.train`` (more than one process, from ``--procs`` or a ``:PROCS``
suffix of the config: through tools/dist_train.sh of the checkout, i.e. torchrun; gloo on
CPU).  A finished run writes ``result.json`` there (method, scheme, seed, final accuracy,
minutes) and is skipped when the command runs again; an interrupted run resumes from its
last checkpoint.  After every run the Markdown table and the curves (emanplug-summarize)
are rewritten from the finished runs of the command, so a partial table is always on disk;
with ``--records`` the runs are also recorded as small JSON files to commit, and the table
includes the recorded runs of earlier machines.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List, Optional, Sequence

from . import TOOLS_DIR, command


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-run-table', description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--procs', type=int, default=1, help='processes per run (torchrun)')
    parser.add_argument('--work-dir', default='work_dirs/table')
    parser.add_argument('--out', default=None, help='table/plot prefix (default: WORK_DIR/summary)')
    parser.add_argument('--records', default=None,
                        help='folder of run records (emanplug-summarize --records): the '
                             'finished runs are recorded there and the table includes its records')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed to every run')
    parser.add_argument('--dry-run', action='store_true', help='print what would run')
    return parser.parse_args(argv)


def parse_item(item: str, procs: int) -> tuple:
    """'CONFIG' or 'CONFIG:PROCS' -> (config, processes)."""
    config, _, suffix = item.rpartition(':')
    return (config, int(suffix)) if config and suffix.isdigit() else (item, procs)


def run_dir(work_dir: str, config: str, seed: int) -> str:
    """``WORK_DIR/<config name>/seed<k>``."""
    return osp.join(work_dir, osp.splitext(osp.basename(config))[0], f'seed{seed}')


def train_command(config: str, seed: int, directory: str, procs: int, options) -> list:
    """The command that trains (or resumes) one run in ``directory``."""
    args = [config, '--work-dir', directory, '--cfg-options', f'randomness.seed={seed}', *options]
    if osp.exists(osp.join(directory, 'last_checkpoint')):
        args.append('--resume')
    if procs > 1:
        return ['bash', osp.join(TOOLS_DIR, 'dist_train.sh'), args[0], str(procs), *args[1:]]
    return [sys.executable, '-m', 'emanplug.cli.train', *args]


def summarize(finished: list, out: str, records=None) -> None:
    """emanplug-summarize over the finished runs (and the records, if given)."""
    from . import summarize as summarize_cli
    if finished:
        summarize_cli.run([*finished, '--out', out] + (['--records', records] if records else []))


def run(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Train the runs of the command line ``argv`` that are not finished, summarise them;
    returns every run's result (``result.json``)."""
    from ..registry import register_all_modules
    register_all_modules()  # the runs' configs import emanplug's modules
    from ..errors import ConfigError
    from ..evaluation import provenance
    from ..evaluation.results import load_run
    args = parse_args(argv)
    runs = [parse_item(item, args.procs) for item in args.configs]
    for config, _ in runs:
        if not osp.isfile(config):
            raise ConfigError(f'config {config!r} does not exist; allowed: config files, e.g. '
                              'configs/mocov2/*_cifar10-10k_*.py, optionally with :PROCS')
    out = args.out or osp.join(args.work_dir, 'summary')
    results = []
    finished = [run_dir(args.work_dir, c, seed) for seed in args.seeds for c, _ in runs
                if osp.exists(osp.join(run_dir(args.work_dir, c, seed), 'result.json'))]
    for seed in args.seeds:  # seed-major: a partial table covers every row
        for config, procs in runs:
            directory = run_dir(args.work_dir, config, seed)
            result_file = osp.join(directory, 'result.json')
            if osp.exists(result_file):
                with open(result_file) as f:
                    results.append(json.load(f))
                print(f'[done] {directory}: {results[-1]["final"]:.2f}')
                continue
            cmd = train_command(config, seed, directory, procs, args.cfg_options)
            print(f'[run] {" ".join(cmd)}', flush=True)
            if args.dry_run:
                continue
            os.makedirs(directory, exist_ok=True)
            provenance.record_start(directory)
            start = time.time()
            with open(osp.join(directory, 'train.out'), 'a') as log:
                code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(
                    os.environ, EMANPLUG_PYTHON=os.environ.get('EMANPLUG_PYTHON', sys.executable)))
            finished_run = load_run(directory) if code == 0 else None
            if finished_run is None:
                raise SystemExit(f'run {directory} failed (exit code {code}); see '
                                 f'{osp.join(directory, "train.out")}; rerun the command to resume')
            result = dict(config=config, seed=seed, method=finished_run['method'],
                          scheme=finished_run['scheme'], final=finished_run['final'],
                          metric=finished_run['metric_name'], floor=finished_run['floor'],
                          minutes=round((time.time() - start) / 60, 1))
            with open(result_file, 'w') as f:
                json.dump(result, f, indent=1)
            results.append(result)
            finished.append(directory)
            print(f'[done] {directory}: {result["final"]:.2f} ({result["minutes"]} min)', flush=True)
            summarize(finished, out, args.records)
    if not args.dry_run:
        summarize(finished, out, args.records)
    return results


main = command(run)  # ``emanplug-run-table``: run() with one-line errors


if __name__ == '__main__':
    main()
