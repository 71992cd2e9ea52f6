"""Bad input gives a one-line error that names the key and what is allowed."""
import pytest
import torch

from emanplug import ConfigError
from emanplug.core import EMATeacher, prepare_student, build_scheme

from helpers import small_convnet


def one_line(excinfo):
    msg = str(excinfo.value)
    assert '\n' not in msg
    return msg


def test_unknown_scheme_lists_allowed():
    with pytest.raises(ConfigError) as e:
        build_scheme('bn-fancy')
    msg = one_line(e)
    assert "scheme='bn-fancy' is unknown" in msg
    for name in ('bn', 'eman', 'shufflebn', 'syncbn', 'gn', 'in', 'teacherpn', 'studentpn', 'momentumbn'):
        assert name in msg


def test_wrong_student_norm_in_token():
    with pytest.raises(ConfigError) as e:
        build_scheme('gn-eman')
    assert 'allowed: bn-eman' in one_line(e)


def test_unknown_scheme_argument():
    with pytest.raises(ConfigError) as e:
        build_scheme(dict(type='eman', splits=3))
    assert 'unknown argument(s) splits; allowed: momentum' in one_line(e)


@pytest.mark.parametrize('m', [-0.1, 1.5, float('nan'), 'fast'])
def test_momentum_outside_unit_interval(m):
    with pytest.raises(ConfigError) as e:
        EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman', momentum=m)
    assert 'allowed: a float in [0, 1]' in one_line(e)


def test_scheme_momentum_outside_unit_interval():
    with pytest.raises(ConfigError) as e:
        build_scheme('bn-eman1.5')
    assert 'eman momentum=1.5 is outside [0, 1]' in one_line(e)


def test_num_splits_not_dividing_batch():
    teacher = EMATeacher(prepare_student(small_convnet(), dict(type='shufflebn', num_splits=4)), dict(type='shufflebn', num_splits=4))
    with pytest.raises(ConfigError) as e:
        teacher(torch.randn(6, 3, 8, 8))
    assert one_line(e) == ('batch_size=6 is not divisible by ShuffleBN num_splits=4; '
                           'allowed num_splits: 1, 2, 3, 6')


def test_shufflebn_on_one_process_needs_splits():
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-shufflebn'), 'bn-shufflebn')
    with pytest.raises(ConfigError) as e:
        teacher(torch.randn(8, 3, 8, 8))
    assert 'num_splits >= 2' in one_line(e)


def test_unknown_schedule():
    with pytest.raises(ConfigError) as e:
        EMATeacher(prepare_student(small_convnet(), 'bn-eman'), 'bn-eman', momentum_schedule='linear')
    assert 'allowed: constant, cosine' in one_line(e)
