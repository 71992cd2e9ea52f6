"""Read the work dirs of finished runs and summarise them: the one table and plot writer of
emanplug (``emanplug-summarize``, ``emanplug-run-table``, ``emanplug-quickstart``).

:func:`table` is shaped like the paper's Table 1 (rows = student / teacher scheme, columns =
method, mean +- std over seeds), :func:`per_run_table` has one row per run, and
:func:`plot` draws the curves of Figure 3 (training loss and accuracy per run).

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
from typing import Dict, List, Optional, Sequence, Tuple

from . import provenance

METHODS = {'EMAMoCo': 'MoCo', 'EMABYOL': 'BYOL', 'FixMatch': 'FixMatch',
           'ImageClassifier': 'Supervised'}


FLOOR = 'untrained (floor)'
FLOOR_WARM = 'untrained, warm-started statistics'
#: Rows of :func:`table` that are not schemes, in the order they come first.
SPECIAL_ROWS = (FLOOR, FLOOR_WARM, 'supervised', 'default')


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
    warm = [h for h in cfg.get('custom_hooks') or [] if h.get('type') == 'WarmStartHook']
    if warm:  # emanplug's warm start is a row of its own: '<scheme>+warm<N>'
        scheme += f"+warm{warm[0].get('num_batches', 10)}"
    if cfg.get('row_suffix'):  # a config's own mark of what else it changes, e.g. 'm0.98'
        scheme += f"+{cfg.row_suffix}"
    losses, metrics, teacher = {}, {}, {}  # by step / epoch: a later start overrides what it repeats
    diagnostics: Dict[str, dict] = defaultdict(dict)  # TeacherDiagnosticsHook's teacher_* scalars
    for scalars in logs:
        last_iter = 0  # validation rows carry the epoch as step (0 in iteration-based loops)
        with open(scalars) as f:
            for number, line in enumerate(f, 1):
                try:  # a run killed while logging leaves a line cut off
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    from ..errors import ConfigError
                    raise ConfigError(f'{scalars} line {number} is not a JSON object ({err.msg}, column '
                                      f'{err.colno}: cut off?); allowed: one JSON object per line, as '
                                      'mmengine writes it: remove the broken line or rerun the run') from None
                if 'loss' in row:
                    losses[row['step']] = row['loss']
                    last_iter = row['step']
                for key in DIAGNOSTICS:
                    if key in row:
                        diagnostics[key][row['step']] = row[key]
                if 'knn/student_top1' in row:
                    metrics[row.get('epoch', row['step'])] = 100 * row['knn/student_top1']
                    if 'knn/teacher_top1' in row:
                        teacher[row.get('epoch', row['step'])] = 100 * row['knn/teacher_top1']
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
                metric_name='kNN top-1' if knn else 'top-1',
                teacher_metric=sorted(teacher.items()),
                diagnostics={k: sorted(v.items()) for k, v in diagnostics.items()},
                provenance=provenance.load(work_dir))


def run_name(work_dir: str) -> str:
    """A run's name: ``<config>_seed<k>`` for emanplug-run-table's ``<config>/seed<k>`` layout,
    else the work dir's own name."""
    path = osp.normpath(osp.abspath(work_dir))
    leaf = osp.basename(path)
    return f'{osp.basename(osp.dirname(path))}_{leaf}' if re.fullmatch(r'seed\d+', leaf) else leaf


#: TeacherDiagnosticsHook's scalars, MoCo's similarities (``EMAMoCo.loss``) and FixMatch's
#: mask rate and pseudo-label precision (``FixMatch.loss``), kept in run records where a run
#: logged them
DIAGNOSTICS = ('teacher_stat_gap_mean', 'teacher_stat_gap_logvar', 'teacher_output_std',
               'pos_sim', 'neg_sim', 'neg_sim_max', 'knn/student_teacher_cos',
               'mask_rate', 'pseudo_acc')
