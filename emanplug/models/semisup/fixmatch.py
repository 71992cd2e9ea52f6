"""FixMatch (Sohn et al., 2020) with an optional EMA teacher, mmpretrain classifier style."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...errors import ConfigError
from ..teacher_student import TeacherStudentMixin, resolve_teacher_momentum


def fixmatch_loss(logits_labeled: torch.Tensor, labels: torch.Tensor, logits_weak: torch.Tensor,
                  logits_strong: torch.Tensor, threshold: float, unsup_weight: float,
                  unlabeled_labels: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
    """FixMatch's objective from the logits of its three views.

    ``loss_x``: cross-entropy of the labeled images.  ``loss_u``: ``unsup_weight`` times the
    mean over *all* unlabeled images of the cross-entropy of the strong view against the
    hard pseudo-label ``argmax softmax(logits_weak)``, counted only where that softmax's
    maximum is at least ``threshold``.  Also returns ``mask_rate`` (share of unlabeled
    images above the threshold) and, when the true labels of the unlabeled images are
    known (>= 0), ``pseudo_acc``: the accuracy of the pseudo-labels that passed.

    Example:
        >>> out = fixmatch_loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.tensor([[9., 0, 0]]),
        ...                     torch.zeros(1, 3), threshold=0.95, unsup_weight=1.0)
        >>> round(out['loss_u'].item(), 4), out['mask_rate'].item()
        (1.0986, 1.0)
    """
    loss_x = F.cross_entropy(logits_labeled, labels)
    probs = torch.softmax(logits_weak.detach().float(), dim=1)
    confidence, pseudo = probs.max(dim=1)
    mask = (confidence >= threshold).float()
    per_sample = F.cross_entropy(logits_strong, pseudo, reduction='none')
    out = dict(loss_x=loss_x, loss_u=unsup_weight * (per_sample * mask).mean(), mask_rate=mask.mean())
    if unlabeled_labels is not None and bool((unlabeled_labels >= 0).all()):
        passed = mask.bool()
        correct = (pseudo[passed] == unlabeled_labels[passed]).float()
        out['pseudo_acc'] = correct.mean() if passed.any() else torch.zeros((), device=mask.device)
    return out


@MODELS.register_module()
class SemiSupDataPreprocessor(BaseDataPreprocessor):
    """Normalises every image tensor of a batch: the FixMatch dict of views (``labeled``,
    ``weak``, ``strong``, the latter two of shape (B, mu, C, H, W)) or a plain test batch.

    Args:
        mean, std (sequence of float): per channel, in the 0-255 range.
        to_rgb (bool): reverse the channel order (images are loaded as BGR). Default True.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_rgb: bool = True) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        self.to_rgb = to_rgb

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, (list, tuple)):
            x = torch.stack(list(x))
        if self.to_rgb and x.shape[-3] == 3:
            x = x.flip(-3)
        return (x.float() - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, dict):
            inputs = {k: self._normalise(v) for k, v in inputs.items()}
        else:
            inputs = self._normalise(inputs)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))


@MODELS.register_module()
class FixMatch(TeacherStudentMixin, BaseModel):
    """FixMatch, with the pseudo-labels from the model itself (default) or from an EMA teacher.

    * ``scheme=None`` (FixMatch's default): one model; labeled, weak and strong views go
      through it concatenated, so pseudo-labels and predictions share batch statistics.
    * ``scheme='bn-eman'`` (or any scheme): the EMAN paper's reframing; an
      :class:`~emanplug.core.teacher.EMATeacher` of ``backbone``, ``neck`` and ``head``, updated by
      ``EMANHook``, makes the pseudo-labels from the weak views; the student sees the
      labeled and strong views.

    Logged per iteration: ``loss_x``, ``loss_u``, ``mask_rate``, ``pseudo_acc``.

    Args:
        backbone, neck, head (dict): mmpretrain classifier parts (e.g. ``ResNet_CIFAR``,
            ``GlobalAveragePooling``, ``LinearClsHead``).
        scheme (str | dict, optional): teacher normalisation; None for the default mode.
        teacher_momentum (float): paper-convention m. Default 0.999.
        threshold (float): confidence threshold tau. Default 0.95.
        unsup_weight (float): lambda_u; 0 trains on the labeled images only (the supervised
            baseline, the unlabeled views are not even computed). Default 1.0.
        eval_with (str): 'student' or 'teacher' fills ``pred_score`` in predictions (both
            scores are kept); default 'teacher' when there is one.
        data_preprocessor (dict): default ``SemiSupDataPreprocessor`` with ImageNet statistics.
        init_cfg (dict): e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``
            for a MoCo student, ``prefix='teacher.module.backbone.'`` for its teacher.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 scheme: Union[str, dict, None] = None, teacher_momentum: Optional[float] = None,
                 threshold: float = 0.95, unsup_weight: float = 1.0, eval_with: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        data_preprocessor = data_preprocessor or dict(
            type='SemiSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone, self.neck, self.head = MODELS.build(backbone), MODELS.build(neck), MODELS.build(head)
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f'model.threshold={threshold} is outside [0, 1]; allowed: a float in [0, 1]')
        self.threshold, self.unsup_weight = threshold, float(unsup_weight)
        self.teacher = None
        if scheme is not None:
            self.init_teacher(scheme, resolve_teacher_momentum(teacher_momentum, None, 0.999),
                              parts=('backbone', 'neck', 'head'))
        self.eval_with = eval_with or ('teacher' if self.teacher is not None else 'student')
        if self.eval_with not in ('student', 'teacher') or (self.eval_with == 'teacher' and self.teacher is None):
            allowed = "'student'" if self.teacher is None else "'student', 'teacher'"
            raise ConfigError(f'model.eval_with={self.eval_with!r} is not allowed; allowed: {allowed}')

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.neck(self.backbone(x)))

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return self.logits(inputs)

    def loss(self, inputs: dict, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        self.check_teacher_is_driven()
        x_l = inputs['labeled']
        labels = torch.cat([s.gt_label for s in data_samples]).to(x_l.device)
        if self.unsup_weight == 0:  # supervised baseline
            return dict(loss_x=F.cross_entropy(self.logits(x_l), labels))
        x_w, x_s = inputs['weak'].flatten(0, 1), inputs['strong'].flatten(0, 1)
        unlabeled = torch.cat([torch.as_tensor(s.unlabeled_label) for s in data_samples]).to(x_l.device) \
            if all('unlabeled_label' in s for s in data_samples) else None
        n = x_l.shape[0]
        if self.teacher is None:
            logits = self.logits(torch.cat([x_l, x_w, x_s]))
            logits_l, logits_w, logits_s = logits[:n], logits[n:n + len(x_w)], logits[n + len(x_w):]
        else:
            logits_w = self.teacher(x_w)
            logits = self.logits(torch.cat([x_l, x_s]))
            logits_l, logits_s = logits[:n], logits[n:]
        return fixmatch_loss(logits_l, labels, logits_w, logits_s, self.threshold,
                             self.unsup_weight, unlabeled)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None):
        scores = dict(student=torch.softmax(self.logits(inputs), dim=1))
        if self.teacher is not None:
            scores['teacher'] = torch.softmax(self.teacher.module(inputs), dim=1)
        data_samples = data_samples or [DataSample() for _ in range(inputs.shape[0])]
        for i, sample in enumerate(data_samples):
            sample.set_pred_score(scores[self.eval_with][i])
            for name, score in scores.items():
                sample.set_field(score[i], f'{name}_score')
        return data_samples
