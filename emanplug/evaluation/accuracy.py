"""Top-k accuracy of the student and of the teacher in one evaluation."""
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class StudentTeacherAccuracy(BaseMetric):
    """Top-k accuracy of the prediction (``pred_score``: the model chosen by FixMatch's
    ``eval_with``; metrics ``top1``, ``top5``, listed first so that ``save_best='auto'``
    tracks them) and of every ``{name}_score`` field the predictions carry
    (``student_score``, ``teacher_score``; metrics ``student/top1``, ``teacher/top5``, ...).
    In percent, like mmpretrain's Accuracy.

    Args:
        topk (sequence of int): default (1, 5).
        models (sequence of str): default ('student', 'teacher').
    """

    default_prefix = ''

    def __init__(self, topk: Sequence[int] = (1, 5), models: Sequence[str] = ('student', 'teacher'),
                 collect_device: str = 'cpu', prefix: str = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk, self.models = tuple(topk), tuple(models)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            result = dict(gt=sample['gt_label'].reshape(-1)[0].item())
            for name in ('pred',) + self.models:
                score = sample.get(f'{name}_score')
                if score is not None:
                    result[name] = torch.topk(score, max(self.topk)).indices.tolist()
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> dict:
        metrics = {}
        for name in ('pred',) + self.models:
            rows = [r for r in results if name in r]
            if not rows:
                continue
            for k in self.topk:
                hits = sum(r['gt'] in r[name][:k] for r in rows)
                metrics[f'top{k}' if name == 'pred' else f'{name}/top{k}'] = 100.0 * hits / len(rows)
        return metrics
