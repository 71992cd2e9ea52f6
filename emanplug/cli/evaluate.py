"""Evaluate a pretrained MoCo / BYOL checkpoint by the EMAN paper's Table 2 protocols, each with
its learning-rate grid, resumable, into one Markdown table beside the paper's numbers.

    emanplug-eval CONFIG_OR_CKPT [--protocols linear-10pct finetune-1pct ...] [--family mocov2|byol]
                  [--model student|teacher] [--work-dir DIR] [--procs N] [--no-grid]
                  [--cfg-options key=value ...] [--dry-run]
    (in a checkout: python tools/eval.py ...)

CONFIG_OR_CKPT: a pretraining config of emanplug (its run's last checkpoint,
``work_dirs/<config>/epoch_<max_epochs>.pth``, is evaluated) or a checkpoint file in any
layout that ``SelfSupPretrained`` reads (emanplug, the official MoCo-EMAN / BYOL-EMAN
``.pth.tar``, mmpretrain's MoCo v2 / BYOL); the family (MoCo v2 or BYOL: which configs of
``configs/{family}/benchmarks/`` and which paper numbers) is read from the config or the
checkpoint's layout, or given with ``--family``.

Protocols: ``linear-1pct``, ``linear-10pct``, ``linear-100pct``, ``finetune-1pct``,
``finetune-10pct``.  Each trains its config once per value of the config's ``lr_grid`` (the
paper's search; ``--no-grid``: the config's own value only) in
``WORK_DIR/<protocol>/<grid key>-<value>`` through ``emanplug.cli.train`` (``--procs N``:
tools/dist_train.sh); a finished run writes ``result.json`` (best top-1 over the epochs and
its top-5, as the official scripts report) and is skipped when the command runs again, an
interrupted one resumes from its last checkpoint.  After every run ``WORK_DIR/table.md`` is
rewritten: per protocol the best grid value's top-1 / top-5 and every value's top-1, beside
Table 2's numbers for the same protocol (the benchmark metafile's ``Results``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import time
from typing import Dict, List, Optional, Sequence, Tuple

from . import CONFIG_ROOT, command
from ..errors import ConfigError

PROTOCOLS = ('linear-1pct', 'linear-10pct', 'linear-100pct', 'finetune-1pct', 'finetune-10pct')
FAMILIES = {'EMAMoCo': 'mocov2', 'EMABYOL': 'byol', 'MoCo': 'mocov2', 'BYOL': 'byol'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-eval', description=__doc__.split('\n')[0])
    parser.add_argument('source', metavar='CONFIG_OR_CKPT')
    parser.add_argument('--protocols', nargs='+', default=['linear-10pct'], choices=PROTOCOLS)
    parser.add_argument('--family', choices=sorted(set(FAMILIES.values())),
                        help='default: read from the config or the checkpoint')
    parser.add_argument('--model', choices=['student', 'teacher'], default='student',
                        help="the pretrained network evaluated (default: student, as the paper)")
    parser.add_argument('--work-dir', default=None, help='default: work_dirs/eval_<source name>')
    parser.add_argument('--procs', type=int, default=1, help='processes per run (torchrun)')
    parser.add_argument('--no-grid', action='store_true', help="only each config's own learning rate")
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed to every run')
    parser.add_argument('--dry-run', action='store_true', help='print what would run')
    return parser.parse_args(argv)


def protocol_config(family: str, protocol: str) -> str:
    """The evaluation config of ``protocol`` for ``family``
    (``configs/<family>/benchmarks/resnet50_<family>-pre_8xb32-<kind>-steplr-50e_in1k[-Npct].py``)."""
    kind, share = protocol.split('-')
    suffix = '' if share == '100pct' else f'-{share}'
    path = osp.join(CONFIG_ROOT, family, 'benchmarks',
                    f'resnet50_{family}-pre_8xb32-{kind}-steplr-50e_in1k{suffix}.py')
    if not osp.isfile(path):
        raise ConfigError(f'--protocols {protocol}: no config {path}; allowed: {", ".join(PROTOCOLS)}')
    return path


def resolve_source(source: str, family: Optional[str]) -> Tuple[str, str]:
    """``(checkpoint, family)`` of CONFIG_OR_CKPT (see the module's doc)."""
    if not osp.exists(source):
        raise ConfigError(f'CONFIG_OR_CKPT {source!r} does not exist; allowed: a pretraining config '
                          '(configs/mocov2/*_in1k_*.py) or a checkpoint file')
    if source.endswith('.py'):
        from mmengine.config import Config
        cfg = Config.fromfile(source)
        family = family or FAMILIES.get(str(cfg.model.type).split('.')[-1])
        checkpoint = osp.join('work_dirs', osp.splitext(osp.basename(source))[0],
                              f'epoch_{cfg.train_cfg.max_epochs}.pth')
        if not osp.isfile(checkpoint):
            raise ConfigError(f'{source}: its checkpoint {checkpoint} does not exist; allowed: train it '
                              f'first (emanplug-train {source}) or give the checkpoint file')
    else:
        checkpoint = source
        if family is None:
            from ..checkpoint_files import load_checkpoint_file
            from ..models.pretrained import find_layout
            loaded = load_checkpoint_file(source, map_location='cpu')
            state = loaded.get('state_dict', loaded)
            plain = {k[len('module.'):] if k.startswith('module.') else k for k in state}
            name = find_layout(dict.fromkeys(plain), source).name
            found = re.search(r"type='(EMAMoCo|EMABYOL)'", str(loaded.get('meta', {}).get('cfg', '')))
            family = ('mocov2' if 'MoCo' in name else 'byol' if 'BYOL' in name
                      else FAMILIES[found.group(1)] if found else None)
    if family is None:
        raise ConfigError(f'{source}: cannot tell MoCo v2 from BYOL; allowed: --family mocov2 or --family byol')
    return checkpoint, family


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


def paper_result(config: str) -> Optional[dict]:
    """Table 2's top-1 / top-5 for this protocol (the benchmark metafile's ``Results``)."""
    import yaml
    with open(osp.join(osp.dirname(config), 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    relative = osp.relpath(config, osp.dirname(CONFIG_ROOT))
    entries = [m for m in meta['Models'] if m['Config'] == relative] + \
        [c for c in meta['Collections'] if c['Main Config'] == relative]
    return entries[0]['Results'][0] if entries else None


def write_table(path: str, family: str, checkpoint: str, model: str, results: Dict[str, List[dict]]) -> None:
    """The Table-2-shaped Markdown table of the finished runs."""
    lines = [f'# {family} {model} of `{checkpoint}`: EMAN paper Table 2 protocols', '',
             '| protocol | grid (top-1 per value) | best | top-1 | top-5 | paper top-1 | paper top-5 |',
             '|---|---|---|---|---|---|---|']
    for protocol, runs in results.items():
        if not runs:
            continue
        best = max(runs, key=lambda r: r['top1'])
        paper = paper_result(protocol_config(family, protocol)) or {'Metrics': {}, 'Source': ''}
        grid = ', '.join(f"{r['value']:g}: {r['top1']:.2f}" for r in runs)
        top5 = f"{best['top5']:.2f}" if best.get('top5') is not None else '-'
        lines.append(f"| {protocol} | {grid} | {best['value']:g} | {best['top1']:.2f} | {top5} | "
                     f"{paper['Metrics'].get('Top 1 Accuracy', '-')} | {paper['Metrics'].get('Top 5 Accuracy', '-')} |")
    lines += ['', f'Paper: EMAN-{family} ResNet-50, 200 epochs (Table 2, one label set; the paper averages '
                  'five 1 % and three 10 % sets). Best = the grid value with the highest top-1.']
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def own_value(cfg, key: str) -> float:
    """The value at the dotted ``key`` of a config (the config's own learning rate)."""
    node = cfg
    for part in key.split('.'):
        node = node[part]
    return node


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, List[dict]]:
    """Train the protocol runs that are not finished and write the table; returns the
    results per protocol."""
    from ..registry import register_all_modules
    register_all_modules()
    from mmengine.config import Config

    from .run_table import train_command
    args = parse_args(argv)
    checkpoint, family = resolve_source(args.source, args.family)
    work = args.work_dir or osp.join('work_dirs', 'eval_' + osp.splitext(osp.basename(args.source))[0])
    table = osp.join(work, 'table.md')
    results: Dict[str, List[dict]] = {}
    for protocol in args.protocols:
        config = protocol_config(family, protocol)
        cfg = Config.fromfile(config)
        grid = cfg.lr_grid
        values = [own_value(cfg, grid['key'])] if args.no_grid else grid['values']
        results[protocol] = []
        for value in values:
            name = f"{grid['key'].split('.')[-1]}-{value:g}"
            directory = osp.join(work, protocol, name)
            result_file = osp.join(directory, 'result.json')
            if osp.isfile(result_file):
                with open(result_file) as f:
                    results[protocol].append(json.load(f))
                print(f'[done] {directory}: top-1 {results[protocol][-1]["top1"]:.2f}')
                continue
            extra = [f'model.backbone.init_cfg.checkpoint={checkpoint}', f'model.backbone.init_cfg.model={args.model}',
                     f"{grid['key']}={value}"]
            cmd = train_command(config, 0, directory, args.procs, extra + list(args.cfg_options))
            print(f'[run] {" ".join(cmd)}', flush=True)
            if args.dry_run:
                continue
            os.makedirs(directory, exist_ok=True)
            start = time.time()
            with open(osp.join(directory, 'train.out'), 'a') as log:
                code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
            best = best_accuracy(directory) if code == 0 else None
            if best is None:
                raise SystemExit(f'run {directory} failed (exit code {code}); see '
                                 f'{osp.join(directory, "train.out")}; rerun the command to resume')
            result = dict(protocol=protocol, config=osp.relpath(config, osp.dirname(CONFIG_ROOT)), key=grid['key'],
                          value=value, checkpoint=checkpoint, model=args.model,
                          minutes=round((time.time() - start) / 60, 1), **best)
            with open(result_file, 'w') as f:
                json.dump(result, f, indent=1)
            results[protocol].append(result)
            print(f'[done] {directory}: top-1 {result["top1"]:.2f} ({result["minutes"]} min)', flush=True)
            write_table(table, family, checkpoint, args.model, results)
    if not args.dry_run:
        os.makedirs(work, exist_ok=True)
        write_table(table, family, checkpoint, args.model, results)
        print(f'table: {table}')
    return results


main = command(run)  # ``emanplug-eval``: run() with one-line errors


if __name__ == '__main__':
    main()
