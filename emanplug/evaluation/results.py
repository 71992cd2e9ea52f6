"""Read the work dirs of finished runs and summarise them like the paper's Table 1 and
Figure 3 (used by tools/summarize_runs.py).

Work dirs hold checkpoints and are not committed.  A run's *record*, a small JSON file with
what the table and the curves need, is: a table can be rebuilt and extended on a machine
where the earlier runs' work dirs are gone."""
import glob
import json
import os
import os.path as osp
import re
from collections import defaultdict
from statistics import mean, stdev
from typing import Dict, List, Optional

METHODS = {'EMAMoCo': 'MoCo', 'EMABYOL': 'BYOL', 'FixMatch': 'FixMatch',
           'ImageClassifier': 'Supervised'}


FLOOR = 'untrained (floor)'


def _latest(pattern: str) -> Optional[str]:
    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def load_run(work_dir: str) -> Optional[dict]:
    """Method, scheme, seed, curves and final accuracy (%) of one work dir, or None if it
    holds no finished log.  MoCo/BYOL: last kNN top-1 of the student; FixMatch: last test
    top-1 of the evaluated model (teacher if there is one)."""
    from mmengine.config import Config

    from ..core.schemes import build_scheme
    # a resumed run has one timestamped log folder per start, each logging from where it began
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    config = _latest(osp.join(work_dir, '*', 'vis_data', 'config.py'))
    if not logs or config is None:
        return None
    cfg = Config.fromfile(config)
    model = cfg.model
    method = METHODS.get(str(model.type).split('.')[-1], str(model.type))
    if model.get('unsup_weight', 1) == 0 or method == 'Supervised':
        scheme = 'supervised'
    elif model.get('scheme') is None:
        scheme = 'default'
    else:
        scheme = build_scheme(model.scheme).token
    losses, metrics = {}, {}  # by step / epoch: a later start overrides what it repeats
    for scalars in logs:
        last_iter = 0  # validation rows carry the epoch as step (0 in iteration-based loops)
        with open(scalars) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    losses[row['step']] = row['loss']
                    last_iter = row['step']
                if 'knn/student_top1' in row:
                    metrics[row.get('epoch', row['step'])] = 100 * row['knn/student_top1']
                else:  # the evaluated model ('top1'); logs of older runs name only the models
                    key = next((k for k in ('top1', 'teacher/top1', 'student/top1') if k in row), None)
                    if key is not None:
                        metrics[last_iter] = row[key]
    loss, metric = sorted(losses.items()), sorted(metrics.items())
    if not metric:
        return None
    knn = method != 'FixMatch'
    return dict(name=run_name(work_dir), work_dir=work_dir, method=method, scheme=scheme,
                seed=cfg.get('randomness', {}).get('seed'), loss=loss, metric=metric,
                final=metric[-1][1], floor=metric[0][1] if knn and metric[0][0] == 0 else None,
                metric_name='kNN top-1' if knn else 'top-1')


def run_name(work_dir: str) -> str:
    """A run's name: ``<config>_seed<k>`` for tools/run_table.py's ``<config>/seed<k>`` layout,
    else the work dir's own name."""
    path = osp.normpath(osp.abspath(work_dir))
    leaf = osp.basename(path)
    return f'{osp.basename(osp.dirname(path))}_{leaf}' if re.fullmatch(r'seed\d+', leaf) else leaf


RECORD_KEYS = ('name', 'method', 'scheme', 'seed', 'metric_name', 'final', 'floor', 'metric', 'loss')
MAX_LOSS_POINTS = 400


