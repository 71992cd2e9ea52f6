"""A teacher that survives torch.compile, DDP / DataParallel wrappers and mixed precision
(issue 19, item 2): teacher and student pair by the plain module's names, the teacher stays a
plain float32 module, and every update is eq. (1) / (9) exactly (torch.lerp in float32)."""
import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config

from emanplug.cli import train
from emanplug.cli.runner import apply_amp, load_config, prepare_config
from emanplug.core import EMAN, EMATeacher, prepare_student
from emanplug.core.teacher import prepared_scheme, unwrap_module
from emanplug.engine import amp as amp_module
from emanplug.engine import cpu_bf16_support
from emanplug.errors import ConfigError

from helpers import small_convnet

DIGITS = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
BF16 = cpu_bf16_support()
needs_bf16 = pytest.mark.skipif(BF16 is None, reason='this CPU has no native bfloat16 '
                                '(avx512_bf16 / amx_bf16): --amp trains in float32 here')


def snapshot(module: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_update_exact(teacher: EMATeacher, before: dict, student: dict, m: float) -> None:
    """After ``update``: parameters lerp(old, student, 1 - m) in float32, the floating buffers
    likewise with the scheme's statistics momentum, integer buffers copied; all bitwise."""
    buffer_m = teacher.scheme.buffer_momentum(m)
    params = dict(teacher.module.named_parameters())
    after = teacher.module.state_dict()
    assert after.keys() == student.keys()
    for name, value in after.items():
        if value.is_floating_point():
            assert value.dtype == torch.float32, name
            weight = 1.0 - (m if name in params else buffer_m)
            expected = torch.lerp(before[name], student[name].to(torch.float32), weight)
        else:
            expected = student[name]  # num_batches_tracked
        assert torch.equal(value, expected), name


def train_and_check(student_call, plain: nn.Module, teacher: EMATeacher, steps: int = 3,
                    autocast: bool = False) -> None:
    """``steps`` SGD steps through ``student_call`` (the wrapped student), each followed by
    ``teacher.update(step, steps)`` (inside autocast when ``autocast``) and the exact check."""
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        x = torch.randn(8, 3, 8, 8)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            out, target = student_call(x), teacher(x)
            if autocast:  # the forwards ran in low precision
                assert out.dtype == target.dtype == torch.bfloat16
            loss = (out.float() - target.float()).pow(2).mean() + out.float().logsumexp(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        before, student = snapshot(teacher.module), snapshot(plain)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            teacher.update(step, steps)
        assert_update_exact(teacher, before, student, teacher.momentum_at(step, steps))
    assert teacher.module[1].num_batches_tracked.item() == steps  # the student's counter


# ---------------------------------------------------------------------------------------------
# wrapped students


def test_compiled_student_pairs_by_plain_names_and_updates_exactly():
    """torch.compile with the default inductor backend (a C++ compiler compiles the CPU kernels),
    in a fresh process: the compiled backward starts autograd's worker threads, after which no
    later test of this process could fork (tests/test_reliability.py forks)."""
    import multiprocessing
    child = multiprocessing.get_context('spawn').Process(target=_compiled_student_check)
    child.start()
    child.join(300)
    assert child.exitcode == 0, 'the compiled-student check failed (see its output above)'


def _compiled_student_check():
    torch.set_num_threads(1)
    torch._dynamo.reset()
    net = small_convnet()
    compiled = torch.compile(net)
    assert next(iter(compiled.state_dict())).startswith('_orig_mod.')
    assert prepare_student(compiled, 'bn-eman') is compiled
    assert net.__dict__['_emanplug_scheme'].token == 'bn-eman'  # the mark is on the plain module
    teacher = EMATeacher(compiled, 'bn-eman', momentum=0.9)
    assert teacher.student is net and type(teacher.module) is nn.Sequential  # a plain copy
    assert list(teacher.module.state_dict()) == list(net.state_dict())
    assert not any('_orig_mod' in k for k in teacher.state_dict())
    assert isinstance(teacher.module[1], EMAN)
    train_and_check(compiled, net, teacher)


def test_unwrap_module_through_nested_wrappers_and_the_mark_through_them():
    net = small_convnet()
    wrapped = nn.DataParallel(torch.compile(nn.DataParallel(net), backend='eager'))
    assert unwrap_module(wrapped) is net and unwrap_module(net) is net
    prepare_student(wrapped, 'in-in')  # replaces BN layers: fine through DataParallel / compile
    assert prepared_scheme(wrapped).token == 'in-in' and isinstance(net[1], nn.GroupNorm)
    teacher = EMATeacher(wrapped, 'in-in')
    assert teacher.student is net and list(teacher.module.state_dict()) == list(net.state_dict())
    # prepared as a plain module, then wrapped: the wrapper pairs too
    plain = prepare_student(small_convnet(), 'bn-eman')
    assert EMATeacher(nn.DataParallel(plain), 'bn-eman').student is plain
    with pytest.raises(ConfigError, match="not prepared for scheme 'bn-eman'"):
        EMATeacher(nn.DataParallel(small_convnet()), 'bn-eman')


def test_data_parallel_student_updates_exactly():
    net = small_convnet()
    wrapped = nn.DataParallel(net)
    teacher = EMATeacher(prepare_student(wrapped, 'bn-eman'), 'bn-eman', momentum=0.8)
    train_and_check(wrapped, net, teacher, steps=2)


@pytest.fixture
def gloo_group(tmp_path):
    """A 1-process gloo group (FileStore), destroyed afterwards."""
    if dist.is_initialized():
        pytest.skip('a process group exists already')
    store = dist.FileStore(str(tmp_path / 'store'), 1)
    dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_ddp_student_pairs_by_plain_names_and_updates_exactly(gloo_group):
    from mmengine.model import MMDistributedDataParallel
    net = small_convnet()
    ddp = nn.parallel.DistributedDataParallel(net)
    teacher = EMATeacher(prepare_student(ddp, 'bn-eman'), 'bn-eman', momentum=0.9)
    assert prepared_scheme(net) is teacher.scheme  # one scheme object, shared
    assert teacher.student is net and list(teacher.module.state_dict()) == list(net.state_dict())
    assert not any(k.startswith('module.module.') for k in teacher.state_dict())
    train_and_check(ddp, net, teacher)
    # mmengine's wrapper (a DDP subclass) and DDP around a compiled module
    mm = MMDistributedDataParallel(module=torch.compile(prepare_student(small_convnet(), 'bn-bn'),
                                                        backend='eager'))
    assert EMATeacher(mm, 'bn-bn').student is mm.module._orig_mod
    # a scheme that replaces layers inside DDP would leave DDP with the old parameters
    with pytest.raises(ConfigError, match=r"replaced norm layers of a student already wrapped "
                                          r"in DistributedDataParallel.*allowed: prepare_student"):
        prepare_student(nn.parallel.DistributedDataParallel(small_convnet()), 'in-in')


# ---------------------------------------------------------------------------------------------
# mixed precision


@needs_bf16
def test_cpu_bf16_autocast_teacher_stays_float32_and_updates_exactly():
    net = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(net, 'bn-eman', momentum=0.9)
    train_and_check(net, net, teacher, steps=3, autocast=True)
    assert {v.dtype for v in teacher.module.state_dict().values() if v.is_floating_point()} == {torch.float32}
    # the EMAN teacher's output for sample 0 does not depend on the rest of the batch
    x = torch.randn(8, 3, 8, 8)
    other = torch.cat([x[:1], torch.randn(7, 3, 8, 8) * 3])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        a, b = teacher(x), teacher(other)
    assert a.dtype == torch.bfloat16 and torch.equal(a[0], b[0])


@needs_bf16
@pytest.mark.parametrize('scheme', ['bn-bn', 'bn-eman0.9', 'bn-momentumbn', 'bn-teacherpn0.999',
                                    'bn-studentpn0.999', 'in-in',
                                    dict(type='bn-shufflebn', num_splits=2)],
                         ids=lambda s: s if isinstance(s, str) else 'bn-shufflebn2')
def test_every_norm_layer_runs_under_cpu_bf16_autocast(scheme):
    """The teachers' norm layers (emanplug.core.norms) under autocast: the forward runs, the
    parameter update is exact and the teacher stays float32 and finite."""
    net = prepare_student(small_convnet(), scheme)
    teacher = EMATeacher(net, scheme, momentum=0.9)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(2):
        x = torch.randn(8, 3, 8, 8)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = (net(x).float() - teacher(x).float()).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        before = {k: v.clone() for k, v in teacher.module.named_parameters()}
        with torch.autocast('cpu', dtype=torch.bfloat16):
            teacher.update(step, 2)
        for name, value in teacher.module.named_parameters():
            weight = 1.0 - teacher.momentum_at(step, 2)
            assert torch.equal(value, torch.lerp(before[name], net.get_parameter(name), weight)), name
    state = teacher.module.state_dict()
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float32}
    assert all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())


