"""Bad input never gives a traceback or a silent wrong result (issue 17, item 5).

Every case of CASES goes through a real entry point (the command's ``main`` in this process,
or the ``tools/*.py`` script in a subprocess for the ``proc`` cases) and must

* exit non-zero,
* end with one line ``error: ...`` that contains the case's expected pieces (the offending
  key or file) and, unless the case says otherwise, ``allowed``,
* print no traceback,
* leave every file that existed before as it was (a checkpoint and a result file are put
  into the work dir first; the inputs and the CIFAR folder are watched too) and, except for
  the cases that fail while training (``logs``), write nothing new at all.
"""
import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DIGITS = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
DIGITS_BASE = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits.py'
FIXMATCH = 'configs/fixmatch/fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000.py'
FIXMATCH_DEFAULT = 'configs/fixmatch/fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000_default.py'
MOCO_10K = 'configs/mocov2/mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman.py'
SCRIPTS = {'train': 'train.py', 'test': 'test.py', 'export': 'export_backbone.py', 'split': 'make_split.py',
           'summarize': 'summarize_runs.py'}
LAUNCH_ENV = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'SLURM_PROCID',
              'SLURM_NTASKS', 'SLURM_NODELIST', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
              'OMPI_COMM_WORLD_LOCAL_RANK')
NARROW = "backbone=dict(stem_channels=16, base_channels=16)"  # small checkpoints, fast builds


class Case(NamedTuple):
    id: str
    tool: str  # train, test, export, split, summarize (emanplug.cli.<tool>, tools/<script>)
    argv: Tuple[str, ...]  # {names} are filled from the inputs fixture and {W} (the work dir)
    expect: Tuple[str, ...]  # pieces of the last line (filled like argv)
    how: str = 'main'  # 'main': in this process; 'proc': the script in a subprocess
    env: Optional[dict] = None  # environment variables set for the case
    logs: bool = False  # fails while training: the Runner may have written its logs to {W}
    allowed: bool = True  # the last line says what is allowed
    marks: tuple = ()


def check(option: str, *expect: str, config: str = '{D}', **kw) -> Case:
    """``tools/train.py CONFIG --check-only --cfg-options OPTION``."""
    name = kw.pop('id', option.split('=')[0])
    return Case(name, 'train', (config, '--check-only', '--cfg-options', *option.split()), expect, **kw)


def train(*argv: str, expect: Tuple[str, ...], **kw) -> Case:
    """``tools/train.py`` for real (the check must stop it before the Runner is built)."""
    return Case(kw.pop('id'), 'train', ('{D}', '--work-dir', '{W}') + argv, expect, **kw)


TORCHRUN_ONE = dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1', MASTER_PORT='29581')
FM_SMALL = ('model.backbone.stem_channels=16', 'model.backbone.base_channels=16', 'model.head.in_channels=128')
def fm_data(root: str, split: str) -> str:
    """--cfg-options of the FixMatch config's training data (names filled later, like argv)."""
    return f'train_dataloader.dataset.dataset.data_root={root} train_dataloader.dataset.split_file={split}'


def m10k_data(query_root: str) -> str:
    """--cfg-options of the MoCo 10k config's data: the CIFAR subset, but the kNN queries from ``query_root``."""
    return ('train_dataloader.dataset.dataset.data_root={cifar} train_dataloader.dataset.split_file={split} '
            'custom_hooks.2.bank.dataset.data_root={cifar} custom_hooks.2.bank.split_file={split} '
            f'custom_hooks.2.query.split_file={{split}} custom_hooks.2.query.dataset.data_root={query_root}')
REFUSED = ('holds posix.system', 'refusing to load it')
TEST_DIGITS = ('{D}', '{ck_moco}', '--work-dir', '{W}')
FIXMATCH_TEST_DATA = ('--cfg-options', 'test_dataloader.dataset.data_root={cifar}')

