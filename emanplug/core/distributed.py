"""Small torch.distributed helpers that work with gloo (CPU) and nccl (GPU)."""
from typing import List, Optional, Sequence

import torch
import torch.distributed as dist


def world_size(group: Optional[dist.ProcessGroup] = None) -> int:
    """Number of processes in ``group``; 1 when torch.distributed is not initialised."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


def rank(group: Optional[dist.ProcessGroup] = None) -> int:
    """Rank of this process in ``group``; 0 when torch.distributed is not initialised."""
    if not (dist.is_available() and dist.is_initialized()):
        return 0
    return dist.get_rank(group)


@torch.no_grad()
def all_gather_cat(tensor: torch.Tensor,
                   group: Optional[dist.ProcessGroup] = None) -> torch.Tensor:
    """Concatenate ``tensor`` of every process along dim 0 (no gradient).

    Every process must pass a tensor of the same shape.
    """
    n = world_size(group)
    if n == 1:
        return tensor
    parts: List[torch.Tensor] = [torch.empty_like(tensor) for _ in range(n)]
    dist.all_gather(parts, tensor.contiguous(), group=group)
    return torch.cat(parts)


@torch.no_grad()
def gather_strided(shard: torch.Tensor, total: int,
                   group: Optional[dist.ProcessGroup] = None) -> torch.Tensor:
    """Undo a strided sharding: process ``r`` holds items ``r, r + n, r + 2n, ...`` of a
    sequence of ``total`` items (``n`` processes); every process gets all ``total`` items in
    their original order.  Shards may differ in length by one (they are padded for the
    all-gather).  A no-op on one process.
    """
    n = world_size(group)
    if n == 1:
        return shard
    length = -(-total // n)
    padded = shard.new_zeros((length,) + tuple(shard.shape[1:]))
    padded[:shard.shape[0]] = shard
    parts = all_gather_cat(padded, group).view(n, length, *shard.shape[1:])
    return parts.transpose(0, 1).reshape(n * length, *shard.shape[1:])[:total]


@torch.no_grad()
def gather_strided_rows(shard: torch.Tensor, indices: Sequence[int],
                        group: Optional[dist.ProcessGroup] = None) -> torch.Tensor:
    """Rows ``indices`` of a sequence sharded as :func:`gather_strided` shards it (process ``r``
    holds items ``r, r + n, ...``), in float32 on every process, without gathering the rest: each
    process fills the rows it holds and one all-reduce sums them.  A plain lookup on one process."""
    idx = torch.as_tensor(indices, dtype=torch.long, device=shard.device)
    n = world_size(group)
    if n == 1:
        return shard[idx].float()
    mine = idx % n == rank(group)
    out = shard.new_zeros((len(idx),) + tuple(shard.shape[1:]), dtype=torch.float32)
    out[mine] = shard[idx[mine] // n].float()
    dist.all_reduce(out, group=group)
    return out


class _AllGather(torch.autograd.Function):
    """All-gather whose backward sums every process's gradient for this process's input."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, group: Optional[dist.ProcessGroup]):
        ctx.group, ctx.rank = group, rank(group)
        parts = [torch.empty_like(tensor) for _ in range(world_size(group))]
        dist.all_gather(parts, tensor.contiguous(), group=group)
        return tuple(parts)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        grad = torch.stack(grads).contiguous()
        dist.all_reduce(grad, group=ctx.group)
        return grad[ctx.rank], None


def all_gather_with_grad(tensor: torch.Tensor,
                         group: Optional[dist.ProcessGroup] = None) -> List[torch.Tensor]:
    """Gather ``tensor`` from every process; gradients flow back to each process's input."""
    if world_size(group) == 1:
        return [tensor]
    return list(_AllGather.apply(tensor, group))


@torch.no_grad()
def broadcast_(tensor: torch.Tensor, src: int = 0,
               group: Optional[dist.ProcessGroup] = None) -> torch.Tensor:
    """Broadcast ``tensor`` in place from rank ``src``; a no-op on one process."""
    if world_size(group) > 1:
        dist.broadcast(tensor, src, group=group)
    return tensor


@torch.no_grad()
def all_reduce_mean_(tensors: Sequence[torch.Tensor], weights: Optional[Sequence[float]] = None,
                     group: Optional[dist.ProcessGroup] = None) -> None:
    """Replace every tensor of ``tensors`` by its mean over the processes, in place, with one
    all-reduce; a no-op on one process.

    Without ``weights`` the plain mean, computed in the tensors' dtype.  With ``weights``
    (this process's weight of each tensor, e.g. how many batches it averaged) the weighted
    mean, computed in float64; a tensor whose weights sum to 0 over the processes keeps its
    value.
    """
    n = world_size(group)
    if n == 1 or not tensors:
        return
    sizes = [t.numel() for t in tensors]
    if weights is None:
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat, group=group)
        flat /= n
        torch._foreach_copy_(list(tensors), [p.view_as(t) for p, t in
                                             zip(flat.split(sizes), tensors)])
        return
    w = torch.tensor(list(weights), dtype=torch.float64, device=tensors[0].device)
    flat = torch.cat([t.reshape(-1).double() * wi for t, wi in zip(tensors, w)] + [w])
    dist.all_reduce(flat, group=group)
    totals = flat[-len(tensors):].tolist()
    for t, part, total in zip(tensors, flat[:-len(tensors)].split(sizes), totals):
        if total > 0:
            t.copy_((part / total).view_as(t))
