"""Teacher diagnostics: the statistics gap is ~0 for statistics estimated on the very batch
the teacher sees and clearly > 0 for BN's defaults, the output spread is logged, and no hook
stays on the teacher outside the measured iterations."""
import glob
import json

import pytest
import torch
import torch.nn as nn

from emanplug.core import EMATeacher, TeacherProbe, output_spread, prepare_student, statistics_gap
from emanplug.errors import ConfigError

from helpers import small_convnet


def hook_count(module: nn.Module) -> int:
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in module.modules())


def test_gap_is_zero_for_the_inputs_own_statistics_and_grows_with_the_error():
    x = torch.randn(16, 4, 5, 5) * 3 + 2
    var, mean = torch.var_mean(x, dim=[0, 2, 3])
    zero = statistics_gap(x, mean, var, eps=0.0)
    assert [float(v) for v in zero] == pytest.approx([0.0, 0.0], abs=1e-6)
    mean_gap, logvar_gap = statistics_gap(x, mean + var.sqrt(), var * 4, eps=0.0)
    assert float(mean_gap) == pytest.approx(0.5, rel=1e-5)  # one std, in units of two stds
    assert float(logvar_gap) == pytest.approx(float(torch.log(torch.tensor(4.0))), rel=1e-5)


def test_spread_is_zero_for_collapsed_outputs():
    assert float(output_spread(torch.ones(8, 16) * 3)) == 0.0
    assert float(output_spread(torch.randn(256, 16))) > 0.2


def test_probe_measures_only_while_attached_and_leaves_no_hook():
    student = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(student, 'bn-eman')
    with TeacherProbe(teacher) as probe:
        assert hook_count(teacher.module) == 4  # 3 EMAN layers + the network's output
        teacher(torch.randn(8, 3, 8, 8))
        teacher(torch.randn(8, 3, 8, 8))
    assert hook_count(teacher.module) == 0
    summary = probe.summary()
    assert set(summary) == {'stat_gap_mean', 'stat_gap_logvar', 'output_std'}
    assert summary['stat_gap_logvar'] > 0.1  # BN's default statistics (0, 1) are wrong here
    bn_teacher = EMATeacher(prepare_student(small_convnet(), 'bn-bn'), 'bn-bn')
    with TeacherProbe(bn_teacher) as probe:  # train-mode BN normalises with the batch's statistics
        bn_teacher(torch.randn(8, 3, 8, 8))
    assert set(probe.summary()) == {'output_std'}


# ---------------------------------------------------------------- the MMEngine adapter

