"""Warm-started teacher statistics: the core estimate is the exact cumulative average of the
batches' statistics, changes nothing else, and the teacher becomes an exact copy; the MMEngine
hook does it once, at iteration 0, with what each model's student sees."""
import copy
import itertools
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from emanplug.core import EMATeacher, estimate_bn_statistics, prepare_student, warm_start_teacher
from emanplug.errors import ConfigError

from dist_utils import run_distributed
from helpers import small_convnet


def make_batches(n, seed=0, size=8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(size, 3, 8, 8, generator=g) * 2 + 1 for _ in range(n)]


@torch.no_grad()
def reference_stats(net, inputs):
    """Per BN layer (by name): the average over calls of the mean / unbiased variance of the
    layer's input, computed by hand on a copy of ``net`` in train mode."""
    net = copy.deepcopy(net).train()
    calls = defaultdict(list)

    def record(name):
        def hook(layer, args):
            x = args[0]
            var, mean = torch.var_mean(x, dim=[0] + list(range(2, x.dim())), correction=1)
            calls[name].append((mean, var))
        return hook

    for name, m in net.named_modules():
        if isinstance(m, _BatchNorm):
            m.register_forward_pre_hook(record(name))
    for x in inputs:
        net(x)
    return {name: tuple(torch.stack(v).mean(0) for v in zip(*c)) for name, c in calls.items()}


def assert_stats(net, expected, calls):
    layers = {name: m for name, m in net.named_modules() if isinstance(m, _BatchNorm)}
    assert set(layers) == set(expected)
    for name, layer in layers.items():
        mean, var = expected[name]
        assert torch.allclose(layer.running_mean, mean, rtol=1e-5, atol=1e-6), name
        assert torch.allclose(layer.running_var, var, rtol=1e-5, atol=1e-6), name
        assert int(layer.num_batches_tracked) == calls, name


def assert_teacher_is_student(teacher):
    student = teacher.student
    for (name, t), (_, s) in zip(teacher.module.named_parameters(), student.named_parameters()):
        assert torch.equal(t, s), name
    student_buffers = dict(student.named_buffers())
    teacher_buffers = dict(teacher.module.named_buffers())
    assert teacher_buffers.keys() == student_buffers.keys()
    for name, t in teacher_buffers.items():
        assert torch.equal(t, student_buffers[name]), name


def test_estimate_is_the_cumulative_average_and_changes_nothing_else():
    net = small_convnet()
    net[1].momentum = 0.3
    net.eval()  # the caller's mode comes back
    params = {k: v.clone() for k, v in net.named_parameters()}
    batches = make_batches(4)
    expected = reference_stats(net, batches)

    assert estimate_bn_statistics(net, iter(batches)) == 4
    assert_stats(net, expected, calls=4)
    for k, v in net.named_parameters():
        assert torch.equal(v, params[k]) and v.grad is None, k
    assert [m.momentum for m in net.modules() if isinstance(m, _BatchNorm)] == [0.3, 0.1, 0.1]
    assert not any(m.training for m in net.modules())
    assert not any(m._forward_pre_hooks for m in net.modules())

    # exactly what PyTorch BN's cumulative-average mode (momentum=None) stores
    cumulative = small_convnet()
    cumulative.load_state_dict(net.state_dict())
    for m in cumulative.modules():
        if isinstance(m, _BatchNorm):
            m.momentum = None
            m.reset_running_stats()
    with torch.no_grad():
        for x in batches:
            cumulative.train()(x)
    for a, b in zip(cumulative.buffers(), net.buffers()):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)


def test_layers_called_twice_per_batch_average_over_every_call():
    net = small_convnet()
    pairs = list(zip(make_batches(3, seed=1), make_batches(3, seed=2)))
    expected = reference_stats(net, [x for pair in pairs for x in pair])
    used = estimate_bn_statistics(net, pairs, forward=lambda m, views: [m(v) for v in views])
    assert used == 3
    assert_stats(net, expected, calls=6)


class NormEval(nn.Sequential):
    """Keeps its layer 4 (BN) in eval mode whatever train() says, as mmpretrain's ResNet does
    with norm_eval=True or frozen stages: a layer that training never updates."""

    def train(self, mode=True):
        super().train(mode)
        self[4].eval()
        return self