def test_update_runs_without_autocast_and_a_half_student_still_gives_float32(monkeypatch):
    net = prepare_student(small_convnet(), 'bn-eman')
    teacher = EMATeacher(net, 'bn-eman', momentum=0.9)
    seen = []
    end_iteration = teacher.scheme.end_iteration
    monkeypatch.setattr(teacher.scheme, 'end_iteration', lambda module: (
        seen.append(torch.is_autocast_enabled('cpu')), end_iteration(module)))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        teacher.update()
    assert seen == [False]
    # the user halves the student: the teacher keeps float32 values, eq. (1) / (9) in float32
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.5)
    net.half()
    before, student = snapshot(teacher.module), snapshot(net)
    assert {v.dtype for v in student.values() if v.is_floating_point()} == {torch.float16}
    teacher.update(momentum=0.7)
    assert_update_exact(teacher, before, student, 0.7)
    net.bfloat16()
    teacher.reset_to_student()
    for name, value in teacher.module.state_dict().items():
        if value.is_floating_point():
            assert value.dtype == torch.float32 and torch.equal(value, net.state_dict()[name].float()), name


# ---------------------------------------------------------------------------------------------
# --amp in emanplug-train


def _cfg(**wrapper) -> Config:
    return Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1), **wrapper)))


@needs_bf16
def test_prepare_config_amp_selects_cpu_bf16_autocast(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = prepare_config(load_config(DIGITS), str(tmp_path), amp=True)
    assert cfg.optim_wrapper.type == 'CPUAutocastOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    line = f'[emanplug] --amp: CPU bfloat16 autocast ({BF16}; CPUAutocastOptimWrapper)'
    assert line in capsys.readouterr().out


def test_amp_precision_choice_per_machine(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(amp_module, 'cpu_bf16_support', lambda: None)
    cfg = _cfg(dtype='bfloat16')
    assert apply_amp(cfg) == ('--amp: no CUDA GPU and this CPU has no native bfloat16 '
                              '(amx_bf16 / avx512_bf16); training in float32')
    assert cfg.optim_wrapper == dict(optimizer=dict(type='SGD', lr=0.1))  # float32, unchanged
    monkeypatch.setattr(amp_module, 'cpu_bf16_support', lambda: 'amx_bf16')
    cfg = _cfg(loss_scale='dynamic')
    assert apply_amp(cfg) == '--amp: CPU bfloat16 autocast (amx_bf16; CPUAutocastOptimWrapper)'
    assert 'loss_scale' not in cfg.optim_wrapper
    with pytest.raises(ConfigError, match=r"^optim_wrapper.dtype='float16' with --amp on a CPU; "
                                          r"allowed: 'bfloat16' \(CPU autocast\)$"):
        apply_amp(_cfg(dtype='float16'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg()
    assert apply_amp(cfg) == '--amp: CUDA float16 autocast, loss scale dynamic (AmpOptimWrapper)'
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    cfg = _cfg(dtype='bfloat16')
    assert apply_amp(cfg) == '--amp: CUDA bfloat16 autocast (AmpOptimWrapper)'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    with pytest.raises(ConfigError, match=r"^optim_wrapper.dtype='float64' with --amp on CUDA"):
        apply_amp(_cfg(dtype='float64'))
    with pytest.raises(ConfigError, match=r"^--amp: the config has no optim_wrapper"):
        apply_amp(Config(dict(model=dict())))


def test_cpu_bf16_support_reads_cpuinfo(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n')
    assert cpu_bf16_support(str(info)) == ('avx512_bf16' if torch.backends.mkldnn.is_available() else None)
    info.write_text('flags\t\t: fpu sse avx2\n')
    assert cpu_bf16_support(str(info)) is None


@needs_bf16
def test_two_iterations_with_amp_on_cpu_train_in_bf16_with_a_float32_teacher(tmp_path, capsys):
    from mmengine.hooks import Hook

    class Record(Hook):
        def __init__(self):
            self.dtypes = []

        def before_train(self, runner):
            runner.model.backbone.register_forward_hook(
                lambda mod, args, out: self.dtypes.append(out[-1].dtype) if mod.training else None)

    record = Record()
    runner = train.run([DIGITS, '--amp', '--work-dir', str(tmp_path / 'run'), '--cfg-options',
                        'train_cfg.max_epochs=1', 'train_dataloader.dataset.num_per_class=13',
                        'custom_hooks.1.at_start=False', 'custom_hooks.1.models=[teacher]'],
                       hooks=[record])
    assert runner.iter == 2 and type(runner.optim_wrapper).__name__ == 'CPUAutocastOptimWrapper'
    assert record.dtypes == [torch.bfloat16, torch.bfloat16]  # the student's forward, autocast
    teacher = runner.model.teacher
    assert teacher.updates_this_process == 2
    state = teacher.module.state_dict()
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float32}
    assert all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())
    assert '[emanplug] --amp: CPU bfloat16 autocast' in capsys.readouterr().out