def make_runner(work_dir, name, warm, interval=1, max_iters=1, hooks=(), log_interval=1):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class SameBatchModel(BaseModel):
        """The teacher sees the student's batch."""

        def __init__(self):
            super().__init__()
            self.student = prepare_student(small_convnet(), 'bn-eman')
            self.teacher = EMATeacher(self.student, 'bn-eman', momentum=0.9)

        def forward(self, inputs, mode='loss'):
            return dict(loss=(self.student(inputs) - self.teacher(inputs)).pow(2).mean())

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = [dict(inputs=torch.randn(3, 8, 8, generator=g) * 2 + 1) for _ in range(8)]
    custom = [dict(type='EMANHook'), dict(type='TeacherDiagnosticsHook', interval=interval)]
    if warm:
        custom.append(dict(type='WarmStartHook', num_batches=1))  # on the one batch of the data
    return Runner(
        model=SameBatchModel(), work_dir=str(work_dir), experiment_name=name,
        train_dataloader=dict(dataset=data, batch_size=8, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(checkpoint=None, logger=dict(type='LoggerHook', interval=log_interval)),
        custom_hooks=custom + list(hooks), randomness=dict(seed=0), default_scope='mmpretrain')


def logged_scalars(work_dir):
    rows = []
    for path in glob.glob(f'{work_dir}/*/vis_data/scalars.json'):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


def test_gap_is_zero_after_a_warm_start_on_the_batch_and_large_for_default_statistics(tmp_path):
    gaps = {}
    for warm in (True, False):
        work_dir = tmp_path / f'warm{warm}'
        runner = make_runner(work_dir, f'{tmp_path.name}_warm{warm}', warm)
        runner.train()
        rows = [r for r in logged_scalars(work_dir) if 'teacher_stat_gap_mean' in r]
        assert len(rows) == 1 and rows[0]['step'] == 1
        assert rows[0]['teacher_output_std'] > 0.01  # the spread is logged (no collapse)
        gaps[warm] = (rows[0]['teacher_stat_gap_mean'], rows[0]['teacher_stat_gap_logvar'])
    # ~0, not 0: the student normalises with the biased batch variance, EMAN with the running
    # (unbiased) one, so the layers after the first see inputs scaled by ~sqrt(511 / 512)
    assert max(gaps[True]) < 0.02
    assert gaps[False][0] > 10 * gaps[True][0] and gaps[False][1] > 100 * gaps[True][1]


def test_hooks_are_on_the_teacher_only_during_the_measured_iterations(tmp_path):
    from mmengine.hooks import Hook
    counts = []

    class CountHooks(Hook):
        priority = 'LOW'  # after TeacherDiagnosticsHook in both calls

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            counts.append(('before', runner.iter, hook_count(runner.model.teacher.module)))

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            counts.append(('after', runner.iter, hook_count(runner.model.teacher.module)))

    runner = make_runner(tmp_path, f'{tmp_path.name}_count', warm=False, interval=2, max_iters=4,
                         hooks=[CountHooks()])
    runner.train()
    measured = [(when, i) for when, i, n in counts if n]
    assert measured == [('before', 1), ('before', 3)]  # iterations k with (k + 1) % 2 == 0
    assert [r['step'] for r in logged_scalars(tmp_path) if 'teacher_stat_gap_mean' in r] == [2, 4]
    assert hook_count(runner.model.teacher.module) == 0


@pytest.mark.parametrize('value', [0, 2.0, '50', False])
def test_invalid_interval_is_a_one_line_config_error(value):
    from mmengine.registry import HOOKS
    with pytest.raises(ConfigError) as e:
        HOOKS.build(dict(type='TeacherDiagnosticsHook', interval=value))
    assert '\n' not in str(e.value)
    assert f'TeacherDiagnosticsHook.interval={value!r}' in str(e.value)
    assert 'allowed: an integer >= 1' in str(e.value)


def test_interval_off_the_logger_interval_is_refused_before_training(tmp_path):
    runner = make_runner(tmp_path, f'{tmp_path.name}_off', warm=False, interval=3, log_interval=2)
    with pytest.raises(ConfigError) as e:
        runner.train()
    assert '\n' not in str(e.value)
    assert 'TeacherDiagnosticsHook.interval=3 is not a multiple of the logger interval 2' \
        in str(e.value)
    assert 'allowed: a multiple of 2' in str(e.value)


def test_moco_logs_its_similarities_without_optimising_them():
    """EMAMoCo.loss also returns the mean query-key, query-queue and query-nearest-queue
    cosine similarities (the record's pos_sim / neg_sim / neg_sim_max curves), exactly, and
    mmengine sums only the loss."""
    import torch.nn.functional as F
    from mmpretrain.registry import MODELS
    from emanplug.registry import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='EMAMoCo', scheme='bn-eman', queue_len=8, feat_dim=16, teacher_momentum=0.99,
        backbone=dict(type='ResNet', depth=18, base_channels=16),
        neck=dict(type='MoCoV2Neck', in_channels=128, hid_channels=32, out_channels=16,
                  with_avg_pool=True),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)))
    model.teacher.update()  # drives the teacher as EMANHook would
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    queue = model.queue.clone()
    out = model.loss(views)
    with torch.no_grad():
        q = F.normalize(model.neck(model.backbone(views[0]))[0], dim=1)
        k = F.normalize(model.teacher(views[1])[0], dim=1)
    assert float(out['pos_sim']) == pytest.approx(float((q * k).sum(1).mean()), abs=1e-5)
    assert float(out['neg_sim']) == pytest.approx(float((q @ queue).mean()), abs=1e-5)
    assert float(out['neg_sim_max']) == pytest.approx(float((q @ queue).max(1).values.mean()), abs=1e-5)
    total, log_vars = model.parse_losses(out)
    assert torch.equal(total, out['loss']) and {'pos_sim', 'neg_sim', 'neg_sim_max'} <= set(log_vars)
