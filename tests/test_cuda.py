"""On a CUDA GPU (skipped without one; ``bash tools/gpu_check.sh`` runs them): the teacher's
forward and update on the GPU equal the CPU's, the teacher stays float32 and its update exact
under ``torch.autocast`` (fp16 and bf16), and GlobalBatchNorm takes torch's CUDA SyncBN
kernels (nccl), with the statistics and gradients of BN over the global batch."""
import copy
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

from emanplug.core import EMATeacher, prepare_student

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]

DEVICE = 'cuda'  # what these tests compare with the CPU (a variable only so that a dry run can swap it)
SCHEMES = ('bn-bn', 'bn-eman', 'bn-eman0.9', 'bn-momentumbn', 'bn-teacherpn0.999',
           'bn-studentpn0.999', 'gn-gn', 'in-in')


@pytest.fixture(autouse=True)
def _exact_float32():
    """No TF32: GPU and CPU results are compared at float32 precision."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def small_net() -> nn.Module:
    """conv-BN-ReLU x 2, pooling, BN1d, linear: 32 channels (gn-gn's 32 groups divide them)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.Linear(32, 10))


def trained_pair(scheme: str, steps: int = 3):
    """A student trained a few SGD steps on the CPU and its teacher, updated after each."""
    torch.manual_seed(0)
    student = prepare_student(small_net(), scheme)
    teacher = EMATeacher(student, scheme, momentum=0.9)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        x = torch.randn(16, 3, 16, 16)
        loss = (student(x) - teacher(x)).pow(2).mean() + student(x).logsumexp(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        teacher.update(step, steps)
    return student, teacher


def floating_state(teacher: EMATeacher) -> dict:
    return {k: v for k, v in teacher.module.state_dict().items() if v.is_floating_point()}


@pytest.mark.parametrize('scheme', SCHEMES)
def test_teacher_forward_and_update_on_gpu_equal_the_cpu(scheme):
    student, teacher = trained_pair(scheme)
    gpu_student, gpu_teacher = copy.deepcopy((student, teacher))
    gpu_student.to(DEVICE)
    gpu_teacher.to(DEVICE)
    assert gpu_teacher.student is gpu_student
    x = torch.randn(8, 3, 16, 16)
    torch.testing.assert_close(gpu_teacher(x.to(DEVICE)).cpu(), teacher(x), rtol=1e-4, atol=1e-5)
    # one more update on each device, from the same student: the same teacher state
    teacher.update(momentum=0.9)
    gpu_teacher.update(momentum=0.9)
    for (name, cpu), gpu in zip(floating_state(teacher).items(), floating_state(gpu_teacher).values()):
        assert gpu.device.type == DEVICE and gpu.dtype == torch.float32, name
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-6, atol=1e-7, msg=name)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16], ids=['fp16', 'bf16'])
@pytest.mark.parametrize('scheme', ['bn-eman', 'bn-bn', 'bn-momentumbn'])
def test_teacher_stays_float32_and_its_update_exact_under_autocast(scheme, dtype):
    if DEVICE == 'cuda' and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip('this GPU has no bfloat16')
    torch.manual_seed(0)
    student = prepare_student(small_net(), scheme).to(DEVICE)
    teacher = EMATeacher(student, scheme, momentum=0.99).to(DEVICE)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler(DEVICE, enabled=dtype == torch.float16)
    for step in range(5):
        x = torch.randn(16, 3, 16, 16, device=DEVICE)
        with torch.autocast(DEVICE, dtype=dtype):
            out, target = student(x), teacher(x)
            assert out.dtype == dtype and target.dtype == dtype  # the forward ran in low precision
            loss = (out.float() - target.float()).pow(2).mean() + out.float().logsumexp(1).mean()
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        before = {k: v.clone() for k, v in floating_state(teacher).items()}
        students = dict(student.state_dict())
        m = teacher.momentum_at(step, 5)
        with torch.autocast(DEVICE, dtype=dtype):  # a loop that updates inside autocast
            teacher.update(step, 5)
        after = floating_state(teacher)
        assert {str(v.dtype) for v in after.values()} == {'torch.float32'}
        assert all(bool(torch.isfinite(v).all()) for v in after.values())
        buffer_m = teacher.scheme.buffer_momentum(m)
        for name, old in before.items():
            is_param = name in dict(teacher.module.named_parameters())
            if not is_param and buffer_m is None:
                continue  # buffers the scheme does not average (bn-bn: the teacher's own)
            if scheme == 'bn-momentumbn' and not is_param:
                continue  # MomentumBN moves its statistics in its forward, not in update()
            weight = 1 - (m if is_param else buffer_m)
            # eq. (1) / (9) in float64, rounded once: the update lost nothing to low precision
            expected = (old.double() + weight * (students[name].double() - old.double())).float()
            torch.testing.assert_close(after[name], expected, rtol=3e-7, atol=1e-8, msg=name)


