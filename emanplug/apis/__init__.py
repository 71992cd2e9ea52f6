from .runner import check_config, init_distributed, prepare_config

__all__ = ['check_config', 'init_distributed', 'prepare_config']
