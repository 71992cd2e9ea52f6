"""MMEngine adapter: kNN accuracy of the student and teacher backbones during training."""
import copy
from typing import Optional, Sequence, Tuple

import torch
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch.utils.data import DataLoader, Subset

from ..core.distributed import gather_strided, rank, world_size
from ..random_state import rng_state_kept
from .knn import bank_memory, extract, knn_accuracy, pooled_features
from .lowshot import multilabel_targets


@HOOKS.register_module()
class KNNEvalHook(Hook):
    """Every ``interval`` epochs (and after the last), classify ``query`` images with a kNN
    classifier over ``bank`` images on the frozen backbone features of the student and of
    the teacher; logs ``knn/student_top1`` and ``knn/teacher_top1`` (scalars.json of the
    work dir), the curves of the paper's Figure 3, and ``knn/student_teacher_cos``, the mean
    cosine similarity of the two networks' features of the same query images.  Before training it also logs the
    untrained network's accuracy (epoch 0), the floor any learning must beat.

    Under DDP each of the ``n`` processes extracts the features of every n-th image and keeps
    them as its share of the bank; the query features are all-gathered in the original order,
    and the k nearest neighbours of every query are merged over the shares
    (:func:`~emanplug.evaluation.knn.nearest`): every process gets the accuracy a single
    process holding the whole bank would, and none holds the whole bank.

    Args:
        bank (dict): dataset config of the labelled bank (e.g. train images). Without a
            ``type`` key, the training dataset's config with these keys replaced (so that
            overriding the training ``data_root`` moves the kNN data too).
        query (dict): dataset config of the queries (e.g. test images), likewise.
        interval (int): epochs between evaluations. Default 10.
        k (int): neighbours. Default 200.
        temperature (float): vote temperature. Default 0.1.
        batch_size (int): images per forward. Default 256.
        num_workers (int): dataloader workers. Default 2.
        models (sequence of str): 'student' and/or 'teacher'. Default both.
        at_start (bool): also evaluate before training. Default True.
        feature_dtype (str): 'float32' or 'float16': how the bank and query features are
            held (similarities are computed in float32 either way; docs/bench/knn_precision.md
            measures what float16 changes). Default 'float32'.
        num_classes (int, optional): with it, every image's labels are a multi-label target
            of this many classes (1 positive, 0 difficult, -1 negative:
            :func:`~emanplug.evaluation.lowshot.multilabel_targets`), for VOC07's low-shot
            SVMs (``emanplug-test --protocol lowshot``); kNN and retrieval need single labels.
    """

    priority = 'LOW'

    def __init__(self, bank: dict, query: dict, interval: int = 10, k: int = 200,
                 temperature: float = 0.1, batch_size: int = 256, num_workers: int = 2,
                 models: Sequence[str] = ('student', 'teacher'), at_start: bool = True,
                 feature_dtype: str = 'float32', num_classes: Optional[int] = None) -> None:
        if feature_dtype not in ('float32', 'float16'):
            from ..errors import ConfigError
            raise ConfigError(f'KNNEvalHook feature_dtype={feature_dtype!r}; allowed: float32, float16')
        self.bank_cfg, self.query_cfg = bank, query
        self.feature_dtype = getattr(torch, feature_dtype)
        self.interval, self.k, self.temperature = interval, k, temperature
        self.batch_size, self.num_workers = batch_size, num_workers
        self.models, self.at_start = tuple(models), at_start
        self.num_classes = num_classes
        self.history = []
        self._loaders: Optional[tuple] = None

    def _loader(self, cfg: dict, runner) -> Tuple[DataLoader, int]:
        """This process's loader and the full dataset length."""
        from mmpretrain.registry import DATASETS
        if 'type' not in cfg:  # the training dataset with these keys replaced
            train = runner.cfg.get('train_dataloader', {}).get('dataset', {})
            cfg = dict(copy.deepcopy(dict(train)), **cfg)
        dataset = DATASETS.build(cfg)
        total = len(dataset)
        if world_size() > 1:  # every n-th image on each process, gathered in features()
            dataset = Subset(dataset, range(rank(), len(dataset), world_size()))
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=False,
                          num_workers=self.num_workers, collate_fn=default_collate), total

    def memory(self, runner) -> str:
        """One line, before any feature is extracted: what the bank and query features and the
        kNN similarities will take per network and process (:func:`~emanplug.evaluation.knn.bank_memory`;
        the feature width from one query image through the first network's backbone, in eval mode)."""
        from ..models.teacher_student import model_part
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if self._loaders is None:
            self._loaders = (self._loader(self.bank_cfg, runner), self._loader(self.query_cfg, runner))
        (_, bank), (query_loader, query) = self._loaders
        backbone = next(b for b in (model_part(model, w, 'backbone') for w in self.models) if b is not None)
        data = model.data_preprocessor(default_collate([query_loader.dataset[0]]), False)
        was_training = backbone.training
        backbone.eval()
        with torch.no_grad():
            dim = pooled_features(backbone, data['inputs']).shape[1]
        backbone.train(was_training)
        return bank_memory(bank, query, dim, world_size(), self.feature_dtype.itemsize)

    def _batches(self, model, loader):
        for data in loader:
            data = model.data_preprocessor(data, False)
            if self.num_classes:
                labels = torch.stack([multilabel_targets(s, self.num_classes) for s in data['data_samples']])
            else:
                labels = torch.stack([s.gt_label.reshape(-1)[0] for s in data['data_samples']])
            yield data['inputs'], labels

    def evaluate(self, runner, epoch: int) -> dict:
        """Evaluate now, leaving the random generators of training untouched."""
        with rng_state_kept():
            return self._evaluate(runner, epoch)

    def features(self, runner, which: str, gather_bank: bool = True):
        """``(bank, bank_labels, query, query_labels)``: frozen, L2-normalised features of the
        student's or the teacher's backbone (None if the model has no such network), held as
        ``feature_dtype``.  With ``gather_bank=False`` the bank is this process's share
        (images ``rank, rank + n, ...`` of ``n`` processes; pass ``sharded=True`` to
        :func:`~emanplug.evaluation.knn.knn_accuracy`)."""
        from ..models.teacher_student import model_part
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if self._loaders is None:
            self._loaders = (self._loader(self.bank_cfg, runner), self._loader(self.query_cfg, runner))
        backbone = model_part(model, which, 'backbone')
        if backbone is None:
            return None
        out = []
        for n, (loader, total) in enumerate(self._loaders):
            feats, labels = extract(backbone, self._batches(model, loader))
            feats = feats.to(self.feature_dtype)
            if n == 1 or gather_bank:
                feats, labels = gather_strided(feats, total), gather_strided(labels, total)
            out += [feats, labels]
        return tuple(out)

    def bank_size(self, runner) -> int:
        """Images in the bank (over every process)."""
        if self._loaders is None:
            self._loaders = (self._loader(self.bank_cfg, runner), self._loader(self.query_cfg, runner))
        return self._loaders[0][1]

    def knn(self, feats) -> float:
        """kNN top-1 (fraction) of :meth:`features` ``(..., gather_bank=False)``."""
        return knn_accuracy(*feats, k=self.k, temperature=self.temperature, sharded=True)

    def _evaluate(self, runner, epoch: int) -> dict:
        results, queries = {}, {}
        for which in self.models:
            feats = self.features(runner, which, gather_bank=False)
            if feats is not None:
                results[f'knn/{which}_top1'] = self.knn(feats)
                queries[which] = feats[2].float()
        if len(queries) == 2:  # how alike the two networks' features of the same images are
            results['knn/student_teacher_cos'] = float(
                (queries['student'] * queries['teacher']).sum(1).mean())
        runner.logger.info(f'kNN (k={self.k}) after epoch {epoch}: ' +
                           ', '.join(f'{k} {v:.4f}' for k, v in results.items()))
        runner.visualizer.add_scalars(dict(results, epoch=epoch), step=runner.iter)
        self.history.append(dict(results, epoch=epoch, iter=runner.iter))
        return results

    def before_train(self, runner) -> None:
        if self.at_start and runner.iter == 0:
            self.evaluate(runner, 0)

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self.evaluate(runner, runner.epoch + 1)  # runner.epoch counts from 0 here