CASES = [
    # misspelt keys: the arguments of what builds the dict, and the closest ones
    check('model.shceme=bn-eman', 'model.shceme', 'did you mean model.scheme', 'EMAMoCo'),
    check('train_cfg.max_epoch=1', 'train_cfg.max_epoch ', 'did you mean train_cfg.max_epochs'),
    check('model.backbone.dpeth=18', 'model.backbone.dpeth', 'depth'),
    check('model.neck.in_channel=256', 'model.neck.in_channel ', 'in_channels'),
    check('model.head.temprature=0.2', 'model.head.temprature', 'did you mean model.head.temperature'),
    check('optim_wrapper.optimizer.lrr=0.1', 'optim_wrapper.optimizer.lrr', 'did you mean optim_wrapper.optimizer.lr'),
    check('train_dataloader.batchsize=8', 'train_dataloader.batchsize', 'train_dataloader.batch_size'),
    check('train_dataloader.dataset.spilt=test', 'train_dataloader.dataset.spilt', 'split'),
    check('default_hooks.logger.intervall=3', 'default_hooks.logger.intervall', 'interval'),
    check('custom_hooks.1.kk=5', 'custom_hooks[KNNEvalHook].kk', 'custom_hooks[KNNEvalHook].k?'),
    check('param_scheduler.0.start_factr=0.1', 'param_scheduler[LinearLR].start_factr', 'start_factor'),
    check('randomness.sed=1', 'randomness.sed', 'randomness.seed'),
    check('model.unsup_wieght=2', 'model.unsup_wieght', 'model.unsup_weight', config='{F}', id='fixmatch-typo'),
    check('trian_cfg.max_epochs=1', "'trian_cfg' is not a key the Runner reads", 'train_cfg'),
    check('max_epochs=1', 'max_epochs is a variable of the config file', 'train_cfg.max_epochs',
          id='config-variable'),
    check('model.scheme', "argument --cfg-options: 'model.scheme' is not KEY=VALUE", id='option-without-value'),
    check('model=3', 'model=3 is not a dict', id='model-not-dict'),
    check('train_cfg=5', 'train_cfg=5 is not a dict', id='loop-not-dict'),
    check('model.type=EMAMoco', "model.type='EMAMoco' is not registered", 'EMAMoCo'),
    check('model.backbone.type=ResNet_CIFA', "model.backbone.type='ResNet_CIFA'", 'ResNet_CIFAR'),
    # types and ranges
    check('train_dataloader.batch_size=0', 'train_dataloader.batch_size=0', 'an integer >= 1', id='batch-0'),
    check('train_dataloader.batch_size=-4', 'train_dataloader.batch_size=-4', 'an integer >= 1', id='batch-neg'),
    check('train_dataloader.batch_size=2.5', 'train_dataloader.batch_size=2.5', 'an integer', id='batch-float'),
    check('train_dataloader.num_workers=-1', 'train_dataloader.num_workers=-1', '>= 0'),
    check('train_dataloader.persistent_workers=True', 'train_dataloader.persistent_workers=True',
          'num_workers=0'),
    check('custom_hooks.1.batch_size=0', 'custom_hooks[KNNEvalHook].batch_size=0', '>= 1', id='knn-batch-0'),
    check('train_cfg.max_epochs=0', 'train_cfg.max_epochs=0', 'an integer >= 1', id='epochs-0'),
    check('train_cfg.max_epochs=-3', 'train_cfg.max_epochs=-3', 'an integer >= 1', id='epochs-neg'),
    check('train_cfg.max_epochs=ten', "train_cfg.max_epochs='ten'", 'an integer', id='epochs-text'),
    check('train_cfg.max_iters=0', 'train_cfg.max_iters=0', '>= 1', config='{F}', id='iters-0'),
    check('optim_wrapper.optimizer.lr=abc', "optim_wrapper.optimizer.lr='abc'", 'a number > 0', id='lr-text'),
    check('optim_wrapper.optimizer.lr=0', 'optim_wrapper.optimizer.lr=0', 'a number > 0', id='lr-0'),
    check('optim_wrapper.optimizer.lr=-0.1', 'optim_wrapper.optimizer.lr=-0.1', '> 0', id='lr-neg'),
    check('optim_wrapper.optimizer.momentum=1.5', 'optim_wrapper.optimizer.momentum=1.5', '[0, 1]'),
    check('optim_wrapper.optimizer.weight_decay=-0.0001', 'optim_wrapper.optimizer.weight_decay', '>= 0'),
    check('model.teacher_momentum=1.5', 'model.teacher_momentum=1.5', '[0, 1]', id='teacher-momentum'),
    check('model.teacher_momentum=fast', "model.teacher_momentum='fast'", 'not a number', id='momentum-text'),
    check('model.queue_len=0', 'model.queue_len=0', '>= 1'),
    check('model.head.temperature=0', 'model.head.temperature=0', '> 0'),
    check('custom_hooks.1.k=0', 'custom_hooks[KNNEvalHook].k=0', '>= 1', id='knn-k-0'),
    check('default_hooks.logger.interval=0', 'default_hooks.logger.interval=0', '>= 1'),
    check('randomness.seed=-1', 'randomness.seed=-1', 'an integer in [0,'),
    check('model.unsup_weight=-1', 'model.unsup_weight=-1', '>= 0', config='{F}'),
    check('model.threshold=1.5', 'model.threshold=1.5', '[0, 1]', config='{F}'),
    check('train_dataloader.dataset.mu=0', 'train_dataloader.dataset.mu=0', '>= 1', config='{F}'),
    # schemes and hooks
    check('model.scheme=bn-fancy', "scheme='bn-fancy' is unknown", 'eman', id='scheme-unknown'),
    check('model.scheme=gn-eman', "scheme='gn-eman'", 'allowed: bn-eman', id='scheme-student-norm'),
    check('model.scheme.type=shufflebn model.scheme.num_splits=5', 'train_dataloader.batch_size=64',
          'num_splits=5', config='{D0}', id='shufflebn-splits'),
    check('custom_hooks=[]', 'custom_hooks has no EMANHook', "dict(type='EMANHook')", id='no-eman-hook'),
    # data that is not there
    check('train_dataloader.dataset.dataset.data_root={W}/nowhere',
          "train_dataloader.dataset.dataset.data_root='{W}/nowhere' does not exist", config='{F}',
          id='fixmatch-data-root'),
    check('train_dataloader.dataset.dataset.data_root={cifar} train_dataloader.dataset.split_file={W}/no.txt',
          "train_dataloader.dataset.split_file='{W}/no.txt' does not exist", 'make_split.py',
          config='{F}', id='fixmatch-split-file'),
    check('train_dataloader.dataset.dataset.data_root={cifar} train_dataloader.dataset.split_file={split} '
          'custom_hooks.2.bank.dataset.data_root={cifar} custom_hooks.2.bank.split_file={W}/no.txt',
          "custom_hooks[KNNEvalHook].bank.split_file='{W}/no.txt' does not exist", config='{M10k}',
          id='knn-bank-split-file'),
    Case('resume-missing', 'train', ('{D}', '--check-only', '--resume', '{W}/none.pth'),
         ("load_from='{W}/none.pth'", 'does not exist')),
    Case('config-top-level-typo', 'train', ('{top_typo_cfg}', '--check-only'),
         ("config key 'default_hook' is not a key the Runner reads", 'did you mean default_hooks')),
    Case('config-missing', 'train', ('{W}/nope.py', '--check-only'), ("config file '{W}/nope.py' does not exist",),
         allowed=False),
    Case('config-syntax', 'train', ('{broken_cfg}', '--check-only'), ('config {broken_cfg}: ',), allowed=False),
    # a config file is Python: an error its code raises names the file and line
    Case('config-name-error', 'train', ('{nameerr_cfg}', '--check-only'),
         ("config {nameerr_cfg}: NameError: name 'undefined_name' is not defined ({nameerr_cfg} line 2)",)),
    Case('config-name-error-in-base', 'train', ('{nameerr_child_cfg}', '--work-dir', '{W}'),
         ('config {nameerr_child_cfg}: NameError', '({nameerr_cfg} line 2)')),
    Case('config-raises', 'train', ('{raising_cfg}', '--check-only'),
         ('config {raising_cfg}: AssertionError: set data_root first ({raising_cfg} line 2)',)),
    # a split that selects nothing, in both published formats
    *(Case(f'split-{name}selects-nothing', 'train',
           ('{F}', '--work-dir', '{W}', '--cfg-options', *fm_data('{cifar}', '{%s}' % key).split(),
            'val_dataloader.dataset.data_root={cifar}', 'test_dataloader.dataset.data_root={cifar}', *FM_SMALL),
           ("split file '{%s}' lists no images" % key,))
      for name, key in (('', 'split_none'), ('index-', 'split_index_none'))),
    # data folders without images (mmpretrain: "Found 0 files in subfolders", a traceback)
    check(fm_data('{data_empty}', '{split_ab}'),
          'train_dataloader.dataset.dataset: image folder {data_empty}/train is empty', 'ImageFolder layout',
          config='{F}', id='data-train-and-test-empty'),
    Case('data-class-folders-without-images', 'train', ('{F}', '--work-dir', '{W}', '--cfg-options',
                                                        *fm_data('{data_noimg}', '{split_ab}').split(),
                                                        *FM_SMALL),
         ('train_dataloader.dataset.dataset: the class folders of {data_noimg}/train (a, b) hold no image',)),
    check(fm_data('{cifar}', '{split}') + ' val_dataloader.dataset.data_root={data_empty}',
          'val_dataloader.dataset: image folder {data_empty}/test is empty', config='{F}', id='data-val-empty'),
    check(m10k_data('{data_noimg}'), 'custom_hooks[KNNEvalHook].query.dataset: the class folders of '
          '{data_noimg}/test', 'hold no image', config='{M10k}', id='data-knn-query-without-images'),
    check(fm_data('{cifar}', '{split}') + ' train_dataloader.dataset.dataset.data_prefix=test/airplane',
          'train_dataloader.dataset.dataset: image folder {cifar}/test/airplane holds no class folders', config='{F}',
          id='data-prefix-is-a-class-folder'),
    Case('test-data-test-empty', 'test', ('{F}', '{ck_fixmatch}', '--work-dir', '{W}', '--cfg-options',
                                          'test_dataloader.dataset.data_root={data_empty}', *FM_SMALL),
         ('test_dataloader.dataset: image folder {data_empty}/test is empty',)),
    Case('split-class-folders-without-images', 'split', ('{data_noimg}', '--num-labeled', '2', '--out', '{W}/s.txt'),
         ("image folder '{data_noimg}/train' holds no images in class folders",)),
    Case('split-data-empty', 'split', ('{data_empty}', '--num-labeled', '2', '--out', '{W}/s.txt'),
         ("image folder '{data_empty}/train' holds no images in class folders (it has none)",)),
    # checkpoints that the safe loader refuses: one line, nothing loaded, run or written
    Case('resume-refused-auto', 'train', ('{D}', '--work-dir', '{payload_run}', '--resume'),
         ('--resume: checkpoint {payload_run}/epoch_1.pth holds posix.system', 'another --work-dir',
          'nothing in {payload_run} was changed')),
    Case('resume-refused-file', 'train', ('{D}', '--work-dir', '{W}', '--resume', '{ck_payload}'),
         ('--resume: checkpoint {ck_payload} holds posix.system', 'posix.system is never allowed')),
    Case('resume-unknown-class', 'train', ('{D}', '--work-dir', '{W}', '--resume', '{ck_timedelta}'),
         ('checkpoint {ck_timedelta} holds datetime.timedelta', '--allow-global datetime.timedelta')),
    Case('allow-global-function', 'train', ('{D}', '--check-only', '--allow-global', 'posix.system'),
         ('--allow-global posix.system is not allowed',)),
    Case('allow-global-not-a-class', 'train', ('{D}', '--check-only', '--allow-global', 'json.dumps'),
         ('--allow-global json.dumps is a function, not a class',)),
    Case('allow-global-unknown', 'train', ('{D}', '--check-only', '--allow-global', 'nosuchmodule.Thing'),
         ("--allow-global nosuchmodule.Thing cannot be imported (No module named 'nosuchmodule')",)),
    Case('load-from-refused', 'train', ('{D}', '--work-dir', '{W}', '--cfg-options', 'load_from={ck_payload}',
                                        'train_dataloader.num_batch_per_epoch=1'),
         ('checkpoint {ck_payload}',) + REFUSED, logs=True),
    Case('test-refused-ckpt', 'test', ('{D}', '{ck_payload}', '--work-dir', '{W}'), ('checkpoint {ck_payload}',) + REFUSED),
    Case('export-refused-ckpt', 'export', ('{ck_payload}', '--out', '{W}/x.pth'), ('checkpoint {ck_payload}',) + REFUSED),
    # tools/summarize_runs.py
    Case('summarize-scalars-cut-off', 'summarize', ('{cut_run}', '--out', '{W}/summary'),
         ('{cut_scalars} line 3 is not a JSON object',)),
    Case('summarize-no-runs', 'summarize', ('{W}', '--out', '{W}/summary'), ('no finished runs under {W}',)),
    # outputs in places that cannot be written
    Case('work-dir-is-file', 'train', ('{D}', '--check-only', '--work-dir', '{file}'),
         ("work_dir='{file}' is a file",)),
    Case('work-dir-under-file', 'train', ('{D}', '--check-only', '--work-dir', '{file}/sub'),
         ("work_dir='{file}/sub'", 'is a file')),
    Case('work-dir-read-only', 'train', ('{D}', '--check-only', '--work-dir', '{ro}/w'),
         ("work_dir='{ro}/w' cannot be written",)),
    # how the processes are started (checked when training starts, not by --check-only)
    train('--launcher', 'pytorch', id='launcher-pytorch-no-env',
          expect=('--launcher pytorch needs RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT', 'torchrun')),
    train('--launcher', 'slurm', id='launcher-slurm-no-env', expect=('--launcher slurm needs SLURM_PROCID',)),
    train('--launcher', 'mpi', id='launcher-mpi-no-env', expect=('--launcher mpi needs OMPI_COMM_WORLD_RANK',)),
    train('--launcher', 'pytorch', id='world-size-text', env=dict(TORCHRUN_ONE, WORLD_SIZE='two'),
          expect=("WORLD_SIZE='two' is not a number",)),
    train('--cfg-options', 'model.scheme=syncbn-syncbn', id='syncbn-one-process',
          expect=("model.scheme='syncbn-syncbn'", 'one process', 'dist_train.sh')),
    train('--launcher', 'pytorch', '--cfg-options', 'model.scheme=syncbn-syncbn', id='syncbn-world-size-1',
          env=TORCHRUN_ONE, expect=("model.scheme='syncbn-syncbn'", 'one process')),
    train('--cfg-options', 'model.scheme=bn-shufflebn', id='shufflebn-one-process',
          expect=("model.scheme='bn-shufflebn'", 'num_splits')),
    # images that cannot be decoded (while training: one line naming the file)
    Case('image-zero-byte', 'train', ('{img_cfg_empty}', '--work-dir', '{W}'),
         ('image {empty_jpg} is empty (0 bytes)',), logs=True),
    Case('image-corrupt', 'train', ('{img_cfg_corrupt}', '--work-dir', '{W}'),
         ('image {corrupt_jpg} cannot be decoded',), logs=True),
    Case('image-corrupt-in-worker', 'train',
         ('{img_cfg_corrupt}', '--work-dir', '{W}', '--cfg-options', 'train_dataloader.num_workers=1'),
         ('image {corrupt_jpg} cannot be decoded',), logs=True),
    Case('image-fixmatch-labeled', 'train', ('{fm_img_cfg}', '--work-dir', '{W}'),
         ('image {corrupt_jpg} cannot be decoded',), logs=True),
    Case('image-zero-byte-validation', 'train', ('{fm_val_cfg}', '--work-dir', '{W}'),
         ('image {val_jpg} is empty (0 bytes)',), logs=True),
    Case('image-zero-byte-knn-query', 'train', ('{knn_img_cfg}', '--work-dir', '{W}'),
         ('image {val_jpg} is empty (0 bytes)',), logs=True),
    Case('test-image-zero-byte', 'test', ('{F}', '{ck_fixmatch}', '--work-dir', '{W}', '--cfg-options',
                                          'test_dataloader.dataset.data_root={images_val}', *FM_SMALL),
         ('image {val_jpg} is empty (0 bytes)',), logs=True),
    # tools/test.py: a checkpoint of another model is refused, not evaluated
    Case('test-fixmatch-ckpt-moco-config', 'test', ('{D}', '{ck_fixmatch}', '--work-dir', '{W}'),
         ('checkpoint {ck_fixmatch} does not fit', 'EMAMoCo', 'missing (queue', 'unexpected (head.fc')),
    Case('test-moco-ckpt-fixmatch-config', 'test', ('{F}', '{ck_moco}', '--work-dir', '{W}') + FIXMATCH_TEST_DATA,
         ('checkpoint {ck_moco} does not fit', 'FixMatch', 'missing (head.fc', 'unexpected (queue')),
    Case('test-no-teacher-ckpt', 'test', ('{F}', '{ck_fm_default}', '--work-dir', '{W}') + FIXMATCH_TEST_DATA,
         ('checkpoint {ck_fm_default} does not fit', 'missing (teacher.module.backbone.')),
    Case('test-exported-backbone', 'test', ('{D}', '{ck_backbone}', '--work-dir', '{W}'),
         ('checkpoint {ck_backbone} does not fit', 'missing')),
    Case('test-tensor-ckpt', 'test', ('{D}', '{ck_tensor}', '--work-dir', '{W}'),
         ('checkpoint {ck_tensor} holds a Tensor, not a state dict',)),
    Case('test-empty-state-dict', 'test', ('{D}', '{ck_emptysd}', '--work-dir', '{W}'),
         ('checkpoint {ck_emptysd} holds an empty state dict',)),
    Case('test-empty-ckpt', 'test', ('{D}', '{ck_empty}', '--work-dir', '{W}'), ('checkpoint {ck_empty} is empty',)),
    Case('test-truncated-ckpt', 'test', ('{D}', '{ck_trunc}', '--work-dir', '{W}'),
         ('checkpoint {ck_trunc} is truncated or corrupt',)),
    Case('test-text-ckpt', 'test', ('{D}', '{ck_text}', '--work-dir', '{W}'),
         ('checkpoint {ck_text} is not a torch checkpoint',)),
    Case('test-missing-ckpt', 'test', ('{D}', '{W}/none.pth', '--work-dir', '{W}'),
         ("checkpoint '{W}/none.pth' does not exist",), allowed=False),
    Case('test-config-typo', 'test', TEST_DIGITS + ('--cfg-options', 'model.shceme=bn-eman'),
         ('model.shceme', 'model.scheme')),
    Case('test-launcher-no-env', 'test', TEST_DIGITS + ('--launcher', 'pytorch'), ('--launcher pytorch needs RANK',)),
    Case('test-work-dir-is-file', 'test', ('{D}', '{ck_moco}', '--work-dir', '{file}'),
         ("work_dir='{file}' is a file",)),
    Case('test-fixmatch-data-root', 'test', ('{F}', '{ck_fixmatch}', '--work-dir', '{W}', '--cfg-options',
                                             'test_dataloader.dataset.data_root={W}/none'),
         ("test_dataloader.dataset.data_root='{W}/none' does not exist",)),
    # tools/export_backbone.py
    Case('export-no-teacher', 'export', ('{ck_fm_default}', '--model', 'teacher', '--out', '{W}/x.pth'),
         ('checkpoint {ck_fm_default}', 'no teacher backbone')),
    Case('export-exported-backbone', 'export', ('{ck_backbone}', '--out', '{W}/x.pth'),
         ('checkpoint {ck_backbone}', 'no student backbone')),
    Case('export-tensor', 'export', ('{ck_tensor}', '--out', '{W}/x.pth'),
         ('checkpoint {ck_tensor}', 'holds a Tensor, not a state dict')),
    Case('export-torchvision-cifar-stem', 'export', ('{ck_moco}', '--format', 'torchvision', '--out', '{W}/x.pth'),
         ('checkpoint {ck_moco}', '7x7 stem', '--format mmpretrain')),
    Case('export-out-read-only', 'export', ('{ck_moco}', '--out', '{ro}/x.pth'),
         ("--out='{ro}/x.pth' cannot be written",)),
    Case('export-out-is-folder', 'export', ('{ck_moco}', '--out', '{W}'), ("--out='{W}' is a folder",)),
    Case('export-out-under-file', 'export', ('{ck_moco}', '--out', '{file}/x.pth'),
         ("--out='{file}/x.pth'", 'is a file')),
    Case('export-empty-ckpt', 'export', ('{ck_empty}', '--out', '{W}/x.pth'), ('checkpoint {ck_empty} is empty',)),
    Case('export-truncated-ckpt', 'export', ('{ck_trunc}', '--out', '{W}/x.pth'),
         ('checkpoint {ck_trunc} is truncated or corrupt',)),
    Case('export-text-ckpt', 'export', ('{ck_text}', '--out', '{W}/x.pth'),
         ('checkpoint {ck_text} is not a torch checkpoint',)),
    Case('export-missing-ckpt', 'export', ('{W}/none.pth', '--out', '{W}/x.pth'), ('{W}/none.pth does not exist',),
         allowed=False),
    # tools/make_split.py
    *[Case(f'split-{name}', 'split', ('{cifar}', '--num-labeled', value, '--out', '{W}/s.txt'),
           (f'--num-labeled={value!r}', 'a fraction in (0, 1)'))
      for name, value in (('zero', '0'), ('negative', '-40'), ('zero-percent', '0%'), ('all-percent', '100%'),
                          ('not-whole', '1.5'), ('nan', 'nan'), ('text', 'many'))],
    Case('split-not-divisible', 'split', ('{cifar}', '--num-labeled', '25', '--out', '{W}/s.txt'),
         ('num_labeled=25 is not divisible by the 10 classes',)),
    Case('split-too-many', 'split', ('{cifar}', '--num-labeled', '1000', '--out', '{W}/s.txt'),
         ('num_labeled=1000 asks 100 images',)),
    Case('split-seed-negative', 'split', ('{cifar}', '--num-labeled', '20', '--seed', '-1', '--out', '{W}/s.txt'),
         ("argument --seed: '-1' is not allowed", 'an integer >= 0')),
    Case('split-missing-root', 'split', ('{W}/nowhere', '--num-labeled', '20', '--out', '{W}/s.txt'),
         ("image folder '{W}/nowhere/train' does not exist",)),
    Case('split-out-read-only', 'split', ('{cifar}', '--num-labeled', '20', '--out', '{ro}/s.txt'),
         ("--out='{ro}/s.txt' cannot be written",)),
    Case('split-out-is-folder', 'split', ('{cifar}', '--num-labeled', '20', '--out', '{W}'),
         ("--out='{W}' is a folder",)),
    # the scripts themselves, in a fresh process
    Case('proc-train-typo', 'train', ('{D}', '--check-only', '--cfg-options', 'model.shceme=bn-eman'),
         ('model.shceme', 'model.scheme'), how='proc'),
    Case('proc-train-launcher', 'train', ('{D}', '--work-dir', '{W}', '--launcher', 'pytorch'),
         ('--launcher pytorch needs RANK',), how='proc'),
    Case('proc-test-mismatch', 'test', ('{D}', '{ck_fixmatch}', '--work-dir', '{W}'),
         ('checkpoint {ck_fixmatch} does not fit',), how='proc'),
    Case('proc-export-no-teacher', 'export', ('{ck_fm_default}', '--model', 'teacher', '--out', '{W}/x.pth'),
         ('no teacher backbone',), how='proc'),
    Case('proc-split-negative', 'split', ('{cifar}', '--num-labeled', '-40', '--out', '{W}/s.txt'),
         ("--num-labeled='-40'",), how='proc'),
    Case('proc-config-name-error', 'train', ('{nameerr_cfg}', '--work-dir', '{W}'),
         ('config {nameerr_cfg}: NameError', '({nameerr_cfg} line 2)'), how='proc'),
    Case('proc-resume-refused-auto', 'train', ('{D}', '--work-dir', '{payload_run}', '--resume'),
         ('--resume: checkpoint {payload_run}/epoch_1.pth holds posix.system',), how='proc'),
    Case('proc-summarize-scalars-cut-off', 'summarize', ('{cut_run}', '--out', '{W}/summary'),
         ('{cut_scalars} line 3 is not a JSON object',), how='proc'),
    Case('proc-image-zero-byte-validation', 'train', ('{fm_val_cfg}', '--work-dir', '{W}'),
         ('image {val_jpg} is empty (0 bytes)',), how='proc', logs=True),
    Case('proc-image-in-worker', 'train',
         ('{img_cfg_corrupt}', '--work-dir', '{W}', '--cfg-options', 'train_dataloader.num_workers=1'),
         ('image {corrupt_jpg} cannot be decoded',), how='proc', logs=True),
]


