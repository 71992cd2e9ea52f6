"""Evaluate a checkpoint (mmpretrain-style entry point).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...] [--launcher ...]

Configs with a test_dataloader and test_evaluator (classification, FixMatch) run MMEngine's
test loop.  Self-supervised configs (MoCo, BYOL) are evaluated with their KNNEvalHook
settings: kNN top-1 of the student and teacher backbones, printed and written as JSON to
the work dir.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint (emanplug)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> dict:
    import emanplug
    from emanplug.apis import load_config, init_distributed, prepare_config
    from emanplug.evaluation import KNNEvalHook
    from mmengine.config import Config
    from mmengine.runner import Runner

    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise emanplug.ConfigError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_config(cfg, args.work_dir, config_path=args.config)
    cfg.load_from, cfg.resume = args.checkpoint, False
    init_distributed(args.launcher)
    if cfg.get('test_dataloader') and cfg.get('test_evaluator'):
        return Runner.from_cfg(cfg).test()
    knn = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'KNNEvalHook']
    if not knn:
        raise emanplug.ConfigError(f'{args.config}: nothing to evaluate; allowed: a config with '
                                   'test_dataloader + test_evaluator, or a KNNEvalHook in custom_hooks')
    runner = Runner.from_cfg(cfg)
    checkpoint = runner.load_checkpoint(args.checkpoint)
    hook_cfg = {k: v for k, v in knn[0].items() if k != 'type'}
    results = KNNEvalHook(**hook_cfg).evaluate(runner, checkpoint.get('meta', {}).get('epoch', 0))
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'knn_results.json'), 'w') as f:
        json.dump(dict(results, checkpoint=args.checkpoint), f, indent=2)
    print(json.dumps(results))
    return results


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
