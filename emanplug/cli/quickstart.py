"""The quickstart: first, measured in a second, whether a BN and an EMAN teacher's output
for one image depends on the other images of its batch; then MoCo v2 with a BN teacher and
with an EMAN teacher, both with warm-started statistics (see README), on a small real dataset
that ships with scikit-learn (handwritten digits; no download), evaluated with a kNN
classifier next to the untrained network; prints a table and writes a plot.

    bash tools/quickstart.sh            # sets up the environment on first use, then runs this
    emanplug-quickstart [--schemes bn-bn+warm10 bn-eman+warm10] [--seed 0] [--work-dir DIR]
    (in a checkout: python tools/quickstart.py ...)

Each run is an ordinary config in configs/quickstart/ trained by MMEngine's Runner, exactly
as ``emanplug-train CONFIG`` would; the kNN numbers come from its KNNEvalHook.  The console
shows one line per epoch; MMEngine's full log of a run is in ``WORK_DIR/<scheme>/console.log``.
"""
import argparse
import contextlib
import glob
import json
import os
import os.path as osp
import re
import sys
import time
from typing import List, Optional, Sequence, TextIO

from mmengine.hooks import Hook
from mmengine.logging import MMLogger

from . import CONFIG_ROOT, command, config_name

CONFIG_DIR = osp.join(CONFIG_ROOT, 'quickstart')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-quickstart', description=__doc__.split('\n')[0])
    parser.add_argument('--schemes', nargs='+', default=['bn-bn+warm10', 'bn-eman+warm10'],
                        help='rows of configs/quickstart/: scheme tokens, +warm10 for the '
                             'warm-started family (default: both teachers warm-started, the '
                             'comparison docs/results/digits_warm.md supports)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'quickstart'))
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run, e.g. train_cfg.max_epochs=2')
    return parser.parse_args(argv)


def scheme_configs() -> dict:
    """``{row: path}`` of the quickstart's rows, ``configs/quickstart/*_<scheme>.py``: the row is
    the scheme token, with ``+warm<N>`` for the warm-started family (``...-bnwarm<N>_digits_*``;
    the main configs, ``{algorithm}_{backbone}_{schedule}_{dataset}.py``, name no scheme)."""
    rows = {}
    for path in sorted(glob.glob(osp.join(CONFIG_DIR, '*.py'))):
        parts = osp.basename(path)[:-3].split('_')
        if len(parts) > 4:
            warm = re.search(r'-bnwarm(\d+)$', parts[2])
            rows[parts[-1] + (f'+warm{warm.group(1)}' if warm else '')] = path
    return rows


def config_for(scheme: str) -> str:
    """The quickstart config of a scheme token (``configs/quickstart/*_<scheme>.py``)."""
    rows = scheme_configs()
    if scheme not in rows:
        from ..errors import ConfigError
        available = sorted(rows)
        raise ConfigError(f'--schemes {scheme}: no quickstart config in {CONFIG_DIR}; allowed: '
                          f'{", ".join(available)}')
    return rows[scheme]


class EpochProgress(Hook):
    """Writes one line per epoch to ``stream``: the mean training loss of the epoch, the kNN
    top-1 of student and teacher where KNNEvalHook evaluated (its history), and the epoch's
    seconds; before training, the untrained network's kNN.

    Args:
        name (str): the run's name, at the start of every line.
        stream (file): where to write (the console, while MMEngine's log goes elsewhere).
    """
    priority = 'LOWEST'  # after KNNEvalHook (LOW) has evaluated

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name, self.stream = name, stream
        self.losses: List[float] = []
        self.start = time.time()
        self.knn_seen = 0

    def _knn(self, runner) -> str:
        history = [h for hook in runner.hooks if type(hook).__name__ == 'KNNEvalHook'
                   for h in hook.history]
        new, self.knn_seen = history[self.knn_seen:], len(history)
        return ''.join(f"  kNN student {100 * h['knn/student_top1']:.1f}%" +
                       (f" teacher {100 * h['knn/teacher_top1']:.1f}%" if 'knn/teacher_top1' in h else '')
                       for h in new[-1:])

    def _write(self, text: str) -> None:
        self.stream.write(f'[{self.name}] {text}\n')
        self.stream.flush()

    def before_train(self, runner) -> None:
        knn = self._knn(runner)
        if knn:
            self._write(f'untrained{knn}')

    def before_train_epoch(self, runner) -> None:
        self.losses, self.start = [], time.time()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if 'train/loss' in runner.message_hub.log_scalars:  # this iteration's (RuntimeInfoHook)
            self.losses.append(runner.message_hub.get_scalar('train/loss').current())

    def after_train_epoch(self, runner) -> None:
        loss = sum(self.losses) / max(len(self.losses), 1)
        self._write(f'epoch {runner.epoch + 1:>2}/{runner.max_epochs}  loss {loss:.3f}'
                    f'{self._knn(runner)}  {time.time() - self.start:.1f} s')


def batch_dependence(config: str, seed: int = 0) -> dict:
    """What the two teachers do with one sample, measured before any training: sample 0 of
    the digits train split is passed once with the next 63 images as batch-mates and once with
    63 others, through a BN teacher (batch statistics) and an EMAN teacher (running statistics)
    of the same untrained student built from ``config``.  Returns ``{scheme: (relative change
    of sample 0's output, bitwise equal)}``; the change is max |a - b| / max |a|."""
    import copy

    import numpy as np
    import torch
    import torch.nn as nn
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    from ..core.teacher import EMATeacher, prepare_student
    from ..datasets.digits import Digits
    cfg = Config.fromfile(config)
    images = [d['img'] for d in Digits(split='train', pipeline=[]).load_data_list()[:127]]
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    pre = cfg.model.data_preprocessor
    x = (x - torch.tensor(pre.mean).view(1, 3, 1, 1)) / torch.tensor(pre.std).view(1, 3, 1, 1)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    student = nn.Sequential(model.backbone, model.neck)
    result = {}
    for scheme in ('bn-bn', 'bn-eman'):
        teacher = EMATeacher(prepare_student(copy.deepcopy(student), scheme), scheme)
        teacher.train()
        a = teacher(x[:64])[0][0]
        b = teacher(torch.cat([x[:1], x[64:127]]))[0][0]
        result[scheme] = (float((a - b).abs().max() / a.abs().max()), bool(torch.equal(a, b)))
    return result


def print_batch_dependence(config: str, seed: int) -> dict:
    """Print :func:`batch_dependence` in three lines; returns it."""
    from ..evaluation.report import dependence_lines
    start = time.time()
    result = batch_dependence(config, seed)
    print('=== Does a teacher\'s output for one image depend on the other images of its batch? '
          '(untrained network; sample 0 with two different sets of 63 batch-mates)')
    for line in dependence_lines({k: dict(relative_change=c, bitwise_identical=b)
                                  for k, (c, b) in result.items()}):
        print('  ' + line)
    print(f'  ({time.time() - start:.1f} s)', flush=True)
    return result


def train_scheme(scheme: str, args: argparse.Namespace) -> dict:
    """Train the quickstart config of ``scheme``; returns its run
    (:func:`emanplug.evaluation.results.load_run`) with ``config`` and ``minutes``.  The
    console gets a header and one line per epoch; MMEngine's log goes to
    ``WORK_DIR/<scheme>/console.log``."""
    from ..errors import ConfigError
    from ..evaluation import provenance
    from ..evaluation.results import load_run
    from . import train
    config = config_for(scheme)
    work_dir = osp.join(args.work_dir, scheme)
    os.makedirs(work_dir, exist_ok=True)
    provenance.record_start(work_dir)
    console = osp.join(work_dir, 'console.log')
    print(f'=== MoCo v2, {scheme} teacher: {config_name(config)} (log: {console})',
          flush=True)
    start = time.time()
    progress = EpochProgress(scheme, sys.stdout)
    with open(console, 'a') as log:
        # MMLogger's console handler takes the sys.stdout of the moment the Runner creates it
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            try:
                runner = train.run([config, '--work-dir', work_dir, '--cfg-options',
                                    f'randomness.seed={args.seed}', *args.cfg_options], hooks=[progress])
            finally:
                _detach(log)
    run = load_run(work_dir)
    if run is None:
        raise ConfigError(f'{work_dir} holds no finished log; allowed: a config with a KNNEvalHook')
    return dict(run, config=config_name(config),
                minutes=round((time.time() - start) / 60, 2), iters=runner.iter)


def _detach(stream: TextIO) -> None:
    """Remove the handlers of MMEngine's loggers that write to ``stream`` (closed next): a
    later message of such a logger (e.g. mmengine's 'current' one) must not write to a
    closed file."""
    for logger in list(MMLogger._instance_dict.values()):  # every MMLogger of the process
        for handler in list(logger.handlers):
            if getattr(handler, 'stream', None) is stream:
                logger.removeHandler(handler)


def run(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Train every scheme of the command line ``argv``, print the table, write the plot
    (``quickstart_curves.png``), the table (``quickstart_table.md``) and the numbers
    (``quickstart_results.json``) to the work dir; returns the runs."""
    from ..registry import register_all_modules
    register_all_modules()
    from ..evaluation.results import per_run_table, plot, to_record
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    dependence = print_batch_dependence(config_for(args.schemes[0]), args.seed)
    runs = [train_scheme(scheme, args) for scheme in args.schemes]
    summary = per_run_table(runs)
    png = osp.join(args.work_dir, 'quickstart_curves.png')
    numbers = osp.join(args.work_dir, 'quickstart_results.json')
    epochs = max(r['metric'][-1][0] for r in runs)
    plot(runs, png, teacher=True,
         title=f'MoCo v2 on scikit-learn digits (1,258 train images, 16 px), seed {args.seed}, '
               f'{epochs} epochs x 19 iterations, 2 CPU cores')
    with open(numbers, 'w') as f:
        json.dump(dict(batch_dependence={k: dict(relative_change=c, bitwise_identical=b)
                                         for k, (c, b) in dependence.items()},
                       runs=[to_record(r, extra=('config', 'minutes', 'teacher_metric', 'provenance'))
                             for r in runs]),
                  f, indent=1)
    with open(osp.join(args.work_dir, 'quickstart_table.md'), 'w') as f:
        f.write(summary + '\n')
    print('\n' + summary)
    print(f'\ncurves: {png}\nnumbers: {numbers}')
    return runs


main = command(run)  # ``emanplug-quickstart``: run() with one-line errors


if __name__ == '__main__':
    main()