def _build(config: str, extra: str = '') -> torch.nn.Module:
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(ROOT / config))
    if extra:
        cfg.merge_from_dict(extra)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


def _save(path: Path, state_dict: dict) -> str:
    torch.save({'state_dict': state_dict, 'meta': {}}, path)
    return str(path)


def _read_only_dir(path: Path) -> str:
    """A folder this process cannot write in: a chmod 555 folder, or /sys where the
    permission bits do not stop this user (root)."""
    path.mkdir()
    path.chmod(0o555)
    try:
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return str(path)
    path.chmod(0o755)
    return '/sys'


def _image_config(out: Path, base: str, data_root: Path, split: Path, fixmatch: bool = False) -> str:
    loaders = (f"train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False, dataset=dict("
               f"mu=1, split_file={str(split)!r}, dataset=dict(data_root={str(data_root)!r})))\n"
               f"val_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(data_root={str(data_root)!r}))\n"
               "test_dataloader = val_dataloader\n"
               f"model = dict({NARROW}, head=dict(in_channels=128))\n"
               "train_cfg = dict(max_iters=1, val_interval=1)\n") if fixmatch else (
               f"train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict("
               f"split_file={str(split)!r}, dataset=dict(data_root={str(data_root)!r})))\n"
               f"model = dict({NARROW}, neck=dict(in_channels=128))\n"
               "train_cfg = dict(max_epochs=1)\n")
    out.write_text(f"_base_ = {str(ROOT / base)!r}\ncustom_hooks = [dict(type='EMANHook')]\n" + loaders)
    return str(out)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, cifar_root):
    """Every file the cases name, made once: configs, checkpoints (good ones of three models,
    broken ones), broken images and configs that train on them, a file and a read-only folder."""
    from emanplug.checkpoint import part_state_dict
    d = tmp_path_factory.mktemp('bad_inputs')
    moco = _build(DIGITS).state_dict()
    small = {'model.backbone.stem_channels': 16, 'model.backbone.base_channels': 16,
             'model.head.in_channels': 128}
    paths = dict(D=str(ROOT / DIGITS), D0=str(ROOT / DIGITS_BASE), F=str(ROOT / FIXMATCH),
                 M10k=str(ROOT / MOCO_10K), cifar=str(cifar_root),
                 ck_moco=_save(d / 'moco.pth', moco),
                 ck_fixmatch=_save(d / 'fixmatch.pth', _build(FIXMATCH, small).state_dict()),
                 ck_fm_default=_save(d / 'fixmatch_default.pth', _build(FIXMATCH_DEFAULT, small).state_dict()))
    torch.save(part_state_dict(moco, 'student', 'backbone'), d / 'backbone.pth')
    torch.save(torch.zeros(3), d / 'tensor.pth')
    torch.save({'state_dict': {}}, d / 'empty_state_dict.pth')
    (d / 'empty.pth').write_bytes(b'')
    (d / 'truncated.pth').write_bytes((d / 'moco.pth').read_bytes()[:100])
    (d / 'text.pth').write_text('hello world\n')  # torch.load: KeyError, not UnpicklingError
    (d / 'broken.py').write_text('model = dict(\n')
    (d / 'top_typo.py').write_text(f"_base_ = {str(ROOT / DIGITS)!r}\ndefault_hook = dict(logger=dict(interval=5))\n")
    (d / 'a_file.txt').write_text('a file where a folder should be\n')
    paths.update({name: str(d / f'{file}.pth') for name, file in (
        ('ck_backbone', 'backbone'), ('ck_tensor', 'tensor'), ('ck_emptysd', 'empty_state_dict'),
        ('ck_empty', 'empty'), ('ck_trunc', 'truncated'), ('ck_text', 'text'))})
    paths.update(broken_cfg=str(d / 'broken.py'), top_typo_cfg=str(d / 'top_typo.py'),
                 file=str(d / 'a_file.txt'), ro=_read_only_dir(d / 'ro'))
    good = next(Path(cifar_root, 'train').rglob('*.jpg')).read_bytes()
    split = d / 'split.txt'
    split.write_text('a/0.jpg\nb/0.jpg\n')
    paths['split'] = _cifar_split(cifar_root, d)
    for kind, bad in (('empty', b''), ('corrupt', b'not a JPEG at all ' * 8)):
        root = d / f'images_{kind}'
        for subset in ('train', 'test'):
            for cls in ('a', 'b'):
                (root / subset / cls).mkdir(parents=True)
                (root / subset / cls / '0.jpg').write_bytes(bad if (subset, cls) == ('train', 'a') else good)
        paths[f'{kind}_jpg'] = str(root / 'train' / 'a' / '0.jpg')
        paths[f'img_cfg_{kind}'] = _image_config(d / f'moco_images_{kind}.py', MOCO_10K, root, split)
    (d / 'split_a.txt').write_text('a/0.jpg\n')
    paths['fm_img_cfg'] = _image_config(d / 'fixmatch_images.py', FIXMATCH, d / 'images_corrupt',
                                        d / 'split_a.txt', fixmatch=True)
    paths['split_ab'] = str(split)
    (d / 'split_none.txt').write_text('# this split selects nothing\n')  # a comment only
    (d / 'split_index_none.csv').write_text('Index\n')  # the official format's header only
    paths.update(split_none=str(d / 'split_none.txt'), split_index_none=str(d / 'split_index_none.csv'))
    paths.update(_more_inputs(d, good))
    yield paths
    if paths['ro'] != '/sys':
        Path(paths['ro']).chmod(0o755)


