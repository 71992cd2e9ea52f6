"""MMEngine/mmpretrain adapters: norm layers and models built from config."""
from . import norm_layers  # noqa: F401  (registers the norm layers)
from . import pretrained  # noqa: F401  (registers the SelfSupPretrained init_cfg)
from .selfsup import EMABYOL, EMAMoCo
from .semisup import FixMatch, SemiSupDataPreprocessor, fixmatch_loss

__all__ = ['EMAMoCo', 'EMABYOL', 'FixMatch', 'SemiSupDataPreprocessor', 'fixmatch_loss']
