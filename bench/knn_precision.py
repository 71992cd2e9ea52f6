"""What holding the feature bank in float16 changes in the frozen-feature protocols (kNN,
retrieval), measured on real features, side by side with float32 in one run.

    python bench/knn_precision.py CONFIG CHECKPOINT [--out docs/bench/knn_precision.md]
                                  [--cfg-options key=value ...]

CONFIG is a frozen benchmark config (``configs/{mocov2,byol}/benchmarks/*_frozen_*.py``); its
KNNEvalHook gives the bank and query images.  The backbone (the student of CHECKPOINT, any
layout ``SelfSupPretrained`` reads) extracts float32 features once; then kNN (the config's k and
temperature, and k = 20 with one vote per neighbour, Table 4's ImageNet protocol) and retrieval
(top 1000) are computed from the float32 features and from the same features rounded to
float16, as ``KNNEvalHook(feature_dtype='float16')`` holds them.  Written: the accuracies, how
many query predictions differ, the largest similarity difference, mAP and recall.
"""
import argparse
import os
import os.path as osp
import sys
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'bench', 'knn_precision.md'))
    parser.add_argument('--cfg-options', nargs='+', default=[])
    return parser.parse_args()


def extract_features(cfg):
    """float32 ``(bank, bank_labels, query, query_labels)`` of the config's backbone."""
    from mmengine.dataset import default_collate
    from mmpretrain.registry import DATASETS, MODELS
    from torch.utils.data import DataLoader

    from emanplug.evaluation.knn import extract
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'KNNEvalHook')
    out = []
    for part in ('bank', 'query'):
        loader = DataLoader(DATASETS.build(hook[part]), batch_size=hook.get('batch_size', 256),
                            num_workers=hook.get('num_workers', 2), collate_fn=default_collate)

        def batches():
            for data in loader:
                data = model.data_preprocessor(data, False)
                yield data['inputs'], torch.stack([s.gt_label.reshape(-1)[0] for s in data['data_samples']])
        out += list(extract(model.backbone, batches()))
    return out, hook


def main() -> None:
    args = parse_args()
    from mmengine.config import Config, DictAction

    from emanplug.evaluation.knn import knn_accuracy, knn_vote, nearest, retrieval_metrics
    from emanplug.registry import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict({k: DictAction._parse_iterable(v) for k, v in (o.split('=', 1) for o in args.cfg_options)})
    cfg.model.backbone.init_cfg.checkpoint = args.checkpoint
    start = time.time()
    (bank, bank_y, query, query_y), hook = extract_features(cfg)
    extracted = time.time() - start
    classes = int(max(bank_y.max(), query_y.max())) + 1
    rows, half = [], (bank.half(), query.half())
    for k, temperature, name in ((hook['k'], hook['temperature'], f"k = {hook['k']}, T = {hook['temperature']:g}"),
                                 (20, 1e9, 'k = 20, one vote each (Table 4)')):
        full_sims, full_labels = nearest(query, bank, bank_y, k)
        half_sims, half_labels = nearest(half[1], half[0], bank_y, k)
        changed = int((knn_vote(full_sims, full_labels, classes, temperature) !=
                       knn_vote(half_sims, half_labels, classes, temperature)).sum())
        acc32 = 100 * knn_accuracy(bank, bank_y, query, query_y, k=k, temperature=temperature)
        acc16 = 100 * knn_accuracy(*half[:1], bank_y, half[1], query_y, k=k, temperature=temperature)
        rows.append(f'| kNN top-1, {name} | {acc32:.2f} | {acc16:.2f} | {acc16 - acc32:+.2f} | '
                    f'{changed} of {len(query_y):,} predictions differ; largest similarity difference '
                    f'{(half_sims - full_sims).abs().max().item():.1e} |')
    r32 = retrieval_metrics(query, query_y, bank, bank_y, top=1000)
    r16 = retrieval_metrics(half[1], query_y, half[0], bank_y, top=1000)
    for key in ('mAP', 'recall'):
        rows.append(f'| retrieval {key} (top 1000) | {r32[key]:.3f} | {r16[key]:.3f} | {r16[key] - r32[key]:+.3f} | |')
    command = ' '.join(['python bench/knn_precision.py', osp.relpath(args.config, ROOT), args.checkpoint,
                        *(['--cfg-options', *args.cfg_options] if args.cfg_options else [])])
    text = '\n'.join([
        '# Feature bank in float16: what it changes', '',
        f'Command: `{command}`', '',
        f'Bank {len(bank_y):,} x {bank.shape[1]} features, {len(query_y):,} queries (extracted once in float32 in '
        f'{extracted / 60:.1f} min on {os.cpu_count()} CPU cores, torch {torch.__version__}); the same features '
        'rounded to float16, as `KNNEvalHook(feature_dtype=\'float16\')` holds them (similarities in float32 either way).', '',
        '| protocol | float32 | float16 | difference | |', '|---|---|---|---|---|', *rows, '',
        'Sharding the bank over processes changes nothing beyond the order of equal similarities '
        '(tests/test_knn_sharded.py); it divides the bank memory by the number of processes.', ''])
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    sys.exit(main())