RECORD_KEYS = ('name', 'method', 'scheme', 'seed', 'metric_name', 'final', 'floor', 'metric', 'loss')
MAX_LOSS_POINTS = 400


def to_record(run: dict, extra: Sequence[str] = ('minutes', 'source', 'provenance')) -> dict:
    """The JSON-ready record of ``run`` (from :func:`load_run`): the ``RECORD_KEYS``, the
    loss curve thinned to at most ``MAX_LOSS_POINTS`` points, numbers rounded to 4
    decimals, and the keys ``extra`` where the run has them."""
    record = {k: run.get(k) for k in RECORD_KEYS}
    stride = max(1, -(-len(run['loss']) // MAX_LOSS_POINTS))
    record['loss'] = [[x, round(y, 4)] for x, y in run['loss'][::stride]]
    record['metric'] = [[x, round(y, 4)] for x, y in run['metric']]
    for key in ('final', 'floor'):  # accuracies in %: 4 decimals are more than measured
        record[key] = None if run[key] is None else round(run[key], 4)
    for key in extra:
        if run.get(key) is not None:
            record[key] = run[key]
    if run.get('diagnostics'):
        record['diagnostics'] = {k: [[x, round(y, 5)] for x, y in v]
                                 for k, v in run['diagnostics'].items()}
    if 'teacher_metric' in extra and run.get('teacher_metric') is not None:
        record['teacher_metric'] = [[x, round(y, 4)] for x, y in run['teacher_metric']]
    return record


def save_record(run: dict, directory: str) -> str:
    """Write ``run`` (from :func:`load_run`) to ``directory/<name>.json`` (:func:`to_record`).
    Returns the file's path."""
    record = to_record(run)
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
                              'written by emanplug-summarize --records') from None
        if missing or not run['metric']:
            raise ConfigError(f'run record {path} lacks {", ".join(missing) or "metric points"}; '
                              f'allowed: JSON objects with the keys {", ".join(RECORD_KEYS)}')
        run['metric'] = [tuple(p) for p in run['metric']]
        run['loss'] = [tuple(p) for p in run['loss']]
        runs.append(run)
    return runs


def row_order(row: str) -> Tuple[int, str]:
    """Sort key of a :func:`table` row: the ``SPECIAL_ROWS`` first, then the schemes in the
    order they are registered (:data:`emanplug.core.schemes.SCHEMES`: bn, syncbn, shufflebn,
    gn, in, eman, ...), a scheme's variants (``bn-eman0.9``) after its default token, and
    anything else last, by name."""
    from ..core.schemes import SCHEMES, build_scheme
    from ..errors import ConfigError
    if row in SPECIAL_ROWS:
        return SPECIAL_ROWS.index(row), row
    try:  # '<scheme>+warm<N>' (emanplug's warm start) right after its scheme
        name = build_scheme(row.partition('+')[0]).name
    except ConfigError:
        return len(SPECIAL_ROWS) + len(SCHEMES), row
    return len(SPECIAL_ROWS) + list(SCHEMES).index(name), row


def _cell(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def per_run_table(runs: List[dict]) -> str:
    """Markdown table, one row per run: the untrained network's and the final accuracy (%,
    the run's ``metric_name``: the student's kNN top-1 for MoCo / BYOL), the teacher's final
    kNN top-1 where it was logged, the gain over the untrained network, the final loss (mean
    of the last tenth of the logged losses) and the minutes, where known."""
    lines = ['| method | student-teacher | seed | untrained | final | teacher | gain | final loss | '
             'minutes |', '|---|---|---|---|---|---|---|---|---|']
    for r in sorted(runs, key=lambda r: (r['method'], row_order(r['scheme']), str(r['seed']))):
        teacher = r.get('teacher_metric') or []
        tail = [y for _, y in r['loss'][-max(1, len(r['loss']) // 10):]]
        gain = None if r.get('floor') is None else r['final'] - r['floor']
        lines.append(
            f"| {r['method']} | {r['scheme']} | {r['seed']} | {_cell(r.get('floor'))} | "
            f"{_cell(r['final'])} | {_cell(teacher[-1][1] if teacher else None)} | "
            f"{'-' if gain is None else f'{gain:+.2f}'} | "
            f"{f'{sum(tail) / len(tail):.3f}' if tail else '-'} | "
            f"{'-' if r.get('minutes') is None else format(r['minutes'], '.1f')} |")
    return '\n'.join(lines)


#: The mark of a cell that holds a transcribed run (a record with a ``source``: a number copied
#: from an earlier README, no log behind it), and the table's footnote that says so.
TRANSCRIBED = '†'
TRANSCRIBED_NOTE = (f'{TRANSCRIBED} includes runs transcribed from an earlier README (their records '
                    "carry a `source` and no log)")


def _spread(values: List[float], transcribed: bool = False) -> str:
    """A cell: ``mean ± std (n)`` (one value: ``value (1)``), ``TRANSCRIBED`` appended when a
    transcribed run is among the values."""
    mark = TRANSCRIBED if transcribed else ''
    if len(values) == 1:
        return f'{values[0]:.2f} (1){mark}'
    return f'{mean(values):.2f} ± {stdev(values):.2f} ({len(values)}){mark}'


def _footnote(runs: List[dict]) -> str:
    return f'\n\n{TRANSCRIBED_NOTE}' if any(r.get('source') for r in runs) else ''


def table(runs: List[dict]) -> str:
    """Markdown table: rows = student/teacher scheme, columns = method, cells mean +- std (n).
    Runs with a kNN accuracy before training add the row 'untrained (floor)' (warm-started
    runs, whose untrained student holds estimated statistics, the row 'untrained, warm-started
    statistics'), one value per seed: the runs of one seed share their untrained network, so it
    counts once (the mean of its runs' values, which differ only by the warm start's estimate);
    a supervised classifier's kNN accuracy is the row 'supervised' (the ceiling) of every
    MoCo/BYOL column.  Cells with a transcribed run carry ``TRANSCRIBED``."""
    cells: Dict[tuple, List[float]] = defaultdict(list)
    floors: Dict[tuple, Dict[object, List[float]]] = defaultdict(lambda: defaultdict(list))
    copied = set()
    ssl = sorted({r['method'] for r in runs if r['method'] not in ('Supervised', 'FixMatch')})
    for r in runs:
        if r['method'] == 'Supervised' and ssl:
            # a classifier of the same backbone and budget: the kNN ceiling of the SSL columns
            for m in ssl:
                cells[('supervised', m)].append(r['final'])
                copied.update([('supervised', m)] if r.get('source') else [])
            continue
        cells[(r['scheme'], r['method'])].append(r['final'])
        copied.update([(r['scheme'], r['method'])] if r.get('source') else [])
        if r.get('floor') is not None:  # a warm-started student is evaluated with its new statistics
            row = (FLOOR_WARM if '+warm' in r['scheme'] else FLOOR, r['method'])
            seed = r.get('seed')  # a run of unknown seed is its own untrained network
            floors[row][seed if seed is not None else f'run {id(r)}'].append(r['floor'])
            copied.update([row] if r.get('source') else [])
    for row, by_seed in floors.items():
        cells[row] = [mean(v) for _, v in sorted(by_seed.items(), key=lambda kv: str(kv[0]))]
    methods = sorted({m for _, m in cells})
    schemes = sorted({s for s, _ in cells}, key=row_order)
    lines = ['| student-teacher | ' + ' | '.join(methods) + ' |', '|---|' + '---|' * len(methods)]
    for s in schemes:
        row = [_spread(cells[(s, m)], (s, m) in copied) if cells.get((s, m)) else '-' for m in methods]
        lines.append(f'| {s} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + _footnote(runs)


def evaluated_every(method: str) -> str:
    """The unit of a method's evaluation points: FixMatch's loop is iteration-based, MoCo's
    and BYOL's (kNN after each epoch) epoch-based."""
    return 'iteration' if method == 'FixMatch' else 'epoch'


def epoch_table(runs: List[dict], epochs: Sequence[int]) -> str:
    """Markdown table of the accuracy at the given epochs (and the final one) per method and
    scheme, mean +- std over the runs (n), e.g. to see how early a scheme leaves the floor.
    FixMatch runs are iteration-based and evaluated every n iterations: for them ``epochs``
    are iterations, and the header says so."""
    unit = 'iteration' if all(evaluated_every(r['method']) == 'iteration' for r in runs) else 'epoch'
    lines = ['| method | student-teacher | ' + ' | '.join(f'{unit} {e}' for e in epochs) +
             ' | final | runs |', '|---|---|' + '---|' * (len(epochs) + 2)]
    groups: Dict[tuple, List[dict]] = defaultdict(list)
    for r in runs:
        groups[(r['method'], r['scheme'])].append(r)

    def cell(values: List[float]) -> str:
        if not values:
            return '-'
        return f'{values[0]:.2f}' if len(values) == 1 else f'{mean(values):.2f} ± {stdev(values):.2f}'
    for (method, scheme), group in sorted(groups.items(), key=lambda g: (g[0][0], row_order(g[0][1]))):
        at = [cell([dict(r['metric'])[e] for r in group if e in dict(r['metric'])]) for e in epochs]
        mark = TRANSCRIBED if any(r.get('source') for r in group) else ''
        lines.append(f'| {method} | {scheme} | ' + ' | '.join(at) +
                     f' | {cell([r["final"] for r in group])} | {len(group)}{mark} |')
    return '\n'.join(lines) + _footnote(runs)


LINESTYLES = ('-', '--', ':', '-.')


def plot(runs: List[dict], path: str, teacher: bool = False, title: Optional[str] = None) -> None:
    """One row of panels per method: training loss and accuracy curves.  One colour per
    scheme, one line style per seed; the untrained network (mean floor) and, where a
    supervised run of the same budget exists, the supervised ceiling are grey reference
    lines; with ``teacher=True`` the teacher's kNN curve of each run too (x markers, thinner).
    A method without any loss curve gets the accuracy panel alone (no empty panels).
    ``title`` (e.g. data, seeds, budget) heads the figure."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = sorted({r['method'] for r in runs})
    with_loss = [m for m in methods if any(r['loss'] for r in runs if r['method'] == m)]
    cols = 2 if with_loss else 1
    fig, axes = plt.subplots(len(methods), cols, figsize=(5.6 * cols, 3.8 * len(methods)),
                             squeeze=False)
    ceiling = [r['final'] for r in runs if r['method'] == 'Supervised']
    for row, method in zip(axes, methods):
        ax_acc, ax_loss = row[-1], (row[0] if cols == 2 else None)
        mine = [r for r in runs if r['method'] == method]
        schemes = sorted({r['scheme'] for r in mine}, key=row_order)
        seeds = sorted({str(r['seed']) for r in mine})
        colour = {s: f'C{i % 10}' for i, s in enumerate(schemes)}
        style = {seed: LINESTYLES[i % len(LINESTYLES)] for i, seed in enumerate(seeds)}
        for r in sorted(mine, key=lambda r: (row_order(r['scheme']), str(r['seed']))):
            label = r['scheme'] + (f' seed {r["seed"]}' if r['seed'] is not None else '')
            line = dict(color=colour[r['scheme']], linestyle=style[str(r['seed'])])
            if ax_loss is not None and r['loss']:
                ax_loss.plot(*zip(*r['loss']), label=label, alpha=0.8, linewidth=1, **line)
            ax_acc.plot(*zip(*r['metric']), marker='o', markersize=3, label=label, **line)
            if teacher and r.get('teacher_metric'):
                ax_acc.plot(*zip(*r['teacher_metric']), marker='x', linewidth=0.8, alpha=0.6,
                            label=f'{label} (teacher)', **line)
        floors = [r['floor'] for r in mine if r.get('floor') is not None]
        if floors:
            ax_acc.axhline(mean(floors), color='0.5', linestyle=':', linewidth=1,
                           label=f'untrained network ({mean(floors):.1f})')
        top = [r['final'] for r in mine if r['scheme'] == 'supervised'] or (
            ceiling if method not in ('Supervised', 'FixMatch') else [])
        if top:
            ax_acc.axhline(mean(top), color='0.3', linestyle='--', linewidth=1,
                           label=f'supervised, same budget ({mean(top):.1f})')
        if ax_loss is not None:
            if method in with_loss:
                ax_loss.set(title=f'{method}: training loss', xlabel='iteration', ylabel='loss')
                ax_loss.legend(fontsize=7)
            else:
                fig.delaxes(ax_loss)
        name = next(r['metric_name'] for r in mine)
        ax_acc.set(title=f'{method}: {"test " + name if method == "FixMatch" else name}',
                   xlabel=evaluated_every(method), ylabel='accuracy (%)')
        ax_acc.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


#: Axis titles of :func:`plot_curves` panels.
CURVE_TITLES = {
    'loss': 'training loss',
    'pos_sim': 'query-key similarity (positive)',
    'neg_sim': 'query-queue similarity (mean negative)',
    'neg_sim_max': 'query-nearest-queue similarity (hardest negative)',
    'teacher_stat_gap_mean': 'teacher statistics vs its inputs (mean, sd units)',
    'teacher_stat_gap_logvar': 'teacher statistics vs its inputs (|log var ratio|)',
    'teacher_output_std': 'teacher output spread',
    'knn/student_teacher_cos': 'student-teacher feature similarity (kNN queries)',
    'mask_rate': 'FixMatch mask rate (unlabeled images over the threshold)',
    'pseudo_acc': 'FixMatch pseudo-label precision (of those over it)',
}


def curve(run: dict, key: str) -> List[Tuple[float, float]]:
    """The recorded curve ``key`` of ``run``: ``'loss'`` or one of its ``diagnostics``."""
    points = run.get('loss') if key == 'loss' else (run.get('diagnostics') or {}).get(key)
    return [tuple(p) for p in points or []]


def plot_curves(runs: List[dict], path: str, keys: Sequence[str],
                title: Optional[str] = None) -> List[str]:
    """Training curves side by side (3 panels a row), one panel per key of ``keys`` that some run recorded
    (``'loss'`` and the ``DIAGNOSTICS``; see ``CURVE_TITLES``), iterations on x; one colour
    per scheme, one line style per seed, as in :func:`plot`.  Returns the keys drawn."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    drawn = [k for k in keys if any(curve(r, k) for r in runs)]
    if not drawn:
        return []
    cols = min(3, len(drawn))
    rows = -(-len(drawn) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(drawn):]:  # no empty panels
        fig.delaxes(ax)
    schemes = sorted({r['scheme'] for r in runs}, key=row_order)
    seeds = sorted({str(r['seed']) for r in runs})
    colour = {s: f'C{i % 10}' for i, s in enumerate(schemes)}
    style = {seed: LINESTYLES[i % len(LINESTYLES)] for i, seed in enumerate(seeds)}
    for ax, key in zip(axes.flat, drawn):
        for r in sorted(runs, key=lambda r: (row_order(r['scheme']), str(r['seed']))):
            points = curve(r, key)
            if points:
                ax.plot(*zip(*points), color=colour[r['scheme']], linestyle=style[str(r['seed'])],
                        linewidth=1, alpha=0.85, label=f'{r["method"]} {r["scheme"]} seed {r["seed"]}')
        ax.set(title=CURVE_TITLES.get(key, key), xlabel='iteration')
        ax.legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn
