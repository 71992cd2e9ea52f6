"""MMEngine adapter of the teacher diagnostics (the measurements live in
emanplug.core.diagnostics)."""
from typing import List

from mmengine.hooks import Hook, LoggerHook
from mmengine.registry import HOOKS

from ..core.diagnostics import TeacherProbe
from ..core.teacher import EMATeacher
from ..errors import ConfigError, check_count
from .eman_hook import require_teachers

#: The scalars logged, ``train/teacher_<name>``, from :meth:`TeacherProbe.summary`.
DIAGNOSTICS = ('stat_gap_mean', 'stat_gap_logvar', 'output_std')


@HOOKS.register_module()
class TeacherDiagnosticsHook(Hook):
    """Logs, every ``interval`` iterations, how well the teacher's statistics fit its inputs and
    how spread its outputs are.

    On every ``interval``-th iteration (counted as the logger counts them: within the epoch
    in epoch-based loops) it attaches a
    :class:`~emanplug.core.diagnostics.TeacherProbe` to every EMA teacher before the
    iteration and removes it after (no hook, no cost on the other iterations), then logs
    through ``runner.message_hub`` (so they reach the console and ``vis_data/scalars.json``):

    * ``train/teacher_stat_gap_mean``: over the teacher's norm layers that normalise with
      running statistics (EMAN, TeacherPN, MomentumBN, BN in eval mode), the mean over
      channels of ``|mu_batch - mu_running| / sqrt(var_running + eps)`` for the teacher's
      current inputs, averaged over the layers;
    * ``train/teacher_stat_gap_logvar``: likewise ``|log(var_batch / var_running)|``;
      both absent for a teacher that normalises with its batches (``bn-bn``, SyncBN,
      ShuffleBN, GN, IN);
    * ``train/teacher_output_std``: the std over the batch of the L2-normalised teacher
      output, averaged over dimensions (0 = collapse; ~1/sqrt(D) when spread evenly).

    Values are this process's (rank 0's in the log) and averaged over teachers.  Each value
    is written once, on the log line of the iteration it was measured at (it is removed
    from the message hub at the next iteration, so later lines do not repeat it); hence
    ``interval`` must be a multiple of the logger's interval (checked before training).
    FixMatch logs ``mask_rate`` and ``pseudo_acc`` itself.

    Args:
        interval (int): iterations between measurements. Default 50.

    Example (config)::

        custom_hooks = [dict(type='EMANHook'), dict(type='TeacherDiagnosticsHook', interval=50)]
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 50) -> None:
        self.interval = check_count(interval, 'TeacherDiagnosticsHook.interval')
        self.teachers: List[EMATeacher] = []
        self.probes: List[TeacherProbe] = []

    def _detach(self) -> None:
        for probe in self.probes:
            probe.detach()
        self.probes = []

    def before_train(self, runner) -> None:
        logger = next((h for h in runner.hooks if isinstance(h, LoggerHook)), None)
        if logger is not None and self.interval % logger.interval:
            raise ConfigError(f'TeacherDiagnosticsHook.interval={self.interval} is not a multiple '
                              f'of the logger interval {logger.interval} '
                              '(default_hooks.logger.interval), so some measurements would '
                              f'never be written; allowed: a multiple of {logger.interval}')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._detach()  # an iteration that raised never reached after_train_iter
        for name in DIAGNOSTICS:  # written by the logger at the iteration they were measured
            runner.message_hub.log_scalars.pop(f'train/teacher_{name}', None)
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        if not self.teachers:
            self.teachers = require_teachers(runner.model, 'TeacherDiagnosticsHook')
        self.probes = [TeacherProbe(t).attach() for t in self.teachers]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.probes:
            return
        summaries = [probe.summary() for probe in self.probes]
        self._detach()
        for name in DIAGNOSTICS:
            values = [s[name] for s in summaries if name in s]
            if values:
                runner.message_hub.update_scalar(f'train/teacher_{name}', sum(values) / len(values))

    def after_train(self, runner) -> None:
        self._detach()
