"""MMEngine/mmpretrain adapters: norm layers and models built from config."""
from . import norm_layers  # noqa: F401  (registers the norm layers)
from .selfsup import EMABYOL, EMAMoCo

__all__ = ['EMAMoCo', 'EMABYOL']
