"""The memory of the frozen-feature protocols (kNN, retrieval, low-shot) is said before they
start: ImageNet's bank is 1.28 M x 2048 features per network (emanplug-test prints it)."""
import json
import re

from emanplug.evaluation.knn import bank_memory

CONFIG = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'


def test_imagenet_scale_numbers():
    line = bank_memory(1281167, 50000, 2048, processes=8, element_bytes=2)
    # each of 8 processes keeps ceil(1,281,167 / 8) = 160,146 bank rows: 160,146 x 2048 x 2 B = 0.656 GB;
    # every query: 50,000 x 2048 x 2 B = 0.205 GB; similarities of 1024 queries x 65,536 rows x 4 B = 0.268 GB
    assert line.startswith('feature bank: 160,146 of 1,281,167 bank + 50,000 query images x 2048 x 2 B = '
                           '0.66 GB + 0.20 GB per network and process (8 processes)')
    assert line.endswith('similarities 1,024 x 65,536 x 4 B = 0.27 GB')
    # one process in float32: the whole bank, 1,281,167 x 2048 x 4 B = 10.495 GB
    assert '1,281,167 of 1,281,167 bank + 50,000 query images x 2048 x 4 B = 10.50 GB + 0.41 GB' in \
        bank_memory(1281167, 50000, 2048)
    assert bank_memory(100, 10, 256).endswith('(1 process), similarities 10 x 100 x 4 B = 0.00 GB')


def test_emanplug_test_prints_it_before_the_results(tmp_path, capsys):
    from emanplug.cli import test, train
    options = ['train_cfg.max_epochs=1', 'train_dataloader.num_batch_per_epoch=2']
    train.run([CONFIG, '--work-dir', str(tmp_path / 'run'), '--cfg-options', *options])
    capsys.readouterr()
    results = test.run([CONFIG, str(tmp_path / 'run' / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'eval')])
    out = capsys.readouterr().out.splitlines()
    # the digits kNN monitor: 10 train images per class as bank, the test split as queries;
    # the half-width CIFAR ResNet-18 ends in 8 x 32 = 256 channels
    (memory,) = [n for n, line in enumerate(out) if line.startswith('feature bank: ')]
    assert re.fullmatch(r'feature bank: 100 of 100 bank \+ [\d,]+ query images x 256 x 4 B = 0\.00 GB \+ 0\.00 GB '
                        r'per network and process \(1 process\), similarities [\d,]+ x 100 x 4 B = 0\.00 GB', out[memory])
    assert memory < max(n for n, line in enumerate(out) if line.startswith('{')) and json.loads(out[-1]) == results