class Payload:
    """Unpickling it would run a command that creates ``marker`` (in the watched inputs folder)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def _more_inputs(d: Path, good: bytes) -> dict:
    """Data folders without images, a zero-byte image in the validation / test / kNN query set,
    configs whose code raises, checkpoints the safe loader refuses, a run with a cut-off log."""
    import datetime
    paths = {}
    for name, files in (('data_empty', {}), ('data_noimg', {'a/notes.txt': b'x', 'b/notes.txt': b'x'}),
                        ('images_val', {'a/0.jpg': good, 'b/0.jpg': good})):
        for subset in ('train', 'test'):
            (d / name / subset).mkdir(parents=True)
            for file, data in files.items():
                (d / name / subset / file).parent.mkdir(exist_ok=True)
                (d / name / subset / file).write_bytes(b'' if (name, subset, file) == ('images_val', 'test', 'a/0.jpg')
                                                       else data)
        paths[name] = str(d / name)
    paths['val_jpg'] = str(d / 'images_val' / 'test' / 'a' / '0.jpg')
    paths['fm_val_cfg'] = _image_config(d / 'fixmatch_val.py', FIXMATCH, d / 'images_val', d / 'split_a.txt',
                                        fixmatch=True)
    with open(paths['fm_val_cfg'], 'a') as f:  # no checkpoint before the validation that fails
        f.write('default_hooks = dict(checkpoint=dict(interval=1000, save_last=False))\n')
    moco = _image_config(d / 'moco_val.py', MOCO_10K, d / 'images_val', d / 'split.txt')
    load = "[dict(type='LoadImageFromFile'), dict(type='PackInputs')]"
    part = "dict(type='CustomDataset', data_root={!r}, data_prefix={!r}, pipeline=" + load + ")"
    (d / 'moco_knn_val.py').write_text(
        f"_base_ = {moco!r}\ncustom_hooks = [dict(type='EMANHook'), dict(type='KNNEvalHook', k=2, batch_size=2, "
        f"num_workers=0, bank={part.format(str(d / 'images_val'), 'train')}, "
        f"query={part.format(str(d / 'images_val'), 'test')})]\n")
    paths['knn_img_cfg'] = str(d / 'moco_knn_val.py')
    (d / 'nameerr.py').write_text(f"_base_ = {str(ROOT / DIGITS)!r}\nx = undefined_name + 1\n")
    (d / 'nameerr_child.py').write_text(f"_base_ = {str(d / 'nameerr.py')!r}\n")
    (d / 'raising.py').write_text("data_root = ''\nassert data_root, 'set data_root first'\n")
    paths.update(nameerr_cfg=str(d / 'nameerr.py'), nameerr_child_cfg=str(d / 'nameerr_child.py'),
                 raising_cfg=str(d / 'raising.py'))
    payload = Payload(d / 'payload-ran')  # were it ever run, the new file fails the case
    torch.save({'state_dict': {}, 'meta': {'epoch': 1, 'payload': payload}}, d / 'payload.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'hook_state': datetime.timedelta(seconds=5)}},
               d / 'timedelta.pth')
    run = d / 'payload_run'
    run.mkdir()
    (run / 'epoch_1.pth').write_bytes((d / 'payload.pth').read_bytes())
    (run / 'last_checkpoint').write_text(str(run / 'epoch_1.pth'))
    paths.update(ck_payload=str(d / 'payload.pth'), ck_timedelta=str(d / 'timedelta.pth'), payload_run=str(run))
    logs = d / 'runs' / 'cut' / '20260101_000000' / 'vis_data'
    logs.mkdir(parents=True)
    (logs / 'config.py').write_text("model = dict(type='EMAMoCo', scheme='bn-eman')\nrandomness = dict(seed=0)\n")
    (logs / 'scalars.json').write_text('{"loss": 1.0, "step": 1}\n{"knn/student_top1": 0.5, "epoch": 1, "step": 1}\n'
                                       '{"loss": 0.9, "st')
    paths.update(cut_run=str(d / 'runs' / 'cut'), cut_scalars=str(logs / 'scalars.json'))
    return paths


def _cifar_split(cifar_root, d: Path) -> str:
    lines = sorted(str(p.relative_to(Path(cifar_root, 'train'))) for p in Path(cifar_root, 'train').rglob('*.jpg'))
    (d / 'cifar_split.txt').write_text(''.join(f'{line}\n' for line in lines))
    return str(d / 'cifar_split.txt')


def _snapshot(*folders: str) -> dict:
    files = {}
    for folder in folders:
        for path in Path(folder).rglob('*'):
            if path.is_file():
                stat = path.stat()
                files[str(path)] = (stat.st_size, stat.st_mtime_ns, hashlib.sha1(path.read_bytes()).hexdigest())
    return files


def _run_main(case: Case, argv: list, capfd) -> Tuple[int, str]:
    module = importlib.import_module(f'emanplug.cli.{case.tool}')
    code, tail = 0, ''
    try:
        module.main(argv)
    except SystemExit as exit_:
        if isinstance(exit_.code, str):  # sys.exit('error: ...'): the interpreter prints it
            code, tail = 1, exit_.code
        else:
            code = exit_.code or 0
    except Exception:  # noqa: BLE001 -- a traceback is what this file is about
        import traceback
        code, tail = 1, traceback.format_exc()
    out, err = capfd.readouterr()
    return code, out + err + '\n' + tail


def _run_script(case: Case, argv: list, env: dict) -> Tuple[int, str]:
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / SCRIPTS[case.tool]), *argv], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return result.returncode, result.stdout


def _work_dir(work: Path) -> Path:
    """A case's work dir, with a checkpoint and a result file that must stay as they are."""
    work.mkdir()
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'epoch': 1}}, work / 'epoch_1.pth')
    (work / 'knn_results.json').write_text('{"knn/student_top1": 0.5}\n')
    return work


