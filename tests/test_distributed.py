"""SyncBN and ShuffleBN across 2 processes with gloo on CPU."""
import copy

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn

from emanplug.core import EMATeacher, prepare_student, GlobalBatchNorm
from emanplug.hooks import find_teachers

from dist_utils import run_distributed
from helpers import small_convnet

pytestmark = pytest.mark.dist


def global_batch(world, per_rank=4):
    g = torch.Generator().manual_seed(7)
    return torch.randn(world * per_rank, 3, 5, 5, generator=g) * 2 + 1


def _syncbn_worker(rank, world):
    x_all = global_batch(world)
    w_out = torch.randn(x_all.shape, generator=torch.Generator().manual_seed(3))
    mine = slice(rank * 4, (rank + 1) * 4)

    layer = GlobalBatchNorm(3, momentum=0.1).train()
    with torch.no_grad():
        layer.weight.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(1))
    ref = nn.BatchNorm2d(3, momentum=0.1).train()
    ref.load_state_dict(layer.state_dict())

    x = x_all[mine].clone().requires_grad_(True)
    out = layer(x)
    (out * w_out[mine]).sum().backward()

    x_ref = x_all.clone().requires_grad_(True)
    out_ref = ref(x_ref)
    (out_ref * w_out).sum().backward()

    # forward: statistics of the concatenated global batch
    assert torch.allclose(out, out_ref[mine], atol=1e-5)
    assert torch.allclose(layer.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(layer.running_var, ref.running_var, atol=1e-5)
    # backward: same gradients as BN over the global batch
    assert torch.allclose(x.grad, x_ref.grad[mine], atol=1e-5)
    grad_w = layer.weight.grad.clone()
    dist.all_reduce(grad_w)
    assert torch.allclose(grad_w, ref.weight.grad, atol=1e-4)


def test_syncbn_uses_global_batch_statistics_under_gloo():
    run_distributed(_syncbn_worker)


def _syncbn_scheme_worker(rank, world):
    student = small_convnet()
    teacher = EMATeacher(prepare_student(student, 'syncbn-syncbn'), 'syncbn-syncbn')
    assert any(isinstance(m, GlobalBatchNorm) for m in student.modules())
    assert any(isinstance(m, GlobalBatchNorm) for m in teacher.module.modules())
    x_all = global_batch(world)
    out = teacher(x_all[rank * 4:(rank + 1) * 4])
    plain = small_convnet().train()  # plain BN over the concatenated batch
    plain.load_state_dict(teacher.module.state_dict())
    with torch.no_grad():
        expected = plain(x_all)
    assert torch.allclose(out, expected[rank * 4:(rank + 1) * 4], atol=1e-4)


def test_syncbn_scheme_teacher_sees_global_batch():
    run_distributed(_syncbn_scheme_worker)


def _shufflebn_worker(rank, world):
    torch.manual_seed(0)
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-shufflebn'), 'bn-shufflebn')
    reference = copy.deepcopy(teacher.module).train()
    x_all = global_batch(world)
    mine = slice(rank * 4, (rank + 1) * 4)

    torch.manual_seed(123)
    out = teacher(x_all[mine])
    torch.manual_seed(123)
    perm = torch.randperm(len(x_all))  # rank 0 draws the permutation and broadcasts it
    with torch.no_grad():
        shuffled_out = torch.cat([reference(x_all[perm[r * 4:(r + 1) * 4]]) for r in range(world)])
        expected = shuffled_out[torch.argsort(perm)]
        unshuffled = reference(x_all[mine])
    assert torch.allclose(out, expected[mine], atol=1e-5)
    assert not torch.allclose(out, unshuffled, atol=1e-3)  # statistics came from other samples


def test_shufflebn_normalises_keys_with_a_shuffled_global_batch():
    run_distributed(_shufflebn_worker)


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = small_convnet()
        self.teacher = EMATeacher(prepare_student(self.student, 'bn-eman'), 'bn-eman', momentum=0.5)

    def forward(self, x):
        return (self.student(x) - self.teacher(x)).pow(2).mean()


def _ddp_worker(rank, world):
    model = nn.parallel.DistributedDataParallel(_Model())
    teachers = find_teachers(model)
    assert len(teachers) == 1
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(global_batch(world)[rank * 4:(rank + 1) * 4])
    loss.backward()
    opt.step()
    before = copy.deepcopy(teachers[0].module.state_dict())
    teachers[0].update()
    student = model.module.student.state_dict()
    params = dict(teachers[0].module.named_parameters())
    for name, value in teachers[0].module.state_dict().items():
        if not value.is_floating_point():
            continue
        target = student[name].clone()
        if name not in params:  # statistics: EMA of the students' mean over processes
            dist.all_reduce(target)
            target /= world
        assert torch.allclose(value, 0.5 * before[name] + 0.5 * target, atol=1e-6), name
    # teacher parameters follow the (synchronised) student parameters: identical everywhere
    assert_same_on_all_ranks(dict(teachers[0].module.named_parameters()), world)
    assert_same_on_all_ranks(dict(teachers[0].module.named_buffers()), world)


def assert_same_on_all_ranks(tensors, world):
    flat = torch.cat([v.detach().flatten().float() for v in tensors.values()])
    gathered = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    assert torch.equal(gathered[0], gathered[1])


def test_teacher_update_through_ddp_wrapper():
    run_distributed(_ddp_worker)


def test_shufflebn_single_process_uses_sub_batches():
    teacher = EMATeacher(prepare_student(small_convnet(), dict(type='shufflebn', num_splits=2)), dict(type='shufflebn', num_splits=2))
    reference = copy.deepcopy(teacher.module).train()
    for m in reference.modules():
        if hasattr(m, 'num_splits'):
            m.num_splits = 1
    x = global_batch(2)
    torch.manual_seed(5)
    out = teacher(x)
    torch.manual_seed(5)
    perm = torch.randperm(len(x))
    with torch.no_grad():
        shuffled = torch.cat([reference(x[perm[i * 4:(i + 1) * 4]]) for i in range(2)])
    assert torch.allclose(out, shuffled[torch.argsort(perm)], atol=1e-5)


def _session_worker(rank, world, port, result_dir):
    import os
    from emanplug.cli.runner import distributed
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR='127.0.0.1',
                      MASTER_PORT=str(port))
    states = []
    with distributed('pytorch'):
        states.append(dist.is_initialized())
        with distributed('pytorch'):  # nested (tools/train.py inside a driver): not its group
            t = torch.tensor([rank + 1.0])
            dist.all_reduce(t)
        states.append(dist.is_initialized())
    states.append(dist.is_initialized())
    torch.save(dict(states=states, total=t.item()), f'{result_dir}/{rank}.pt')


