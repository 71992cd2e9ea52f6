from .fixmatch import FixMatch, SemiSupDataPreprocessor, fixmatch_loss

__all__ = ['FixMatch', 'SemiSupDataPreprocessor', 'fixmatch_loss']
