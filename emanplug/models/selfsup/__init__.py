from .byol import EMABYOL
from .moco import EMAMoCo

__all__ = ['EMAMoCo', 'EMABYOL']
