"""Train a model from a config file with MMEngine's Runner (mmpretrain-style entry point).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options key=value ...] [--launcher none|pytorch|slurm]

Multi-process runs go through tools/dist_train.sh (torchrun) or tools/slurm_train.sh;
on machines without GPUs they use gloo.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Train a model (emanplug)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision (CUDA only)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_cfg.max_epochs=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--check-only', action='store_true',
                        help='check the config (one-line error if it is wrong) and exit')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    import emanplug  # noqa: F401  (registers emanplug's modules, applies the stack fixes)
    from emanplug.apis import load_config, check_config, distributed, prepare_config
    from mmengine.runner import Runner

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_config(cfg, args.work_dir, args.resume, args.amp, args.config)
    check_config(cfg)
    if args.check_only:
        print(f'config OK: {args.config}')
        return None
    with distributed(args.launcher):
        runner = Runner.from_cfg(cfg)
        runner.train()
    return runner


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
