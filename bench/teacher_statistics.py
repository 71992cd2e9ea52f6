"""Do an EMA teacher's statistics match its weights?  For every epoch checkpoint of finished
runs, the kNN top-1 of the student's and the teacher's backbone with the statistics they hold
and with statistics re-estimated from their own weights on N training batches (precise BN,
``emanplug-test --precise-bn N``), and how far apart the two sets of statistics are.

    python bench/teacher_statistics.py WORK_DIR [WORK_DIR ...] [--batches 20]
        [--epochs 4 8] [--records docs/results/runs/teacher_statistics] [--out docs/results/teacher_statistics]

WORK_DIR: a run of emanplug-run-table (``<config>/seed<k>``, its config and ``epoch_*.pth``
inside; keep the checkpoints with ``--cfg-options default_hooks.checkpoint.max_keep_ckpts=-1``).
One record per run in --records (JSON; checkpoints already measured are skipped, so the
command resumes); --out gets the Markdown table of every record there.  With no WORK_DIR the
table is rebuilt from the records alone.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import tempfile


KEYS = ('knn/student_top1', 'knn/student_precisebn_top1', 'knn/teacher_top1', 'knn/student_teacher_cos',
        'knn/teacher_precisebn_top1', 'precisebn/student_gap_mean',
        'precisebn/student_gap_logvar', 'precisebn/teacher_gap_mean',
        'precisebn/teacher_gap_logvar')


def measure(work_dir: str, batches: int, records: str, epochs=None) -> str:
    from emanplug.cli import test as test_tool
    from emanplug.errors import ConfigError
    from emanplug.evaluation.results import load_run, run_name
    run = load_run(work_dir)
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    checkpoints = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')),
                         key=lambda p: int(re.search(r'epoch_(\d+)', p).group(1)))
    if run is None or not configs or not checkpoints:
        raise ConfigError(f'{work_dir}: needs a finished run with its config and epoch_*.pth '
                          'checkpoints; allowed: a <config>/seed<k> folder of emanplug-run-table')
    path = osp.join(records, run_name(work_dir) + '.json')
    record = dict(name=run_name(work_dir), scheme=run['scheme'], seed=run['seed'],
                  batches=batches, epochs={})
    if osp.exists(path):
        with open(path) as f:
            old = json.load(f)
        if old.get('batches') == batches:
            record['epochs'] = old['epochs']
    for ckpt in checkpoints:
        epoch = re.search(r'epoch_(\d+)', ckpt).group(1)
        if epoch in record['epochs'] or (epochs and int(epoch) not in epochs):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            results = test_tool.run([configs[0], ckpt, '--precise-bn', str(batches),
                                     '--work-dir', tmp])
        record['epochs'][epoch] = {k: round(float(results[k]), 5) for k in KEYS if k in results}
        os.makedirs(records, exist_ok=True)
        with open(path, 'w') as f:
            json.dump(record, f, indent=1)
            f.write('\n')
        print(f'{record["name"]} epoch {epoch}: {record["epochs"][epoch]}', flush=True)
    return path


def table(records: str) -> str:
    rows = ['| run | scheme | seed | epoch | student kNN: own / precise BN | teacher kNN: own / '
            'precise BN | teacher: precise - own | teacher statistics vs precise: mean / log-var gap | '
            'student-teacher feature cosine |',
            '|---|---|---|---|---|---|---|---|---|']
    for path in sorted(glob.glob(osp.join(records, '*.json'))):
        with open(path) as f:
            r = json.load(f)
        for epoch, m in sorted(r['epochs'].items(), key=lambda kv: int(kv[0])):
            def pct(key):
                return f'{100 * m[key]:.2f}' if key in m else '-'
            diff = (f'{100 * (m["knn/teacher_precisebn_top1"] - m["knn/teacher_top1"]):+.2f}'
                    if 'knn/teacher_precisebn_top1' in m else '-')
            gap = (f'{m["precisebn/teacher_gap_mean"]:.3f} / {m["precisebn/teacher_gap_logvar"]:.3f}'
                   if 'precisebn/teacher_gap_mean' in m else '-')
            rows.append(f'| {r["name"]} | {r["scheme"]} | {r["seed"]} | {epoch} | '
                        f'{pct("knn/student_top1")} / {pct("knn/student_precisebn_top1")} | '
                        f'{pct("knn/teacher_top1")} / {pct("knn/teacher_precisebn_top1")} | '
                        f'{diff} | {gap} | {m.get("knn/student_teacher_cos", float("nan")):.3f} |')
    return '\n'.join(rows) + '\n'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dirs', nargs='*')
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--epochs', type=int, nargs='+', default=None,
                        help='only the checkpoints of these epochs (default: every one)')
    parser.add_argument('--records', default='docs/results/runs/teacher_statistics')
    parser.add_argument('--out', default='docs/results/teacher_statistics')
    args = parser.parse_args(argv)
    from emanplug.cli import run_cli  # a user error is one line
    run_cli(lambda _: [measure(w, args.batches, args.records, args.epochs) for w in args.work_dirs])
    command_line = ' '.join(['python bench/teacher_statistics.py', *args.work_dirs,
                             '--batches', str(args.batches)]
                            + (['--epochs', *map(str, args.epochs)] if args.epochs else [])
                            + ['--records', args.records, '--out', args.out])
    text = (f'# Teacher statistics vs statistics of its own weights\n\nkNN top-1 (%) on the '
            f'frozen backbones; "precise BN": statistics re-estimated from the network\'s own '
            f'weights on {args.batches} training batches. Command:\n\n    {command_line}\n\n'
            + table(args.records))
    os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
    with open(args.out + '.md', 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()