def test_frozen_layers_keep_their_statistics():
    net = NormEval(*small_convnet())
    net.eval()
    with torch.no_grad():
        net[4].running_mean.fill_(0.5)
    estimate_bn_statistics(net, make_batches(2))
    assert torch.equal(net[4].running_mean, torch.full_like(net[4].running_mean, 0.5))
    assert int(net[4].num_batches_tracked) == 0
    assert int(net[1].num_batches_tracked) == 2  # the others were estimated
    assert not any(m.training for m in net.modules())


@pytest.mark.parametrize('scheme', ['bn-eman', 'bn-bn', 'bn-teacherpn0.9', 'bn-momentumbn'])
def test_warm_started_teacher_is_the_student_bitwise(scheme):
    student = prepare_student(small_convnet(), scheme)
    teacher = EMATeacher(student, scheme, momentum=0.99)
    with torch.no_grad():  # a teacher that differs from its student everywhere
        for t in itertools.chain(teacher.module.parameters(), teacher.module.buffers()):
            if t.is_floating_point():
                t.add_(0.5)
    batches = make_batches(3)
    expected = reference_stats(student, batches)
    assert warm_start_teacher(teacher, batches) == 3
    assert_stats(student, expected, calls=3)
    assert_teacher_is_student(teacher)


@pytest.mark.parametrize('scheme', [dict(type='gn-gn', num_groups=4), 'in-in'])
def test_teacher_without_statistics_is_copied_and_no_batch_is_used(scheme):
    student = prepare_student(small_convnet(), scheme)
    teacher = EMATeacher(student, scheme)
    with torch.no_grad():
        for p in teacher.module.parameters():
            p.add_(0.5)
    batches = iter(make_batches(2))
    assert warm_start_teacher([teacher], batches) == 0
    assert len(list(batches)) == 2  # not consumed: nothing to estimate
    assert_teacher_is_student(teacher)


def _distributed_worker(rank, world):
    """Rank r estimates on its own 2 + r batches; every rank ends with the average over all
    5 batches (each batch weighted alike) and the same teacher statistics."""
    import torch.distributed as dist
    student = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(student, 'bn-eman')
    per_rank = [make_batches(2 + r, seed=10 + r) for r in range(world)]
    expected = reference_stats(student, [x for batches in per_rank for x in batches])
    assert warm_start_teacher(teacher, per_rank[rank]) == 2 + rank
    assert_stats(student, expected, calls=2 + rank)  # the counter: this process's batches
    assert_teacher_is_student(teacher)
    flat = torch.cat([b.reshape(-1) for b in teacher.module.buffers() if b.is_floating_point()])
    gathered = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    assert all(torch.equal(g, gathered[0]) for g in gathered)


def _syncbn_worker(rank, world):
    """SyncBN students normalise the global batch: each estimate is the statistics of the
    concatenated batches of both processes, averaged over the batches."""
    student = prepare_student(small_convnet(), 'syncbn-syncbn')
    teacher = EMATeacher(student, 'syncbn-syncbn')
    reference = copy.deepcopy(student)  # on one process (no all-gather): plain BN of the input
    per_rank = [make_batches(3, seed=10 + r) for r in range(world)]
    global_batches = [torch.cat(parts) for parts in zip(*per_rank)]
    expected = reference_stats(reference, global_batches)
    assert warm_start_teacher(teacher, per_rank[rank]) == 3
    assert_stats(student, expected, calls=3)
    assert_teacher_is_student(teacher)
    assert all(m.momentum == 0.1 for m in student.modules() if isinstance(m, _BatchNorm))


def test_statistics_are_averaged_over_processes():
    run_distributed(_distributed_worker)


def test_syncbn_students_estimate_the_global_batch_statistics():
    run_distributed(_syncbn_worker)


# ---------------------------------------------------------------- the MMEngine adapter

def count_warm_starts(monkeypatch):
    import emanplug.hooks.warm_start as module
    calls = []
    real = module.warm_start_teacher

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, 'warm_start_teacher', counted)
    return calls


def spy_hooks(seen):
    """A hook before WarmStartHook and one after it, at before_train."""
    from mmengine.hooks import Hook

    class Before(Hook):
        priority = 'VERY_HIGH'

        def before_train(self, runner):
            seen['rng'] = torch.get_rng_state()

    class After(Hook):
        priority = 'NORMAL'

        def before_train(self, runner):
            teacher = runner.model.teacher
            seen['rng_after'] = torch.get_rng_state()
            seen['iter'] = runner.iter
            seen['student'] = copy.deepcopy(teacher.student)
            seen['teacher_equal'] = all(
                torch.equal(t, s) for t, s in zip(teacher.module.state_dict().values(),
                                                  teacher.student.state_dict().values()))
            # the first 2 batches of the training loader (epoch 0): what the run trains on first
            seen['batches'] = [d['inputs'] for d in itertools.islice(runner.train_dataloader, 2)]

    return Before(), After()


