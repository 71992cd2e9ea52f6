"""Evaluate a pretrained MoCo / BYOL checkpoint by the EMAN paper's protocols (Sec. 5.2): linear
classification and fine-tuning on 1 / 10 / 100 % of the labels (Table 2: each with its learning-rate
grid and label sets), kNN and retrieval (Table 4), low-shot SVMs on ImageNet and VOC07 (Table 5);
resumable, into one Markdown table beside the paper's numbers.

    emanplug-eval CONFIG_OR_CKPT [--protocols linear-10pct finetune-1pct knn retrieval lowshot ...]
                  [--family mocov2|byol] [--dataset in1k|cifar10] [--model student|teacher]
                  [--work-dir DIR] [--procs N] [--no-grid] [--label-sets N]
                  [--cfg-options key=value ...] [--dry-run]
    emanplug-eval --table WORK_DIR          (only rewrite WORK_DIR/table.md from its records)
    (in a checkout: python tools/eval.py ...)

CONFIG_OR_CKPT: a pretraining config of emanplug (its run's last checkpoint,
``work_dirs/<config>/epoch_<max_epochs>.pth``, is evaluated) or a checkpoint file in any
layout that ``SelfSupPretrained`` reads (emanplug, the official MoCo-EMAN / BYOL-EMAN
``.pth.tar``, mmpretrain's MoCo v2 / BYOL).  The family (MoCo v2 or BYOL) and the dataset
(ImageNet or CIFAR-10: which configs of ``configs/{family}/benchmarks/``) are read from the
config or the checkpoint, or given with ``--family`` / ``--dataset``.

Protocols that train (``linear-1pct``, ``linear-10pct``, ``linear-100pct``, ``finetune-1pct``,
``finetune-10pct``): the config is trained once per value of its ``lr_grid`` (the paper's
search; ``--no-grid``: the config's own value) and per label set (``label_sets`` of the config:
the paper's five 1 % and three 10 % sets; set 0 is the config's list, set s > 0 is written by
``emanplug-split --num-labeled 1% --seed s`` into ``WORK_DIR/splits/``; ``--label-sets N``
overrides the count) in ``WORK_DIR/<protocol>/set<s>/<grid key>-<value>`` through
``emanplug-train`` (``--procs N``: tools/dist_train.sh).  A run's result is its best top-1 over
the epochs and that epoch's top-5, as the official scripts report; the grid value with the best
mean over the sets is the protocol's result, mean +- sd over the sets.

Frozen protocols (``knn``, ``retrieval``, ``lowshot``, ``lowshot-voc07``): ``emanplug-test
<benchmarks/*_frozen_*.py> CHECKPOINT --protocol ...`` (``--procs N``: tools/dist_test.sh, the
feature bank sharded over the processes, its memory printed before it starts).

A finished run writes ``result.json`` and is skipped when the command runs again; an interrupted
one resumes from its last checkpoint.  After every run ``WORK_DIR/table.md`` is rewritten.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from . import CONFIG_ROOT, TOOLS_DIR, command
from ..errors import ConfigError

TRAINED = ('linear-1pct', 'linear-10pct', 'linear-100pct', 'finetune-1pct', 'finetune-10pct')
FROZEN = ('knn', 'retrieval', 'lowshot', 'lowshot-voc07')
PROTOCOLS = TRAINED + FROZEN
DATASETS = ('in1k', 'cifar10')
FAMILIES = {'EMAMoCo': 'mocov2', 'EMABYOL': 'byol', 'MoCo': 'mocov2', 'BYOL': 'byol'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-eval', description=__doc__.split('\n')[0])
    parser.add_argument('source', metavar='CONFIG_OR_CKPT', nargs='?')
    parser.add_argument('--protocols', nargs='+', default=['linear-10pct'], choices=PROTOCOLS)
    parser.add_argument('--family', choices=sorted(set(FAMILIES.values())),
                        help='default: read from the config or the checkpoint')
    parser.add_argument('--dataset', choices=DATASETS,
                        help='default: read from the config or the checkpoint (in1k for released checkpoints)')
    parser.add_argument('--model', choices=['student', 'teacher'], default='student',
                        help="the pretrained network evaluated (default: student, as the paper)")
    parser.add_argument('--work-dir', default=None, help='default: work_dirs/eval_<source name>')
    parser.add_argument('--procs', type=int, default=1, help='processes per run (torchrun)')
    parser.add_argument('--no-grid', action='store_true', help="only each config's own learning rate")
    parser.add_argument('--label-sets', type=int, default=None, metavar='N',
                        help="label sets per 1 %% / 10 %% protocol (default: the config's label_sets)")
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed to every run')
    parser.add_argument('--dry-run', action='store_true', help='print what would run')
    parser.add_argument('--table', metavar='WORK_DIR',
                        help='only rewrite WORK_DIR/table.md from the runs finished there (no checkpoint needed)')
    args = parser.parse_args(argv)
    if (args.source is None) == (args.table is None):
        parser.error('give CONFIG_OR_CKPT, or --table WORK_DIR alone')
    if args.label_sets is not None and args.label_sets < 1:
        parser.error(f'argument --label-sets: {args.label_sets} is not allowed; allowed: an integer >= 1')
    if args.procs < 1:
        parser.error(f'argument --procs: {args.procs} is not allowed; allowed: an integer >= 1')
    return args


def config_name(family: str, protocol: str, dataset: str = 'in1k') -> str:
    """The file name of the evaluation config of ``protocol`` for ``family`` and the
    pretraining ``dataset`` (in ``configs/<family>/benchmarks/``)."""
    arch, run = ('resnet50', '8xb32') if dataset == 'in1k' else ('resnet18', '1xb256')
    if protocol in ('knn', 'retrieval', 'lowshot'):
        return f'{arch}_{family}-pre_frozen_{dataset}.py'
    if protocol == 'lowshot-voc07':
        return f'{arch}_{family}-pre_lowshot_voc07.py'
    kind, share = protocol.split('-')
    suffix = '' if share == '100pct' else f'-{share}'
    return f'{arch}_{family}-pre_{run}-{kind}-steplr-50e_{dataset}{suffix}.py'


def protocol_config(family: str, protocol: str, dataset: str = 'in1k') -> str:
    """The path of :func:`config_name`; a one-line error naming the protocols that have one."""
    folder = osp.join(CONFIG_ROOT, family, 'benchmarks')
    path = osp.join(folder, config_name(family, protocol, dataset))
    if not osp.isfile(path):
        allowed = [p for p in PROTOCOLS if osp.isfile(osp.join(folder, config_name(family, p, dataset)))]
        raise ConfigError(f'--protocols {protocol}: no config {path}; allowed for {family} pretrained on '
                          f'{dataset}: {", ".join(allowed) or "none"}')
    return path


def _dataset_of(text: str) -> Optional[str]:
    """``cifar10`` / ``in1k`` from a config's name or text (None: neither)."""
    for dataset, pattern in (('cifar10', r'cifar10'), ('in1k', r'in1k|imagenet|ImageNet')):
        if re.search(pattern, text):
            return dataset
    return None