def _case_env(case: Case) -> dict:
    """This process's environment without a launcher's variables, with the case's own."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_ENV}
    env.update(case.env or {})
    env['LOCAL_RANK'] = '0'  # the commands set it for mmengine
    return env


def _watched(inputs: dict, work: Path) -> tuple:
    return str(work), str(Path(inputs['ck_moco']).parent), inputs['cifar']


@pytest.fixture(scope='module')
def scripts(request, inputs, tmp_path_factory):
    """The selected ``proc`` cases, their scripts run 3 at a time (each is mostly imports on one
    core: side by side on 2 cores they take about half the time), each with a work dir of its
    own: ``{case id: (work dir, exit status, output, files before, files after)}``.  The
    inputs and the CIFAR folder are watched over the whole batch (so a file one case wrote
    there fails every case)."""
    from concurrent.futures import ThreadPoolExecutor
    params = [item.callspec.params for item in request.session.items
              if item.module is request.module and hasattr(item, 'callspec')]
    selected = [p['case'] for p in params if isinstance(p.get('case'), Case) and p['case'].how == 'proc']
    runs = {}
    for case in selected:
        work = _work_dir(tmp_path_factory.mktemp(case.id) / 'work')
        argv = [a.format(**dict(inputs, W=str(work))) for a in case.argv]
        runs[case.id] = (case, work, argv)
    before = {name: _snapshot(*_watched(inputs, work)) for name, (_, work, _) in runs.items()}
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = dict(zip(runs, pool.map(lambda r: _run_script(r[0], r[2], _case_env(r[0])), runs.values())))
    return {name: (work, *done[name], before[name], _snapshot(*_watched(inputs, work)))
            for name, (_, work, _) in runs.items()}


@pytest.mark.parametrize('case', [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_is_one_line(case, inputs, tmp_path, capfd, monkeypatch, request):
    if case.how == 'proc':  # the script in a fresh process, run with the others (fixture scripts)
        work, code, output, before, after = request.getfixturevalue('scripts')[case.id]
        names = dict(inputs, W=str(work))
    else:
        work = _work_dir(tmp_path / 'work')
        names = dict(inputs, W=str(work))
        argv = [a.format(**names) for a in case.argv]
        for key in LAUNCH_ENV:
            monkeypatch.delenv(key, raising=False)
        for key, value in (case.env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv('LOCAL_RANK', '0')  # the commands set it for mmengine; restored afterwards
        before = _snapshot(*_watched(inputs, work))
        code, output = _run_main(case, argv, capfd)
        after = _snapshot(*_watched(inputs, work))

    lines = [line for line in output.splitlines() if line.strip()]
    assert code != 0, f'exit status 0 for bad input {case.id}:\n{output[-3000:]}'
    assert 'Traceback' not in output, output[-5000:]
    last = lines[-1]
    assert 'error: ' in last, last
    for piece in case.expect + (('allowed',) if case.allowed else ()):
        assert piece.format(**names) in last, f'{piece.format(**names)!r} not in {last!r}'
    assert {p: v for p, v in after.items() if p in before} == before, 'an existing file changed'
    new = sorted(set(after) - set(before))
    if case.logs:  # failed while training: the Runner's logs may be in the work dir, no checkpoint
        new = [p for p in new if not Path(p).is_relative_to(work) or p.endswith('.pth')]
    assert not new, f'written: {new}'


def test_enough_cases():
    assert len(CASES) >= 130 and len({c.id for c in CASES}) == len(CASES)


def test_the_checkpoint_of_a_config_fits_it(inputs):
    """The check that refuses other models' checkpoints accepts the config's own, also in the
    layout of old checkpoints (teacher parts by position) and with DDP's ``module.`` prefix."""
    from mmengine.config import Config

    from emanplug.cli.checks import check_checkpoint
    cfg = Config.fromfile(inputs['D'])
    state = torch.load(inputs['ck_moco'], weights_only=True)['state_dict']
    check_checkpoint(cfg, {'state_dict': state}, inputs['ck_moco'])
    positional = {'teacher.module.backbone.': 'teacher.module.0.', 'teacher.module.neck.': 'teacher.module.1.'}
    old = {}
    for key, value in state.items():
        for new, was in positional.items():
            key = key.replace(new, was)
        old[key] = value
    check_checkpoint(cfg, {'state_dict': {f'module.{k}': v for k, v in old.items()}}, 'old.pth')


def test_every_shipped_config_passes_the_key_and_value_checks(tmp_path):
    """No false alarm: every config in configs/ passes check_config up to the data paths
    (which need datasets that are not here)."""
    from emanplug.cli.checks import check_config
    from emanplug.cli.runner import load_config, prepare_config
    from emanplug.errors import ConfigError
    refused = []
    for path in sorted((ROOT / 'configs').rglob('*.py')):
        if '_base_' in path.parts:
            continue
        cfg = load_config(str(path))
        cfg.launcher = 'none'
        prepare_config(cfg, str(tmp_path / 'w'), config_path=str(path))
        try:
            check_config(cfg, 'check')
        except ConfigError as err:
            if 'does not exist' not in str(err):
                refused.append(f'{path.name}: {err}')
    assert not refused, '\n'.join(refused)