def test_hook_warm_starts_once_and_a_resumed_run_does_not_repeat_it(tmp_path, monkeypatch):
    from toy_runner import Interrupted, ToyEMAModel, make_runner
    calls = count_warm_starts(monkeypatch)
    seen = {}
    torch.manual_seed(0)  # as make_runner: the same initial student
    initial = ToyEMAModel().student
    runner = make_runner(tmp_path, stop_after=3,
                         hooks=(dict(type='WarmStartHook', num_batches=2), *spy_hooks(seen)))
    with pytest.raises(Interrupted):
        runner.train()
    assert calls == [1] and seen['iter'] == 0 and seen['teacher_equal']
    assert torch.equal(seen['rng'], seen['rng_after'])  # training draws as without the warm start
    assert_stats(seen['student'], reference_stats(initial, seen['batches']), calls=2)
    for (name, p), q in zip(seen['student'].named_parameters(), initial.parameters()):
        assert torch.equal(p, q), name
    ckpt = torch.load(tmp_path / 'iter_3.pth', weights_only=False)
    assert ckpt['meta']['emanplug_warm_start']['batches'] == 2
    log = open(f'{runner.log_dir}/{runner.timestamp}.log').read()
    assert log.count('WarmStartHook: estimated the student BN statistics on 2 training batches '
                     '(2 forward passes, no backward) in') == 1

    seen.clear()
    resumed = make_runner(tmp_path, resume=True,
                          hooks=(dict(type='WarmStartHook', num_batches=2), *spy_hooks(seen)))
    resumed.train()
    assert calls == [1] and seen['iter'] == 3 and resumed.iter == 6
    log = open(f'{resumed.log_dir}/{resumed.timestamp}.log').read()
    assert 'WarmStartHook: run resumed at iteration 3; the warm start belongs to iteration 0' in log
    ckpt = torch.load(tmp_path / 'iter_6.pth', weights_only=False)
    assert ckpt['meta']['emanplug_warm_start']['batches'] == 2  # the record survives resumes


@pytest.mark.parametrize('value', [0, -1, 2.5, '10', True, None])
def test_invalid_num_batches_is_a_one_line_config_error(value):
    from mmengine.registry import HOOKS  # as the Runner builds custom_hooks
    with pytest.raises(ConfigError) as e:
        HOOKS.build(dict(type='WarmStartHook', num_batches=value))
    message = str(e.value)
    assert '\n' not in message
    assert f'WarmStartHook.num_batches={value!r}' in message
    assert 'allowed: an integer >= 1' in message


def test_hook_without_teacher_is_a_config_error():
    from emanplug.hooks import WarmStartHook
    runner = SimpleNamespace(iter=0, model=small_convnet())
    with pytest.raises(ConfigError, match='WarmStartHook: model Sequential has no EMATeacher'):
        WarmStartHook().before_train(runner)


def fake_runner(model, dataset, batch_size, collate_fn):
    from mmengine.logging import MMLogger
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=collate_fn)
    return SimpleNamespace(iter=0, model=model, train_dataloader=loader,
                           logger=MMLogger.get_instance('warm_start_test'))


def test_moco_student_sees_every_view():
    from emanplug.hooks import WarmStartHook
    from test_structure import tiny_moco
    model = tiny_moco()
    student = copy.deepcopy(model.teacher.student)
    g = torch.Generator().manual_seed(0)
    data = [[torch.rand(3, 16, 16, generator=g) * 255 for _ in range(2)] for _ in range(12)]

    def collate(items):
        return dict(inputs=[torch.stack(v) for v in zip(*items)], data_samples=None)

    runner = fake_runner(model, data, 4, collate)
    WarmStartHook(num_batches=2).before_train(runner)
    views = []
    for batch in itertools.islice(runner.train_dataloader, 2):
        views += model.data_preprocessor(batch, True)['inputs']
    assert len(views) == 4
    assert_stats(model.teacher.student, reference_stats(student, views), calls=4)
    assert_teacher_is_student(model.teacher)