def test_distributed_session_tears_down_the_group_it_started(tmp_path):
    """tools/train.py's process group is destroyed after the run (a gloo group alive at exit
    can abort a finished run); a group that existed before is left to its owner."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.spawn(_session_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        got = torch.load(tmp_path / f'{rank}.pt')
        assert got['states'] == [True, True, False]
        assert got['total'] == 3.0


def _all_reduce_mean_worker(rank, world):
    from emanplug.core.distributed import all_reduce_mean_
    a = torch.full((2, 3), float(rank + 1))          # ranks hold 1 and 2
    b = torch.tensor([10.0 * (rank + 1)])             # ranks hold 10 and 20
    all_reduce_mean_([a, b])
    assert torch.equal(a, torch.full((2, 3), 1.5)) and torch.equal(b, torch.tensor([15.0]))
    # weighted: rank 0 averaged 1 batch, rank 1 three; a tensor nobody estimated keeps its value
    c = torch.tensor([float(rank)])                   # 0 and 1, weights 1 and 3 -> 0.75
    d = torch.tensor([5.0 + rank])                    # weights 0 and 0 -> unchanged
    all_reduce_mean_([c, d], weights=[1 + 2 * rank, 0])
    assert torch.equal(c, torch.tensor([0.75])) and torch.equal(d, torch.tensor([5.0 + rank]))


def test_all_reduce_mean_plain_and_weighted_under_gloo():
    run_distributed(_all_reduce_mean_worker)
