"""MMEngine adapter of the warm-started teacher statistics (the math lives in
emanplug.core.warm_start)."""
import itertools
import time
from typing import Any, Iterator, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch.utils.data import DataLoader

from ..core.warm_start import warm_start_teacher
from ..errors import ConfigError, check_count
from ..random_state import rng_state_kept
from .eman_hook import require_teachers


def student_views(model: torch.nn.Module, inputs: Any) -> List[torch.Tensor]:
    """The tensors the student of ``model`` normalises in one training step, one forward pass
    each, from the preprocessed ``inputs`` of a batch.

    * a model with a method ``warm_start_views(inputs)``: what it returns (a new method's hook);
    * FixMatch: the labeled and strong views concatenated, as its student sees them (the
      labeled images only for the supervised baseline, ``unsup_weight=0``);
    * a list of views (MoCo, BYOL): every view, one pass each;
    * one tensor: itself.
    """
    custom = getattr(model, 'warm_start_views', None)
    if callable(custom):
        return list(custom(inputs))
    from ..models.semisup.fixmatch import FixMatch
    if isinstance(model, FixMatch):
        if model.unsup_weight == 0:
            return [inputs['labeled']]
        return [torch.cat([inputs['labeled'], inputs['strong'].flatten(0, 1)])]
    if torch.is_tensor(inputs):
        return [inputs]
    if isinstance(inputs, (list, tuple)) and inputs and all(torch.is_tensor(v) for v in inputs):
        return list(inputs)
    raise ConfigError(f'WarmStartHook: cannot tell what the student of {type(model).__name__} '
                      f'sees in inputs of type {type(inputs).__name__}; allowed: a tensor, a list '
                      'of view tensors, FixMatch, or a model method warm_start_views(inputs)')


def warm_start_loader(dataloader: DataLoader, num_batches: int) -> DataLoader:
    """A loader of the training loader's dataset, batches (same sampler, batch size, collate
    function) and worker seeding, with workers of its own that end with it, so that the
    training loader's iterators and persistent workers are left alone."""
    kwargs = dict(num_workers=min(dataloader.num_workers, num_batches),
                  collate_fn=dataloader.collate_fn, worker_init_fn=dataloader.worker_init_fn)
    if kwargs['num_workers'] > 0:
        kwargs['multiprocessing_context'] = dataloader.multiprocessing_context
    if dataloader.batch_sampler is not None:
        return DataLoader(dataloader.dataset, batch_sampler=dataloader.batch_sampler, **kwargs)
    return DataLoader(dataloader.dataset, sampler=dataloader.sampler, batch_size=None, **kwargs)


def training_views(runner, model: torch.nn.Module, num_batches: int) -> Iterator[List[torch.Tensor]]:
    """The first ``num_batches`` batches of ``runner``'s training data (epoch 0's order), each
    through ``model``'s ``data_preprocessor`` and as the student sees it in a training step
    (:func:`student_views`)."""
    loader = warm_start_loader(runner.train_dataloader, num_batches)
    for data in itertools.islice(loader, num_batches):
        data = model.data_preprocessor(data, True)
        inputs = data['inputs'] if isinstance(data, dict) else data[0]
        yield student_views(model, inputs)


@HOOKS.register_module()
class WarmStartHook(Hook):
    """Warm-starts the EMA teachers' statistics before the first training step (emanplug's
    addition beyond the paper).

    In ``before_train`` of a run that starts at iteration 0 it takes ``num_batches`` batches
    of the training data (a loader of ``runner.train_dataloader``'s dataset, sampler and
    collate function: the first batches of epoch 0), runs each through the model's
    ``data_preprocessor`` and feeds what the student sees in a training step
    (:func:`student_views`: each MoCo / BYOL view, FixMatch's labeled + strong batch) through
    every teacher's student in train mode, without gradients; each student BN layer's
    statistics become their average over those batches, averaged over processes
    (:func:`emanplug.core.warm_start.estimate_bn_statistics`), and each teacher becomes an
    exact copy of its student (:func:`~emanplug.core.warm_start.warm_start_teacher`).  Cost:
    ``num_batches`` forward passes of the student per view, no backward.  The random
    generators are restored afterwards, so that training draws the same augmentations as
    without the warm start.  A resumed run (iteration > 0) does not repeat it; checkpoints
    record it in ``meta['emanplug_warm_start']``.  Teachers without BN statistics (``gn-gn``,
    ``in-in``) are only reset to a copy of the student.  It runs before ``EMANHook`` and
    before ``KNNEvalHook``'s evaluation of the untrained network.

    Args:
        num_batches (int): training batches to estimate the statistics on. Default 10.

    Example (config)::

        custom_hooks = [dict(type='EMANHook'), dict(type='WarmStartHook', num_batches=10)]
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, num_batches: int = 10) -> None:
        self.num_batches = check_count(num_batches, 'WarmStartHook.num_batches')
        self.record: Optional[dict] = None  # what the warm start of this run did


    def before_train(self, runner) -> None:
        if runner.iter > 0:
            runner.logger.info(f'WarmStartHook: run resumed at iteration {runner.iter}; the '
                               'warm start belongs to iteration 0 and is not repeated')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        teachers = require_teachers(model, 'WarmStartHook')
        passes = 0

        def forward(student: torch.nn.Module, views: List[torch.Tensor]) -> None:
            nonlocal passes
            for view in views:
                student(view)
                passes += 1

        start = time.perf_counter()
        with rng_state_kept():
            used = warm_start_teacher(teachers, training_views(runner, model, self.num_batches), forward)
        seconds = time.perf_counter() - start
        self.record = dict(batches=used, forward_passes=passes, seconds=round(seconds, 3))
        schemes = ', '.join(sorted({t.scheme.token for t in teachers}))
        if used == 0:
            runner.logger.info(f'WarmStartHook: the student ({schemes}) has no BN statistics '
                               'to estimate; the teacher starts as its exact copy')
            return
        short = '' if used == self.num_batches else \
            f' (of {self.num_batches} asked: the loader has no more)'
        runner.logger.info(f'WarmStartHook: estimated the student BN statistics on {used} '
                           f'training batches{short} ({passes} forward passes, no backward) in '
                           f'{seconds:.1f} s; the teacher ({schemes}) starts as its exact copy')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.record is not None:
            checkpoint.setdefault('meta', {})['emanplug_warm_start'] = self.record

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.record = checkpoint.get('meta', {}).get('emanplug_warm_start', self.record)
