from .runner import check_config, init_distributed, load_config, prepare_config

__all__ = ['load_config', 'check_config', 'init_distributed', 'prepare_config']
