"""MMEngine adapters of the training engine: mixed precision on CPUs."""
from .amp import CPUAutocastOptimWrapper, cpu_bf16_support

__all__ = ['CPUAutocastOptimWrapper', 'cpu_bf16_support']