def tiny_fixmatch(**kwargs):
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(
        type='FixMatch', _scope_='mmpretrain',  # runner tests leave the scope 'mmengine' current
        backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8, stem_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64), **kwargs))


def test_fixmatch_student_sees_labeled_and_strong_views_together():
    from emanplug.hooks import student_views
    inputs = dict(labeled=torch.randn(2, 3, 8, 8), weak=torch.randn(2, 3, 3, 8, 8),
                  strong=torch.randn(2, 3, 3, 8, 8))
    views = student_views(tiny_fixmatch(scheme='bn-eman'), inputs)
    assert len(views) == 1
    assert torch.equal(views[0], torch.cat([inputs['labeled'], inputs['strong'].flatten(0, 1)]))
    supervised = student_views(tiny_fixmatch(scheme='bn-eman', unsup_weight=0), inputs)
    assert len(supervised) == 1 and torch.equal(supervised[0], inputs['labeled'])
    two = [torch.randn(2, 3), torch.randn(2, 3)]
    assert student_views(nn.Linear(3, 3), two) == two
    with pytest.raises(ConfigError, match='allowed: a tensor, a list of view tensors'):
        student_views(nn.Linear(3, 3), dict(x=1))


def _trained_eman_teacher(steps=3):
    """An EMAN teacher whose weights and statistics have moved away from its student's."""
    torch.manual_seed(0)
    student = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(student, 'bn-eman', momentum=0.5)
    opt = torch.optim.SGD(student.parameters(), lr=0.5)
    for x in make_batches(steps, seed=5):
        student(x).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        teacher.update()
    return teacher


def test_precise_statistics_are_the_population_statistics_of_the_teachers_own_weights():
    from emanplug.core import precise_statistics
    teacher = _trained_eman_teacher()
    before = {k: v.clone() for k, v in teacher.module.state_dict().items()}
    batches = make_batches(3, seed=9)
    # by hand: a plain-BN network holding the teacher's weights, each BN input's statistics
    plain = small_convnet()
    plain.load_state_dict(teacher.module.state_dict())
    expected = reference_stats(plain, batches)

    stats = precise_statistics(teacher.module, iter(batches))
    assert set(stats) == set(expected) and stats
    for name, (mean, var) in stats.items():
        assert torch.allclose(mean, expected[name][0], rtol=1e-5, atol=1e-6), name
        assert torch.allclose(var, expected[name][1], rtol=1e-5, atol=1e-6), name
    # the EMA statistics the teacher holds differ from them, and the teacher did not change
    assert any(not torch.allclose(dict(teacher.module.named_modules())[n].running_mean, m)
               for n, (m, _) in stats.items())
    for k, v in teacher.module.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_statistics_swapped_uses_them_inside_and_restores_bitwise():
    from emanplug.core import precise_statistics, statistics_swapped
    teacher = _trained_eman_teacher()
    before = {k: v.clone() for k, v in teacher.module.state_dict().items()}
    batches = make_batches(3, seed=9)
    stats = precise_statistics(teacher.module, batches)
    x = make_batches(1, seed=11)[0]
    plain = small_convnet()
    plain.load_state_dict(teacher.module.state_dict())
    with torch.no_grad():
        for name, (mean, var) in stats.items():
            dict(plain.named_modules())[name].running_mean.copy_(mean)
            dict(plain.named_modules())[name].running_var.copy_(var)
        with statistics_swapped(teacher.module, stats):
            inside = teacher(x)
        assert torch.allclose(inside, plain.eval()(x), atol=1e-6)
    for k, v in teacher.module.state_dict().items():
        assert torch.equal(v, before[k]), k
    with pytest.raises(KeyError, match='does not have'):
        with statistics_swapped(teacher.module, {'nope': stats[next(iter(stats))]}):
            pass


def test_statistics_distance_is_zero_for_equal_statistics_and_in_sd_units():
    from emanplug.core import statistics_distance
    mean, var = torch.tensor([1.0, -2.0]), torch.tensor([4.0, 1.0])
    assert [float(v) for v in statistics_distance(mean, var, mean, var, eps=0.0)] == [0.0, 0.0]
    gap_mean, gap_logvar = statistics_distance(mean + torch.tensor([2.0, 0.0]), var * 2.0,
                                               mean, var, eps=0.0)
    assert float(gap_mean) == pytest.approx((2.0 / 2.0 + 0.0) / 2)   # 1 sd in channel 0
    assert float(gap_logvar) == pytest.approx(float(torch.log(torch.tensor(2.0))))
