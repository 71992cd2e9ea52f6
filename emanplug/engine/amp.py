"""CPU mixed precision for MMEngine: bfloat16 autocast where the CPU computes in bfloat16.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts a GPU (CUDA, NPU, MLU or MUSA) in its
constructor, so ``--amp`` on a CPU needs its own wrapper: :class:`CPUAutocastOptimWrapper`.
bfloat16 has float32's exponent range, so no loss scaling is needed.
"""
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from ..errors import ConfigError

#: /proc/cpuinfo flags of native bfloat16 arithmetic, most capable first
BF16_CPU_FLAGS = ('amx_bf16', 'avx512_bf16')


def cpu_bf16_support(cpuinfo: str = '/proc/cpuinfo') -> Optional[str]:
    """The CPU's native bfloat16 instructions (``'amx_bf16'``, ``'avx512_bf16'``), or None.

    Needs oneDNN (``torch.backends.mkldnn``) and a native bfloat16 flag in ``cpuinfo``
    (Linux); elsewhere it asks oneDNN (``torch.ops.mkldnn._is_mkldnn_bf16_supported``).
    Without native instructions oneDNN emulates bfloat16, slower than float32.

    Example:
        >>> cpu_bf16_support()   # on a Sapphire Rapids / Cooper Lake / Zen 4 machine
        'amx_bf16'
    """
    if not torch.backends.mkldnn.is_available():
        return None
    if osp.isfile(cpuinfo):
        with open(cpuinfo) as f:
            flags = {word for line in f if line.startswith('flags') for word in line.split()}
        return next((flag for flag in BF16_CPU_FLAGS if flag in flags), None)
    try:
        return 'mkldnn_bf16' if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None
    except (AttributeError, RuntimeError):
        return None


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward (``optim_context``) runs under CPU bfloat16 autocast.

    What ``--amp`` selects on a CPU with native bfloat16 (:func:`cpu_bf16_support`): the
    model keeps float32 (master) weights, convolutions and matrix products run in bfloat16,
    the backward pass and the optimizer step outside autocast.  No loss scaling.

    Args:
        dtype (str or torch.dtype): the autocast dtype; only 'bfloat16'. Default 'bfloat16'.
        **kwargs: the arguments of ``OptimWrapper`` (optimizer, clip_grad, accumulative_counts).

    Example (config)::

        optim_wrapper = dict(type='CPUAutocastOptimWrapper',
                             optimizer=dict(type='SGD', lr=0.03, momentum=0.9))
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ConfigError(f'optim_wrapper.dtype={dtype!r} is not supported by CPU autocast '
                              "here; allowed: 'bfloat16'")
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """OptimWrapper's context (no gradient sync while accumulating) + CPU bf16 autocast."""
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
