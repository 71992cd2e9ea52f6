import os
import warnings

import pytest
import torch

import emanplug
from speedups import freeze_long_lived_objects, plain_config_text

warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
torch.set_num_threads(int(os.environ.get('EMANPLUG_TEST_THREADS', '1')))
plain_config_text()  # tests/speedups.py: yapf formatting is a quarter of a short training run
emanplug.register_all_modules()  # the OpenMMLab adapters, whatever a test module imports first


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def cifar_root(tmp_path_factory):
    """A few real CIFAR-10 images per class in the ImageFolder layout (train/, test/)."""
    from data_utils import make_cifar_subset
    return make_cifar_subset(tmp_path_factory.mktemp('cifar10'))


def pytest_collection_finish(session):
    freeze_long_lived_objects()  # tests/speedups.py: after the test modules' imports


def pytest_collection_modifyitems(config, items):
    """The ``smoke`` tests (minutes of 2-process training) run only with EMANPLUG_SMOKE=1,
    whatever ``-m`` says: ``EMANPLUG_SMOKE=1 bash tools/run_tests.sh -q tests/test_imagenet_smoke.py``."""
    if os.environ.get('EMANPLUG_SMOKE') == '1':
        return
    skip = pytest.mark.skip(reason='smoke test: runs with EMANPLUG_SMOKE=1 (see .ci/run)')
    for item in items:
        if 'smoke' in item.keywords:
            item.add_marker(skip)