def save_record(run: dict, directory: str) -> str:
    """Write ``run`` (from :func:`load_run`) to ``directory/<name>.json``; the loss curve is
    thinned to at most ``MAX_LOSS_POINTS`` points.  Returns the file's path."""
    record = {k: run.get(k) for k in RECORD_KEYS}
    stride = max(1, -(-len(run['loss']) // MAX_LOSS_POINTS))
    record['loss'] = [[x, round(y, 4)] for x, y in run['loss'][::stride]]
    record['metric'] = [[x, round(y, 4)] for x, y in run['metric']]
    for key in ('final', 'floor'):  # accuracies in %: 4 decimals are more than measured
        record[key] = None if run[key] is None else round(run[key], 4)
    for key in ('minutes', 'source'):
        if run.get(key) is not None:
            record[key] = run[key]
    os.makedirs(directory, exist_ok=True)
    path = osp.join(directory, record['name'] + '.json')
    with open(path, 'w') as f:
        json.dump(record, f, indent=None, separators=(',', ':'))
        f.write('\n')
    return path


def load_records(directory: str) -> List[dict]:
    """The runs recorded in ``directory`` (see :func:`save_record`), sorted by name."""
    from ..errors import ConfigError
    runs = []
    for path in sorted(glob.glob(osp.join(directory, '*.json'))):
        try:
            with open(path) as f:
                run = json.load(f)
            missing = [k for k in RECORD_KEYS if k not in run]
        except (OSError, ValueError) as e:
            raise ConfigError(f'run record {path} is not readable JSON ({e}); allowed: files '
                              'written by tools/summarize_runs.py --records') from None
        if missing or not run['metric']:
            raise ConfigError(f'run record {path} lacks {", ".join(missing) or "metric points"}; '
                              f'allowed: JSON objects with the keys {", ".join(RECORD_KEYS)}')
        run['metric'] = [tuple(p) for p in run['metric']]
        run['loss'] = [tuple(p) for p in run['loss']]
        runs.append(run)
    return runs


def table(runs: List[dict]) -> str:
    """Markdown table: rows = student/teacher scheme, columns = method, cells mean +- std (n).
    Runs with a kNN accuracy before training add the row 'untrained (floor)'; a supervised
    classifier's kNN accuracy is the row 'supervised' (the ceiling) of every MoCo/BYOL column."""
    cells: Dict[tuple, List[float]] = defaultdict(list)
    ssl = sorted({r['method'] for r in runs if r['method'] not in ('Supervised', 'FixMatch')})
    for r in runs:
        if r['method'] == 'Supervised' and ssl:
            # a classifier of the same backbone and budget: the kNN ceiling of the SSL columns
            for m in ssl:
                cells[('supervised', m)].append(r['final'])
            continue
        cells[(r['scheme'], r['method'])].append(r['final'])
        if r.get('floor') is not None:
            cells[(FLOOR, r['method'])].append(r['floor'])
    methods = sorted({m for _, m in cells})
    order = [FLOOR, 'supervised', 'default', 'bn-bn', 'syncbn-syncbn', 'bn-shufflebn', 'gn-gn', 'in-in', 'bn-eman']
    schemes = sorted({s for s, _ in cells}, key=lambda s: (order.index(s) if s in order else len(order), s))
    lines = ['| student-teacher | ' + ' | '.join(methods) + ' |', '|---|' + '---|' * len(methods)]
    for s in schemes:
        row = []
        for m in methods:
            v = cells.get((s, m))
            if not v:
                row.append('-')
            elif len(v) == 1:
                row.append(f'{v[0]:.2f} (1)')
            else:
                row.append(f'{mean(v):.2f} ± {stdev(v):.2f} ({len(v)})')
        lines.append(f'| {s} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def plot(runs: List[dict], path: str) -> None:
    """One row of panels per method: training loss and accuracy curve, one line per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = sorted({r['method'] for r in runs})
    fig, axes = plt.subplots(len(methods), 2, figsize=(11, 3.6 * len(methods)), squeeze=False)
    for (ax_loss, ax_acc), method in zip(axes, methods):
        mine = sorted((r for r in runs if r['method'] == method), key=lambda r: (r['scheme'], str(r['seed'])))
        for i, r in enumerate(mine):  # one colour per run in both panels
            label = r['scheme'] + (f' (seed {r["seed"]})' if r['seed'] is not None else '')
            if r['loss']:
                ax_loss.plot(*zip(*r['loss']), label=label, alpha=0.8, color=f'C{i % 10}')
            ax_acc.plot(*zip(*r['metric']), marker='o', label=label, color=f'C{i % 10}')
        if not any(r['loss'] for r in mine):
            ax_loss.text(0.5, 0.5, 'no loss curve recorded', ha='center', va='center',
                         transform=ax_loss.transAxes)
        ax_loss.set(title=f'{method}: training loss', xlabel='iteration', ylabel='loss')
        name = next(r['metric_name'] for r in runs if r['method'] == method)
        ax_acc.set(title=f'{method}: {"test " + name if method == "FixMatch" else name}',
                   xlabel='iteration' if method == 'FixMatch' else 'epoch', ylabel='accuracy (%)')
        ax_acc.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