def _assert_global_bn(layer, mine, out, reference, full, expected, grad, part) -> None:
    """``layer``'s output, input gradient, statistics and (summed over processes) weight / bias
    gradients, for this process's part ``mine`` of the global batch, are BN's over ``full``."""
    (out * grad[part]).sum().backward()
    torch.testing.assert_close(out, expected[part], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(mine.grad, full.grad[part], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(layer.running_mean, reference.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(layer.running_var, reference.running_var, rtol=1e-5, atol=1e-6)
    # weight / bias gradients: each process holds its part's share; DDP sums them
    for name in ('weight', 'bias'):
        total = getattr(layer, name).grad.clone()
        dist.all_reduce(total)
        torch.testing.assert_close(total, getattr(reference, name).grad, rtol=1e-4, atol=1e-5)


def _syncbn_worker(rank: int, world: int, init_file: str, results: dict) -> None:
    from emanplug.core.norms import GlobalBatchNorm
    torch.cuda.set_device(rank)
    dist.init_process_group('nccl', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # the same global batch and output gradient on every process
        x = torch.randn(4 * world, 8, 5, 5, device='cuda')
        grad = torch.randn_like(x)
        layer = GlobalBatchNorm(8, momentum=0.1).cuda().train()
        with torch.no_grad():
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.uniform_(-0.5, 0.5)
        direct = copy.deepcopy(layer)
        reference = nn.BatchNorm2d(8, momentum=0.1).cuda().train()
        reference.load_state_dict(layer.state_dict())
        calls = []
        forward_cuda = layer._forward_cuda
        layer._forward_cuda = lambda t: calls.append(1) or forward_cuda(t)

        part = slice(4 * rank, 4 * rank + 4)
        full = x.clone().requires_grad_(True)
        expected = reference(full)
        (expected * grad).sum().backward()
        mine = x[part].clone().requires_grad_(True)
        # through forward(): the CUDA SyncBN path from 2 processes on, plain BN with one
        _assert_global_bn(layer, mine, layer(mine), reference, full, expected, grad, part)
        if world == 1:  # the CUDA SyncBN path itself, which forward() takes with several processes
            mine = x[part].clone().requires_grad_(True)
            _assert_global_bn(direct, mine, direct._forward_cuda(mine), reference, full, expected, grad, part)
        results[rank] = len(calls)  # the calls forward() made
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize('world', [1, 2], ids=['1gpu', '2gpus'])
def test_global_batchnorm_takes_the_cuda_syncbn_path(world):
    if torch.cuda.device_count() < world:
        pytest.skip(f'needs {world} GPUs')
    fd, init_file = tempfile.mkstemp(prefix='emanplug-nccl-')
    os.close(fd)
    os.remove(init_file)
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_syncbn_worker, args=(world, init_file, results), nprocs=world, join=True)
        # forward() took _forward_cuda once per process with 2 processes; with one, plain BN
        assert dict(results) == {r: int(world > 1) for r in range(world)}
    if os.path.exists(init_file):
        os.remove(init_file)


def test_global_batchnorm_routes_cuda_tensors_to_the_syncbn_kernels(monkeypatch):
    """forward() on CUDA tensors with several processes calls _forward_cuda (torch's SyncBN
    function), not the all-gather path written for CPU tensors."""
    from emanplug.core import norms
    layer = norms.GlobalBatchNorm(4).cuda().train()
    monkeypatch.setattr(norms, 'world_size', lambda group=None: 2)
    called = []
    monkeypatch.setattr(layer, '_forward_cuda', lambda x: called.append(x.device.type) or x)
    monkeypatch.setattr(norms, 'all_gather_with_grad', lambda *a, **k: pytest.fail('CPU path taken'))
    layer(torch.randn(3, 4, 2, 2, device='cuda'))
    assert called == ['cuda']
