"""Train a model from a config file with MMEngine's Runner (mmpretrain-style entry point).

    emanplug-train CONFIG [--work-dir DIR] [--resume [CKPT]] [--allow-global MODULE.CLASS] [--amp]
                          [--cfg-options key=value ...] [--launcher none|pytorch|slurm]
                          [--check-only]
    (in a checkout: python tools/train.py ...)

Without ``--work-dir`` a run writes to ``work_dirs/<config name>``, or to
``work_dirs/<config name>_scheme-<token>`` when ``--cfg-options model.scheme=...`` changes
the scheme.  Multi-process runs go through tools/dist_train.sh (torchrun) or
tools/slurm_train.sh; on machines without GPUs they use gloo.

``--resume`` onto a checkpoint that the safe loader refuses (it holds a type outside the
allow-list) stops with one line and changes nothing; ``--allow-global MODULE.CLASS`` trusts
that class (a type of the user's own hook, say) if the file is the user's own.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

from . import command


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from .checks import cfg_options_action
    parser = argparse.ArgumentParser(prog='emanplug-train', description='Train a model (emanplug)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of the work dir')
    parser.add_argument('--allow-global', action='append', default=[], metavar='MODULE.CLASS',
                        help='trust this class in checkpoints (repeatable): a checkpoint holding '
                             'one loads, still with weights_only=True; functions are never allowed')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: CUDA float16 (bfloat16 with --cfg-options '
                             'optim_wrapper.dtype=bfloat16), or bfloat16 autocast on a CPU with '
                             'native bfloat16; float32 otherwise (one line says which)')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(),
                        help='override config keys, e.g. train_cfg.max_epochs=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--check-only', action='store_true',
                        help='check the config (one-line error if it is wrong) and exit')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run(argv: Optional[Sequence[str]] = None, hooks: Sequence = ()):
    """Train as the command line ``argv`` says and return the Runner (None with
    ``--check-only``).  ``hooks``: hook instances registered on the Runner before training
    (e.g. a progress printer).  Raises ConfigError (one line) before anything is built when
    the config is wrong."""
    from ..registry import register_all_modules
    register_all_modules()  # the stack fixes first, then what the config builds

    from .checks import check_config
    from .runner import build_runner, distributed, load_config, prepare_config
    from ..checkpoint_files import allow_globals
    args = parse_args(argv)
    allow_globals(args.allow_global)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_config(cfg, args.work_dir, args.resume, args.amp, args.config, args.cfg_options)
    check_config(cfg, 'check' if args.check_only else 'train')
    if args.check_only:
        print(f'config OK: {args.config} (work dir {cfg.work_dir})')
        return None
    from ..checkpoint_files import remove_crash_leftovers
    if osp.isdir(cfg.work_dir):
        removed = remove_crash_leftovers(cfg.work_dir)
        if removed:
            print(f'[emanplug] removed {len(removed)} temporary file(s) of a save that was killed '
                  f'midway from {cfg.work_dir}: {", ".join(removed)}', file=sys.stderr, flush=True)
    with distributed(args.launcher, cfg.env_cfg.dist_cfg.get('timeout')):
        runner = build_runner(cfg)
        for hook in hooks:
            runner.register_hook(hook)
        runner.train()
    return runner


main = command(run)  # ``emanplug-train``: run() with one-line errors


if __name__ == '__main__':
    main()
