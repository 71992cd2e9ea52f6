"""The quickstart: MoCo v2 with a BN teacher and with an EMAN teacher on a small real
dataset that ships with scikit-learn (handwritten digits; no download), evaluated with a
kNN classifier next to the untrained network; prints a table and writes a plot.

    bash tools/quickstart.sh            # sets up the environment on first use, then runs this
    python tools/quickstart.py [--schemes bn-bn bn-eman] [--seed 0] [--work-dir DIR]

Each run is an ordinary config in configs/quickstart/ trained by MMEngine's Runner, exactly
as ``python tools/train.py CONFIG`` would; the kNN numbers come from its KNNEvalHook.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--schemes', nargs='+', default=['bn-bn', 'bn-eman'],
                        help='scheme tokens of the configs in configs/quickstart/')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'quickstart'))
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run, e.g. train_cfg.max_epochs=2')
    return parser.parse_args(argv)


def config_for(scheme: str) -> str:
    found = sorted(glob.glob(osp.join(ROOT, 'configs', 'quickstart', f'*_{scheme}.py')))
    if not found:
        from emanplug.errors import ConfigError
        available = sorted(osp.basename(p)[:-3].rsplit('_', 1)[-1]
                           for p in glob.glob(osp.join(ROOT, 'configs', 'quickstart', '*.py')))
        raise ConfigError(f'--schemes {scheme}: no quickstart config; allowed: {", ".join(available)}')
    return found[0]


def run(scheme: str, args) -> dict:
    import train  # tools/train.py
    config = config_for(scheme)
    work_dir = osp.join(args.work_dir, scheme)
    print(f'\n=== MoCo v2, {scheme} teacher: {osp.relpath(config, ROOT)} ===', flush=True)
    start = time.time()
    runner = train.main([config, '--work-dir', work_dir, '--cfg-options',
                         f'randomness.seed={args.seed}', *args.cfg_options])
    knn = [h for h in runner.hooks if type(h).__name__ == 'KNNEvalHook'][0].history
    losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    return dict(scheme=scheme, config=osp.relpath(config, ROOT), knn=knn, losses=losses,
                seconds=time.time() - start, iters_per_epoch=runner.iter / max(runner.epoch, 1))


def table(results) -> str:
    lines = ['| teacher | untrained kNN | student kNN | teacher kNN | student gain | final loss | time |',
             '|---|---|---|---|---|---|---|']
    for r in results:
        first, last = r['knn'][0], r['knn'][-1]
        floor = first['knn/student_top1']
        tail = r['losses'][-20:]
        lines.append(f"| {r['scheme']} | {floor:.3f} | {last['knn/student_top1']:.3f} | "
                     f"{last.get('knn/teacher_top1', float('nan')):.3f} | "
                     f"{last['knn/student_top1'] - floor:+.3f} | {sum(tail) / len(tail):.3f} | "
                     f"{r['seconds']:.0f} s |")
    return '\n'.join(lines)


def plot(results, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_loss, ax_knn) = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        epochs = [i / r['iters_per_epoch'] for i in range(1, len(r['losses']) + 1)]
        ax_loss.plot(epochs, r['losses'], label=r['scheme'], alpha=0.8)
        line, = ax_knn.plot([h['epoch'] for h in r['knn']], [h['knn/student_top1'] for h in r['knn']],
                            marker='o', label=f"{r['scheme']} student")
        if 'knn/teacher_top1' in r['knn'][0]:
            ax_knn.plot([h['epoch'] for h in r['knn']], [h['knn/teacher_top1'] for h in r['knn']],
                        marker='x', linestyle='--', color=line.get_color(), label=f"{r['scheme']} teacher")
    ax_knn.axhline(results[0]['knn'][0]['knn/student_top1'], color='gray', linestyle=':',
                   label='untrained network')
    ax_loss.set(xlabel='epoch', ylabel='InfoNCE loss', title='MoCo v2 training loss')
    ax_knn.set(xlabel='epoch', ylabel='kNN top-1', title='kNN accuracy (test split)')
    ax_loss.legend()
    ax_knn.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    args = parse_args(argv)
    import emanplug  # noqa: F401
    os.makedirs(args.work_dir, exist_ok=True)
    results = [run(scheme, args) for scheme in args.schemes]
    summary = table(results)
    png = osp.join(args.work_dir, 'quickstart_curves.png')
    plot(results, png)
    with open(osp.join(args.work_dir, 'quickstart_results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(osp.join(args.work_dir, 'quickstart_table.md'), 'w') as f:
        f.write(summary + '\n')
    print('\n' + summary)
    print(f"\ncurves: {png}; "
          f'numbers: {osp.join(args.work_dir, "quickstart_results.json")}')
    return results


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
