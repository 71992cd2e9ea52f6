"""Run by torchrun with 2 processes (see test_cifar_smoke.py): trains every config of the
given groups of tests/config_ledger.py (the CIFAR-10 and digits configs that the default suite
does not train: the CPU-budget families, the FixMatch 800 / 2000 / 4000 / 8000-iteration and
250-label families, the main configs, the linear / fine-tuning benchmarks, the quickstart) for
2 iterations each on a small CIFAR-10 in the ImageFolder layout, in this one process group,
each through ``emanplug.cli.train.run`` with tools/train.py's code path
(imagenet_smoke_driver.run_config: the same records, checkpoints and initialisation probe).

The configs train as they are (models, pipelines, optimizers, hooks); only the run is made
short, by a generated config that inherits the real one: 2 images per process, 2 iterations
(``num_batch_per_epoch`` in 1 epoch, or ``max_iters``), FixMatch mu 2, the kNN monitor at k 2,
no dataloader workers.  ``data/cifar10/`` becomes DATA_ROOT; every split file a config names
becomes ``DATA_ROOT/splits/smoke_test.txt`` (``test_*`` splits) or ``smoke_train.txt``
(written by the test); a ``work_dirs/RUN/epoch_N.pth`` the benchmarks start from becomes that
run's smoke checkpoint, trained first when it is missing; the family linear benchmarks
(``configs/{mocov2,byol}/benchmarks/``), whose ImageNet-stem backbone
runs with BN in eval mode, start from a random torchvision ResNet-18 in the official MoCo-EMAN /
BYOL-EMAN layout instead (a 2-iteration run's BN statistics are not its features' yet: frozen in
eval mode they grow them to ~1e21, and the first step of lr 30 / 0.4 ends in NaN).  The frozen benchmarks
(``configs/*/benchmarks/*_frozen_cifar10.py``: nothing to train) are evaluated instead, by
``emanplug.cli.test.run --protocol knn`` from that checkpoint, in this process group.

    python -m torch.distributed.run --nproc_per_node=2 tests/cifar_smoke_driver.py \\
        DATA_ROOT WORK_ROOT SUMMARY.json GROUP [GROUP ...]

Rank 0 writes ``{group: [config names]}``, seconds and, per config, run_config's record.
"""
import copy
import json
import os
import os.path as osp
import re
import sys
import time

from imagenet_smoke_driver import (CHECKPOINT_REF, changed, evaluate_frozen_config, hook_options, init_checkpoint,
                                   is_frozen, rewrite, run_config, shorten, smoke_checkpoint)

CIFAR = 'data/cifar10/'


def overrides(config, data_root, work_root):
    """``{top-level key: value}`` that make ``config`` a 2-iteration run (see the module's doc)."""
    from mmengine.config import Config

    def path(text):
        if text.startswith(CIFAR + 'splits/'):
            subset = 'test' if osp.basename(text).startswith('test_') else 'train'
            return osp.join(data_root, 'splits', f'smoke_{subset}.txt')
        if text.startswith(CIFAR):
            return osp.join(data_root, text[len(CIFAR):])
        if linear and CHECKPOINT_REF.match(text):
            return official_checkpoint(config, work_root)
        return smoke_checkpoint(text, work_root)
    linear = re.search(r'/(mocov2|byol)/benchmarks/', config.replace(os.sep, '/')) and not is_frozen(config)
    full = Config.fromfile(config).to_dict()
    cfg = rewrite(copy.deepcopy(full), path)
    shorten(cfg)
    return changed(cfg, full)


def official_checkpoint(config, work_root):
    """The official-layout ResNet-18 (random torchvision weights) a linear benchmark of
    ``config``'s family starts from (written by :func:`main`)."""
    family = 'byol' if '/byol/' in config.replace(os.sep, '/') else 'mocov2'
    return osp.join(work_root, f'official_{family}_resnet18.pth.tar')


def write_official_checkpoints(work_root):
    import torch
    import torchvision
    from test_pretrained_layouts import official_byol, official_moco

    def resnet18(seed):
        torch.manual_seed(seed)
        return {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}
    os.makedirs(work_root, exist_ok=True)
    for family, layout in (('mocov2', official_moco), ('byol', official_byol)):
        torch.save(layout(resnet18(0), resnet18(1)), official_checkpoint(f'configs/{family}/x.py', work_root))


def main(data_root, work_root, out_file, *groups):
    import torch

    import config_ledger as ledger
    from emanplug.cli.runner import distributed, load_config
    from emanplug.registry import register_all_modules
    register_all_modules()
    torch.set_num_threads(1)
    members = {group: list(map(str, ledger.configs(group))) for group in groups}
    # the runs a benchmark starts from are kept (their checkpoints are read after them)
    keep = set()
    for configs in members.values():
        for config in configs:
            match = CHECKPOINT_REF.match(init_checkpoint(load_config(config).model) or '')
            keep.update([match.group(1)] if match else [])
    summary = {}
    start = time.perf_counter()
    with distributed('pytorch', timeout=120):  # one process group for every config
        import torch.distributed as dist
        if dist.get_rank() == 0:
            write_official_checkpoints(work_root)
        dist.barrier()
        for configs in members.values():
            for config in configs:
                if not is_frozen(config):
                    run_config(config, data_root, work_root, summary, keep, overrides)
                    continue
                # a frozen benchmark: emanplug-test --protocol knn from its pretraining run's smoke
                # checkpoint (trained first when it is missing)
                run = CHECKPOINT_REF.match(init_checkpoint(load_config(config).model)).group(1)
                checkpoint = smoke_checkpoint(f'work_dirs/{run}/epoch_1.pth', work_root)
                if not osp.isfile(checkpoint):
                    run_config(osp.join(osp.dirname(osp.dirname(osp.dirname(config))), run.split('_')[0],
                                        f'{run}.py'), data_root, work_root, summary, keep, overrides)
                evaluate_frozen_config(config, checkpoint, 'knn', hook_options(data_root), work_root, summary)
    if int(os.environ.get('RANK', 0)) == 0:
        with open(out_file, 'w') as f:
            json.dump(dict(groups={g: [osp.basename(c)[:-3] for c in cs] for g, cs in members.items()},
                           seconds=round(time.perf_counter() - start, 1), runs=summary), f, indent=1)


if __name__ == '__main__':
    main(*sys.argv[1:])
