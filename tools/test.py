"""Evaluate a checkpoint (mmpretrain-style entry point).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...] [--launcher ...]

Configs with a test_dataloader and test_evaluator (classification, FixMatch) run MMEngine's
test loop.  Self-supervised configs (MoCo, BYOL) are evaluated on the frozen backbones of the
student and the teacher with the bank / query datasets of their KNNEvalHook (train / test):

    --protocol knn         kNN top-1 (the hook's k and temperature)
    --protocol lowshot     linear SVMs on 1, 2, 4, 8, 16 images per class (5 draws, C in 2^-5..2^5)
    --protocol retrieval   database = bank, queries = query set: mAP and recall over the top 1000

Results are printed and written as JSON to the work dir.
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
    parser.add_argument('--protocol', choices=['knn', 'lowshot', 'retrieval'], default='knn',
                        help='self-supervised configs: how to evaluate the frozen backbones')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def frozen_protocol(hook, runner, protocol: str) -> dict:
    """Low-shot SVM or retrieval on the hook's bank / query features, student and teacher."""
    from emanplug.evaluation import low_shot_svm, retrieval_metrics
    results = {}
    for which in hook.models:
        feats = hook.features(runner, which)
        if feats is None:
            continue
        bank, bank_y, query, query_y = feats
        if protocol == 'lowshot':
            shots = low_shot_svm(bank.numpy(), bank_y.numpy(), query.numpy(), query_y.numpy())
            results.update({f'lowshot/{which}_{k}shot': v['mean'] for k, v in shots.items()})
            results.update({f'lowshot/{which}_{k}shot_std': v['std'] for k, v in shots.items()})
        else:
            metrics = retrieval_metrics(query, query_y, bank, bank_y, top=1000)
            results.update({f'retrieval/{which}_{k}': v for k, v in metrics.items()})
    return results


def main(argv=None) -> dict:
    import emanplug
    from emanplug.apis import load_config, distributed, prepare_config
    from emanplug.evaluation import KNNEvalHook
    from mmengine.runner import Runner

    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise emanplug.ConfigError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_config(cfg, args.work_dir, config_path=args.config)
    cfg.load_from, cfg.resume = args.checkpoint, False
    if cfg.get('test_dataloader') and cfg.get('test_evaluator'):
        with distributed(args.launcher):
            return Runner.from_cfg(cfg).test()
    knn = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'KNNEvalHook']
    if not knn:
        raise emanplug.ConfigError(f'{args.config}: nothing to evaluate; allowed: a config with '
                                   'test_dataloader + test_evaluator, or a KNNEvalHook in custom_hooks')
    with distributed(args.launcher):
        runner = Runner.from_cfg(cfg)
        checkpoint = runner.load_checkpoint(args.checkpoint)
        hook = KNNEvalHook(**{k: v for k, v in knn[0].items() if k != 'type'})
        if args.protocol == 'knn':
            results = hook.evaluate(runner, checkpoint.get('meta', {}).get('epoch', 0))
        else:
            results = frozen_protocol(hook, runner, args.protocol)
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, f'{args.protocol}_results.json'), 'w') as f:
        json.dump(dict(results, checkpoint=args.checkpoint), f, indent=2)
    print(json.dumps(results))
    return results


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
