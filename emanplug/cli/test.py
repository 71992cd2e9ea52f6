"""Evaluate a checkpoint (mmpretrain-style entry point).

    emanplug-test CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...] [--launcher ...]
                  [--protocol knn|lowshot|retrieval]
    (in a checkout: python tools/test.py ...)

Configs with a test_dataloader and test_evaluator (classification, FixMatch) run MMEngine's
test loop.  Self-supervised configs (MoCo, BYOL) are evaluated on the frozen backbones of the
student and the teacher with the bank / query datasets of their KNNEvalHook (train / test):

    --protocol knn         kNN top-1 (the hook's k and temperature)
    --protocol lowshot     linear SVMs on 1, 2, 4, 8, 16 images per class (5 draws, C in 2^-5..2^5)
    --protocol retrieval   database = bank, queries = query set: mAP and recall over the top 1000
    --precise-bn N         with knn: also each backbone with its BN statistics re-estimated from
                           its own weights on N training batches (knn/{model}_precisebn_top1) and
                           how far its statistics are from those (precisebn/{model}_gap_*)

A frozen-backbone benchmark config (``configs/{mocov2,byol}/benchmarks/*_frozen_*.py``: a
backbone whose ``init_cfg`` is ``SelfSupPretrained``, a KNNEvalHook, no test loop) takes
CHECKPOINT as that ``init_cfg``'s checkpoint: any layout it reads (emanplug, the official
MoCo-EMAN / BYOL-EMAN ``.pth.tar``, mmpretrain), the student unless
``--cfg-options model.backbone.init_cfg.model=teacher``.

Results are printed and written as JSON to the work dir.
"""
import argparse
import json
import os
import os.path as osp
from typing import Optional, Sequence

from . import command


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from ..evaluation.protocols import PROTOCOLS
    from .checks import cfg_options_action
    parser = argparse.ArgumentParser(prog='emanplug-test', description='Evaluate a checkpoint (emanplug)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action())
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--protocol', choices=PROTOCOLS, default='knn',
                        help='self-supervised configs: how to evaluate the frozen backbones')
    parser.add_argument('--precise-bn', type=int, default=0, metavar='N',
                        help='with --protocol knn: also evaluate each backbone with its BN '
                             'statistics re-estimated from its own weights on N training batches')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run(argv: Optional[Sequence[str]] = None) -> dict:
    """Evaluate as the command line ``argv`` says; returns the metrics."""
    from ..registry import register_all_modules
    register_all_modules()  # the stack fixes first, then the adapters imported below

    from ..compat import load_checkpoint_file
    from ..errors import ConfigError
    from ..evaluation import KNNEvalHook
    from ..evaluation.protocols import evaluate_frozen, precise_bn_knn
    from .checks import check_checkpoint, check_config
    from .runner import build_runner, distributed, load_config, prepare_config
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_config(cfg, args.work_dir, config_path=args.config, options=args.cfg_options)
    init_cfg = cfg.model.get('backbone', {}).get('init_cfg') or {}
    pretrained = init_cfg.get('type') == 'SelfSupPretrained' and not cfg.get('test_evaluator')
    if pretrained:  # the backbone reads the checkpoint, in any layout, and checks every key
        init_cfg.checkpoint = args.checkpoint
    else:
        cfg.load_from = args.checkpoint
    cfg.resume = False
    check_config(cfg, 'test')
    if not pretrained:
        # refuse a checkpoint of another model before anything is written (mmengine loads with
        # strict=False and would evaluate random weights where keys are missing)
        check_checkpoint(cfg, load_checkpoint_file(args.checkpoint, map_location='cpu'), args.checkpoint)
    if args.precise_bn < 0:
        raise ConfigError(f'--precise-bn {args.precise_bn}: allowed: a number of batches >= 0')
    if args.precise_bn and args.protocol != 'knn':
        raise ConfigError(f'--precise-bn with --protocol {args.protocol}; allowed: --protocol knn')
    if cfg.get('test_dataloader') and cfg.get('test_evaluator'):
        if args.precise_bn:
            raise ConfigError(f'--precise-bn: {args.config} is evaluated by its test loop; '
                              'allowed: self-supervised configs with a KNNEvalHook')
        with distributed(args.launcher, cfg.env_cfg.dist_cfg.get('timeout')):
            return build_runner(cfg).test()
    knn = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'KNNEvalHook']
    if not knn:
        raise ConfigError(f'{args.config}: nothing to evaluate; allowed: a config with '
                          'test_dataloader + test_evaluator, or a KNNEvalHook in custom_hooks')
    with distributed(args.launcher, cfg.env_cfg.dist_cfg.get('timeout')):
        if pretrained:  # a frozen model without head: nothing for DDP to wrap (it refuses one);
            cfg.launcher = 'none'  # the hook shards the bank over the process group started above
        runner = build_runner(cfg)
        if pretrained:
            (runner.model.module if hasattr(runner.model, 'module') else runner.model).init_weights()
            checkpoint = {}
        else:
            checkpoint = runner.load_checkpoint(args.checkpoint)
        # without type and the _scope_ that mmengine marks on a config inherited across packages
        hook = KNNEvalHook(**{k: v for k, v in knn[0].items() if k not in ('type', '_scope_')})
        print(hook.memory(runner), flush=True)  # before the extraction: ImageNet's bank is GBs
        results = evaluate_frozen(hook, runner, args.protocol,
                                  epoch=checkpoint.get('meta', {}).get('epoch', 0))
        if args.precise_bn:
            results.update(precise_bn_knn(hook, runner, args.precise_bn))
    if int(os.environ.get('RANK', 0)) == 0:  # every process has the same results
        os.makedirs(cfg.work_dir, exist_ok=True)
        with open(osp.join(cfg.work_dir, f'{args.protocol}_results.json'), 'w') as f:
            json.dump(dict(results, checkpoint=args.checkpoint), f, indent=2)
    print(json.dumps(results))
    return results


main = command(run)  # ``emanplug-test``: run() with one-line errors


if __name__ == '__main__':
    main()
