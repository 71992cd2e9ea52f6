"""Run by tests/test_reliability.py under torchrun (2 processes): emanplug-train on the
quickstart config, where rank 1 stops itself (SIGSTOP, as a hung machine would) after its
second iteration; rank 0 must end the job within the process-group timeout.  Each rank
writes its process id into the folder ``$STOP_DRIVER_PIDS`` names, so that the test can end
the stopped rank (torchrun starts each rank in a session of its own)."""
import os
import signal
import sys

from mmengine.hooks import Hook

from emanplug.cli import run_cli, train


class StopRank1(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if os.environ.get('RANK') == '1' and runner.iter == 1:
            print('rank 1: stopping', flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == '__main__':
    if os.environ.get('STOP_DRIVER_PIDS'):
        with open(os.path.join(os.environ['STOP_DRIVER_PIDS'], str(os.getpid())), 'w') as f:
            f.write(os.environ.get('RANK', ''))
    run_cli(lambda argv: train.run(argv, hooks=[StopRank1()]), sys.argv[1:])
