"""Summarise finished runs: a Markdown table shaped like the paper's Table 1 (rows = student /
teacher scheme, columns = method, mean +- std over seeds) and PNG curves (Figure 3 style).

    emanplug-summarize [WORK_DIR ...] [--records DIR] [--out docs/results/table]
    (in a checkout: python tools/summarize_runs.py ...)

Each WORK_DIR is a run's work dir (emanplug-train --work-dir), a folder of them, or
emanplug-run-table's --work-dir (``<config>/seed<k>`` below it).  With
``--records DIR`` every run read from a work dir is also written to DIR as a small JSON
record (commit it), and the records in DIR whose work dir is not given are summarised too:
the table survives the work dirs, e.g. on a new machine ``--records DIR`` alone rebuilds it.

    emanplug-summarize --report [docs/results/report.toml] [--check]

rewrites the results blocks of the README and docs/results/README.md from the committed run
records (``emanplug.evaluation.report``); ``--check`` only compares and fails with one line
naming the first block that differs.  A table that mixes runs of different code gets a
warning line.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence

from . import command


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-summarize', description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='*')
    parser.add_argument('--records', default=None,
                        help='folder of run records to write and to read (see above)')
    parser.add_argument('--out', default='work_dirs/summary')
    parser.add_argument('--epochs', type=int, nargs='+', default=None,
                        help='also a table of the accuracy at these epochs (mean ± std per row; '
                             'iterations for FixMatch runs)')
    parser.add_argument('--title', default=None,
                        help='title of the figure (say data, seeds and budget); default: the '
                             'number of runs and their seeds')
    parser.add_argument('--match', nargs='+', default=None, metavar='TEXT',
                        help='only the runs whose name contains one of these texts')
    parser.add_argument('--curves', nargs='+', default=None, metavar='KEY',
                        help="also OUT_curves.png: these recorded curves side by side ('loss', "
                             "'pos_sim', 'neg_sim', 'neg_sim_max', 'teacher_output_std', ...)")
    parser.add_argument('--report', nargs='?', const=DEFAULT_SPEC, default=None, metavar='SPEC',
                        help='rewrite the results blocks that the report spec lists (default spec: '
                             f'{DEFAULT_SPEC}) from its run records, instead of a table')
    parser.add_argument('--check', action='store_true',
                        help='with --report: change nothing; fail if a block differs from the records')
    return parser.parse_args(argv)


DEFAULT_SPEC = osp.join('docs', 'results', 'report.toml')


def run_report(spec_path: str, check: bool) -> list:
    """``--report``: rewrite (or check) every block of the spec; returns the stale blocks."""
    from ..errors import ConfigError
    from ..evaluation.report import Spec, update
    if not osp.isfile(spec_path):
        raise ConfigError(f'--report {spec_path}: no such file; allowed: a report spec such as '
                          f'{DEFAULT_SPEC} (run from the repository root)')
    stale = update(Spec(spec_path), check=check)
    if check and stale:
        where = ', '.join(f'{f} block {b}' for f, b in stale)
        raise ConfigError(f'results blocks differ from the run records: {where}; allowed: blocks '
                          f'written by emanplug-summarize --report {spec_path}')
    print(f"{len(stale)} block(s) {'differ' if check else 'rewritten'}"
          + (f": {', '.join(f'{f}:{b}' for f, b in stale)}" if stale else ''))
    return stale


def run(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Write the table and the curves the command line ``argv`` asks for; returns the runs
    (:func:`emanplug.evaluation.results.load_run`)."""
    from ..errors import ConfigError
    from ..evaluation.provenance import mixed_code_warning
    from ..evaluation.results import (DIAGNOSTICS, epoch_table, load_records, load_run, plot,
                                      plot_curves, save_record, table)
    args = parse_args(argv)
    if args.report:  # records only: no OpenMMLab import
        run_report(args.report, args.check)
        return []
    from ..registry import register_all_modules
    register_all_modules()  # the runs' configs import emanplug's modules
    runs = []
    for top in args.work_dirs:
        # a run's work dir, a folder of them, or emanplug-run-table's <work-dir>/<config>/seed<k>
        candidates = [top] + sorted(glob.glob(osp.join(top, '*'))) + sorted(glob.glob(osp.join(top, '*', '*')))
        for d in candidates:
            if osp.isdir(d) and glob.glob(osp.join(d, '*', 'vis_data', 'scalars.json')):
                found = load_run(d)
                if found is not None:
                    runs.append(found)
                    result = osp.join(d, 'result.json')  # emanplug-run-table's: the run time
                    if osp.isfile(result):
                        with open(result) as f:
                            found['minutes'] = json.load(f).get('minutes')
    if args.records:
        for found in runs:
            save_record(found, args.records)
        given = {found['name'] for found in runs}
        runs += [r for r in load_records(args.records) if r['name'] not in given]
    if args.match:
        runs = [r for r in runs if any(text in r['name'] for text in args.match)]
    if not runs:
        where = ', '.join(args.work_dirs + ([args.records] if args.records else [])) or 'nothing given'
        matching = f' whose name contains {" or ".join(args.match)}' if args.match else ''
        raise ConfigError(f'no finished runs{matching} under {where}; allowed: work dirs written by '
                          'emanplug-train (with */vis_data/scalars.json), or --records DIR')
    os.makedirs(osp.dirname(osp.abspath(args.out)) or '.', exist_ok=True)
    md = table(runs)
    if args.epochs:
        md += '\n\n' + epoch_table(runs, args.epochs)
    with open(args.out + '.md', 'w') as f:
        f.write(md + '\n')
    seeds = sorted({str(r['seed']) for r in runs})
    plot(runs, args.out + '.png',
         title=args.title or f'{len(runs)} runs, seeds {", ".join(seeds)} (one line style per seed)')
    if args.curves:
        drawn = plot_curves(runs, args.out + '_curves.png', args.curves, title=args.title)
        if not drawn:
            raise ConfigError(f'--curves {" ".join(args.curves)}: no run recorded any of them; '
                              f'allowed: loss, {", ".join(DIAGNOSTICS)}')
    print(md)
    warning = mixed_code_warning(runs)
    if warning:
        print(warning, file=sys.stderr)
    print(f'\n{len(runs)} runs -> {args.out}.md, {args.out}.png')
    return runs


main = command(run)  # ``emanplug-summarize``: run() with one-line errors


if __name__ == '__main__':
    main()