def resolve_source(source: str, family: Optional[str], dataset: Optional[str] = None) -> Tuple[str, str, str]:
    """``(checkpoint, family, dataset)`` of CONFIG_OR_CKPT (see the module's doc)."""
    if not osp.exists(source):
        raise ConfigError(f'CONFIG_OR_CKPT {source!r} does not exist; allowed: a pretraining config '
                          '(configs/mocov2/*_in1k_*.py) or a checkpoint file')
    if source.endswith('.py'):
        from mmengine.config import Config
        cfg = Config.fromfile(source)
        family = family or FAMILIES.get(str(cfg.model.type).split('.')[-1])
        dataset = dataset or _dataset_of(osp.basename(source)) or _dataset_of(cfg.pretty_text)
        checkpoint = osp.join('work_dirs', osp.splitext(osp.basename(source))[0],
                              f'epoch_{cfg.train_cfg.max_epochs}.pth')
        if not osp.isfile(checkpoint):
            raise ConfigError(f'{source}: its checkpoint {checkpoint} does not exist; allowed: train it '
                              f'first (emanplug-train {source}) or give the checkpoint file')
    else:
        checkpoint = source
        from ..checkpoint_files import load_checkpoint_file
        from ..models.pretrained import find_layout
        loaded = load_checkpoint_file(source, map_location='cpu')
        state = loaded.get('state_dict', loaded)
        plain = {k[len('module.'):] if k.startswith('module.') else k for k in state}
        name = find_layout(dict.fromkeys(plain), source).name
        written = str(loaded.get('meta', {}).get('cfg', '')) if isinstance(loaded.get('meta'), dict) else ''
        found = re.search(r"type='(EMAMoCo|EMABYOL)'", written)
        family = family or ('mocov2' if 'MoCo' in name else 'byol' if 'BYOL' in name
                            else FAMILIES[found.group(1)] if found else None)
        # released checkpoints (official, mmpretrain) are ImageNet models
        dataset = dataset or (_dataset_of(written) if written else 'in1k')
    if family is None:
        raise ConfigError(f'{source}: cannot tell MoCo v2 from BYOL; allowed: --family mocov2 or --family byol')
    if dataset not in DATASETS:
        raise ConfigError(f'{source}: no evaluation configs for its dataset; allowed: a model pretrained on '
                          f'{" or ".join(DATASETS)}, or --dataset {"|".join(DATASETS)}')
    return checkpoint, family, dataset


