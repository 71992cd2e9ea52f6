from .runner import check_config, distributed, init_distributed, load_config, prepare_config, run_cli

__all__ = ['load_config', 'check_config', 'distributed', 'init_distributed', 'prepare_config', 'run_cli']
