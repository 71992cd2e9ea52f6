import os
import warnings

import pytest
import torch

warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
torch.set_num_threads(int(os.environ.get('EMANPLUG_TEST_THREADS', '1')))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