def best_accuracy(work_dir: str) -> Optional[dict]:
    """Best validation top-1 over the epochs of a finished run, with its top-5 and epoch."""
    rows = []
    for scalars in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(scalars) as f:
            rows += [r for r in map(json.loads, filter(str.strip, f)) if 'accuracy/top1' in r]
    if not rows:
        return None
    best = max(rows, key=lambda r: r['accuracy/top1'])
    return dict(top1=best['accuracy/top1'], top5=best.get('accuracy/top5'), epoch=best['step'])


#: metafile ``Results`` task of each frozen protocol
TASKS = {'knn': 'kNN classification', 'retrieval': 'Image retrieval', 'lowshot': 'Low-shot classification',
         'lowshot-voc07': 'Low-shot classification'}


def paper_result(config: str, protocol: str = '') -> Optional[dict]:
    """The paper's numbers for this protocol (the benchmark metafile's ``Results``)."""
    import yaml
    with open(osp.join(osp.dirname(config), 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    relative = osp.relpath(config, osp.dirname(CONFIG_ROOT))
    entries = [m for m in meta.get('Models') or [] if m['Config'] == relative] + \
        [c for c in meta.get('Collections') or [] if c['Main Config'] == relative]
    results = entries[0].get('Results') or [] if entries else []
    results = [r for r in results if r.get('Task') == TASKS[protocol]] if protocol in TASKS else results
    return results[0] if results else None


def mean_sd(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    import statistics
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize_grid(runs: List[dict]) -> Tuple[float, List[dict]]:
    """``(best value, per value: value, mean / sd of top-1 and mean top-5 over the label sets)``;
    best = the highest mean top-1."""
    rows = []
    for value in sorted({r['value'] for r in runs}):
        mine = [r for r in runs if r['value'] == value]
        top1, sd = mean_sd([r['top1'] for r in mine])
        top5 = [r['top5'] for r in mine if r.get('top5') is not None]
        rows.append(dict(value=value, top1=top1, sd=sd, n=len(mine), top5=mean_sd(top5)[0] if top5 else None))
    return max(rows, key=lambda r: r['top1'])['value'], rows


def _frozen_cell(protocol: str, metrics: dict) -> Tuple[str, str]:
    """(what, our numbers) of a frozen protocol's result."""
    if protocol == 'knn':
        return 'kNN top-1', f"{metrics['top1']:.2f}"
    if protocol == 'retrieval':
        return 'mAP / recall', f"{metrics['mAP']:.2f} / {metrics['recall']:.2f}"
    shots = sorted(int(k[:-4]) for k in metrics if re.fullmatch(r'\d+shot', k))
    what = ('mAP' if protocol == 'lowshot-voc07' else 'top-1') + ' at k = ' + ', '.join(map(str, shots))
    return what, ', '.join(f"{metrics[f'{k}shot']:.2f} +- {metrics[f'{k}shot_std']:.2f}" for k in shots)


def _paper_cell(protocol: str, paper: Optional[dict]) -> str:
    if not paper:
        return '-'
    m = paper['Metrics']
    if protocol == 'knn':
        return str(m.get('Top 1 Accuracy', '-'))
    if protocol == 'retrieval':
        return f"{m.get('mAP', '-')} / {m.get('Recall', '-')}"
    return ', '.join(str(v) for k, v in m.items())


def write_table(path: str, family: str, dataset: str, checkpoint: str, model: str,
                results: Dict[str, List[dict]]) -> None:
    """The Markdown table of the finished runs: Table 2's protocols, then the frozen ones."""
    lines = [f'# {family} {model} of `{checkpoint}`: EMAN paper protocols ({dataset})', '']
    trained = {p: r for p, r in results.items() if p in TRAINED and r}
    if trained:
        lines += ['| protocol | label sets | grid: mean top-1 per value | best | top-1 (mean +- sd) | top-5 | '
                  'paper top-1 | paper top-5 |', '|---|---|---|---|---|---|---|---|']
        for protocol, runs in trained.items():
            best, rows = summarize_grid(runs)
            row = next(r for r in rows if r['value'] == best)
            paper = paper_result(protocol_config(family, protocol, dataset)) or {'Metrics': {}}
            grid = ', '.join(f"{r['value']:g}: {r['top1']:.2f}" for r in rows)
            top5 = f"{row['top5']:.2f}" if row['top5'] is not None else '-'
            lines.append(f"| {protocol} | {row['n']} | {grid} | {best:g} | {row['top1']:.2f} +- {row['sd']:.2f} | "
                         f"{top5} | {paper['Metrics'].get('Top 1 Accuracy', '-')} | "
                         f"{paper['Metrics'].get('Top 5 Accuracy', '-')} |")
        lines += ['', 'Best = the grid value with the highest mean top-1 over the label sets; a run\'s top-1 '
                      'is its best validation epoch, as the official scripts report; sd over the label sets.', '']
    frozen = {p: r for p, r in results.items() if p in FROZEN and r}
    if frozen:
        lines += ['| protocol | metric | ours | paper |', '|---|---|---|---|']
        for protocol, (result,) in frozen.items():
            what, ours = _frozen_cell(protocol, result['metrics'])
            paper = paper_result(protocol_config(family, protocol, dataset), protocol)
            lines.append(f'| {protocol} | {what} | {ours} | {_paper_cell(protocol, paper)} |')
        lines += ['', 'Low-shot: mean +- sd over the draws, at the cost C with the best mean (C in 2^-5..2^5).', '']
    paper_row = 'ResNet-50, 200 epochs, Tables 2, 4, 5' if dataset == 'in1k' else 'none at CIFAR scale'
    lines += [f'Paper: EMAN-{family} ({paper_row}).']
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def own_value(cfg, key: str) -> float:
    """The value at the dotted ``key`` of a config (the config's own learning rate)."""
    node = cfg
    for part in key.split('.'):
        node = node[part]
    return node


def label_set_files(cfg, protocol: str, count: int, work: str, dry_run: bool) -> List[Optional[str]]:
    """The label lists of ``count`` sets: set 0 is the config's list (written with seed 0 into
    ``work/splits`` if it does not exist), set s > 0 is written with seed s by emanplug-split."""
    dataset = cfg.train_dataloader.dataset
    own = dataset.get('split_file')
    if own is None:  # 100 % of the labels: one set
        return [None]
    share = protocol.split('-')[1]
    inner = dataset.dataset
    root = inner.data_root
    subset = inner.get('data_prefix') or inner.get('split') or 'train'
    files = []
    for s in range(count):
        if s == 0 and osp.isfile(own):
            files.append(own)
            continue
        path = osp.join(work, 'splits', f'{share}_seed{s}.txt')
        if not osp.isfile(path) and not dry_run:
            from . import split
            split.run([root, '--num-labeled', share.replace('pct', '%'), '--seed', str(s), '--subset', subset,
                       '--out', path])
        files.append(path)
    return files


def _record(path: str, result: dict) -> dict:
    """Write a run's ``result.json`` with where it comes from (commit, machine: provenance)."""
    from ..evaluation import provenance
    result['provenance'] = provenance.collect()
    with open(path, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def _call(cmd: List[str], directory: str) -> int:
    """Run ``cmd`` with its output in ``directory/run.out`` (tools/dist_*.sh start this Python)."""
    os.makedirs(directory, exist_ok=True)
    env = dict(os.environ, EMANPLUG_PYTHON=os.environ.get('EMANPLUG_PYTHON', sys.executable))
    with open(osp.join(directory, 'run.out'), 'a') as log:
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def _resolves(cfg, key: str) -> bool:
    """Whether every parent of the dotted ``key`` exists in ``cfg`` (so that setting it changes
    that config)."""
    node = cfg
    for part in key.split('.')[:-1]:
        if isinstance(node, (list, tuple)):
            if not (part.isdigit() and int(part) < len(node)):
                return False
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def split_options(items: Sequence[str], configs: Dict[str, str]) -> Dict[str, List[str]]:
    """``--cfg-options`` per protocol: an item goes to every config in which its key's parents
    exist (``train_cfg.*`` to the protocols that train, ``custom_hooks.0.*`` to the frozen ones);
    an item that fits none of them is a one-line error."""
    from mmengine.config import Config
    bad = [item for item in items if '=' not in item or item.startswith('=')]
    if bad:
        raise ConfigError(f'--cfg-options {bad[0]!r} is not KEY=VALUE; allowed: key=value items')
    loaded = {path: Config.fromfile(path).to_dict() for path in set(configs.values())}
    out = {protocol: [i for i in items if _resolves(loaded[path], i.split('=', 1)[0])]
           for protocol, path in configs.items()}
    unused = [i for i in items if not any(i in mine for mine in out.values())]
    if unused:
        raise ConfigError(f'--cfg-options {unused[0]}: no config of --protocols {" ".join(configs)} has '
                          f'{unused[0].split("=", 1)[0].rsplit(".", 1)[0]}; allowed: keys of those configs')
    return out


def run_trained(args, protocol: str, config: str, checkpoint: str, work: str) -> List[dict]:
    """Every (label set, grid value) run of a protocol that trains; returns their results."""
    from mmengine.config import DictAction

    from .run_table import train_command
    from .runner import load_config
    # train_dataloader.* options may move the training images the label lists are drawn from
    # (every option is checked by the run itself)
    options = {k: DictAction._parse_iterable(v) for k, v in (i.split('=', 1) for i in args.options[protocol])
               if k.startswith('train_dataloader.')}
    cfg = load_config(config, options)
    grid = cfg.lr_grid
    values = [own_value(cfg, grid['key'])] if args.no_grid else grid['values']
    count = args.label_sets or cfg.get('label_sets', 1)
    results = []
    for s, split_file in enumerate(label_set_files(cfg, protocol, count, work, args.dry_run)):
        for value in values:
            directory = osp.join(work, protocol, f'set{s}', f"{grid['key'].split('.')[-1]}-{value:g}")
            result_file = osp.join(directory, 'result.json')
            if osp.isfile(result_file):
                with open(result_file) as f:
                    results.append(json.load(f))
                print(f'[done] {directory}: top-1 {results[-1]["top1"]:.2f}')
                continue
            extra = [f'model.backbone.init_cfg.checkpoint={checkpoint}', f'model.backbone.init_cfg.model={args.model}',
                     f"{grid['key']}={value}"] + list(args.options[protocol])
            if split_file is not None:
                extra.append(f'train_dataloader.dataset.split_file={split_file}')
            cmd = train_command(config, 0, directory, args.procs, extra)
            print(f'[run] {" ".join(cmd)}', flush=True)
            if args.dry_run:
                continue
            start = time.time()
            code = _call(cmd, directory)
            best = best_accuracy(directory) if code == 0 else None
            if best is None:
                raise SystemExit(f'run {directory} failed (exit code {code}); see '
                                 f'{osp.join(directory, "run.out")}; rerun the command to resume')
            results.append(_record(result_file, dict(
                protocol=protocol, config=osp.relpath(config, osp.dirname(CONFIG_ROOT)), label_set=s,
                split_file=split_file, key=grid['key'], value=value, checkpoint=checkpoint, model=args.model,
                minutes=round((time.time() - start) / 60, 1), **best)))
            print(f'[done] {directory}: top-1 {results[-1]["top1"]:.2f} ({results[-1]["minutes"]} min)', flush=True)
    return results


#: ImageNet-1k train / val images: the memory estimate of the in1k frozen protocols without the data
IMAGENET_IMAGES = (1281167, 50000)


def memory_estimate(config: str, options: Sequence[str], procs: int) -> str:
    """The feature memory of a frozen protocol's run, before it starts
    (:func:`~emanplug.evaluation.knn.bank_memory`): the feature width of the config's backbone,
    the images of its KNNEvalHook's datasets (their annotation lists; ImageNet's sizes when the
    data is not there), ``procs`` processes and the hook's ``feature_dtype``."""
    import torch
    from mmengine.config import DictAction
    from mmpretrain.registry import DATASETS, MODELS

    from ..evaluation.knn import bank_memory
    from .runner import load_config
    cfg = load_config(config, {k: DictAction._parse_iterable(v) for k, v in (i.split('=', 1) for i in options)})
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'KNNEvalHook')
    backbone = dict(cfg.model.backbone, init_cfg=None)
    dim = MODELS.build(backbone).feat_dim
    element = getattr(torch, hook.get('feature_dtype', 'float32')).itemsize
    try:
        sizes, note = (len(DATASETS.build(hook['bank'])), len(DATASETS.build(hook['query']))), ''
    except Exception as err:  # noqa: BLE001 -- the data is not here (yet): say so, estimate ImageNet's
        if 'in1k' not in osp.basename(config):
            return f'memory estimate: the data of {osp.basename(config)} cannot be listed ({type(err).__name__})'
        sizes, note = IMAGENET_IMAGES, ' (ImageNet-1k train / val: the data is not here)'
    return f'memory estimate{note}: ' + bank_memory(*sizes, dim, procs, element)


def run_frozen(args, protocol: str, config: str, checkpoint: str, work: str) -> List[dict]:
    """The emanplug-test run of a frozen protocol; returns its result (one)."""
    directory = osp.join(work, protocol)
    result_file = osp.join(directory, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            print(f'[done] {directory}')
            return [json.load(f)]
    print(memory_estimate(config, args.options[protocol], args.procs), flush=True)
    test_protocol = 'lowshot' if protocol == 'lowshot-voc07' else protocol
    rest = ['--protocol', test_protocol, '--work-dir', directory, '--cfg-options',
            f'model.backbone.init_cfg.model={args.model}', *args.options[protocol]]
    cmd = ([sys.executable, '-m', 'emanplug.cli.test', config, checkpoint, *rest] if args.procs == 1 else
           ['bash', osp.join(TOOLS_DIR, 'dist_test.sh'), config, checkpoint, str(args.procs), *rest])
    print(f'[run] {" ".join(cmd)}', flush=True)
    if args.dry_run:
        return []
    start = time.time()
    code = _call(cmd, directory)
    written = osp.join(directory, f'{test_protocol}_results.json')
    if code != 0 or not osp.isfile(written):
        raise SystemExit(f'run {directory} failed (exit code {code}); see {osp.join(directory, "run.out")}')
    with open(written) as f:
        raw = json.load(f)
    metrics = {k.split('/', 1)[1].replace('student_', '', 1): v for k, v in raw.items() if '/' in k}
    if 'top1' in metrics:  # kNN: a fraction -> %
        metrics['top1'] = 100 * metrics['top1']
    return [_record(result_file, dict(protocol=protocol, config=osp.relpath(config, osp.dirname(CONFIG_ROOT)),
                                      checkpoint=checkpoint, model=args.model, metrics=metrics,
                                      minutes=round((time.time() - start) / 60, 1)))]


def finished(work: str) -> Dict[str, List[dict]]:
    """Every finished run under ``work`` (this command's and earlier ones'), per protocol."""
    found = {}
    for protocol in PROTOCOLS:
        files = sorted(glob.glob(osp.join(work, protocol, '**', 'result.json'), recursive=True))
        if files:
            found[protocol] = []
            for path in files:
                with open(path) as f:
                    found[protocol].append(json.load(f))
    return found


def rewrite_table(work: str) -> Dict[str, List[dict]]:
    """``WORK_DIR/table.md`` from the runs finished there (``--table``): the family and the
    dataset from their configs' paths, the checkpoint and the network from their records."""
    found = finished(work)
    runs = [r for rs in found.values() for r in rs]
    if not runs:
        raise ConfigError(f'--table {work}: no finished run (*/result.json) there; '
                          'allowed: a work dir of emanplug-eval')
    first = runs[0]
    family = first['config'].split('/')[1]
    dataset = next(d for d in DATASETS if f'_{d}' in first['config'])
    write_table(osp.join(work, 'table.md'), family, dataset, first['checkpoint'], first['model'], found)
    print(f"table: {osp.join(work, 'table.md')}")
    return found


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, List[dict]]:
    """Run the protocol runs that are not finished and write the table; returns the results
    per protocol."""
    from ..registry import register_all_modules
    register_all_modules()
    args = parse_args(argv)
    if args.table:
        return rewrite_table(args.table)
    checkpoint, family, dataset = resolve_source(args.source, args.family, args.dataset)
    work = args.work_dir or osp.join('work_dirs', 'eval_' + osp.splitext(osp.basename(args.source))[0])
    configs = {p: protocol_config(family, p, dataset) for p in args.protocols}  # every one exists
    args.options = split_options(args.cfg_options, configs)
    table = osp.join(work, 'table.md')
    results: Dict[str, List[dict]] = {}
    for protocol, config in configs.items():
        how = run_frozen if protocol in FROZEN else run_trained
        results[protocol] = how(args, protocol, config, checkpoint, work)
        if not args.dry_run:
            write_table(table, family, dataset, checkpoint, args.model, finished(work))
    if not args.dry_run:
        print(f'table: {table}')
    return results


main = command(run)  # ``emanplug-eval``: run() with one-line errors


if __name__ == '__main__':
    main()
