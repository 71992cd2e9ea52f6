"""examples/lightly_moco_eman.py: a few real MoCo v2 steps with an EMA teacher (plain PyTorch)."""
import importlib.util
import math
from pathlib import Path

import pytest
import torch

from emanplug.core import EMAN, EMATeacher, build_scheme
from emanplug.core.schemes import SCHEMES

SCRIPT = Path(__file__).resolve().parents[1] / 'examples' / 'lightly_moco_eman.py'
ARGS = ['--steps', '3', '--batch-size', '16', '--queue', '32', '--warmup-epochs', '1',
        '--device', 'cpu', '--log-every', '1']


@pytest.fixture(autouse=True)
def one_thread():
    """ResNet-18 steps are fastest on one thread here; restore the suite's setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load_example():
    spec = importlib.util.spec_from_file_location('lightly_moco_eman', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_bn_name(module):
    return next(n for n, m in module.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


def run(scheme, monkeypatch):
    """Run main() and record, around every EMATeacher.update, the tensors eq. (1)/(9) use."""
    calls = []
    original = EMATeacher.update

    def recording_update(self, step=None, total=None, *, momentum=None):
        bn = first_bn_name(self.module)
        m = momentum if momentum is not None else self.momentum_at(step, total)
        record = dict(m=m,
                      teacher_params={k: v.clone() for k, v in self.module.named_parameters()},
                      teacher_mean=self.module.get_submodule(bn).running_mean.clone(),
                      student_mean=self.student.get_submodule(bn).running_mean.clone())
        if calls:  # keep the initial copy (first call) and the latest call only
            del calls[1:]
        calls.append(record)
        return original(self, step, total, momentum=momentum)

    monkeypatch.setattr(EMATeacher, 'update', recording_update)
    out = load_example().main(ARGS + ['--scheme', scheme])
    return out, calls


@pytest.mark.parametrize('scheme', ['bn-eman', 'bn-bn'])  # eq. (9) / the teacher's own statistics
def test_moco_steps(scheme, monkeypatch):
    out, calls = run(scheme, monkeypatch)
    teacher, student, losses = out['teacher'], out['student'], out['losses']
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    assert teacher.updates_this_process == 3 and len(calls) == 2

    teacher_norms = [m for m in teacher.module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert teacher_norms
    assert all(isinstance(m, EMAN) for m in teacher_norms) == (scheme == 'bn-eman')
    assert not any(isinstance(m, EMAN) for m in student.modules())

    # Parameters moved towards the student: away from the initial copy, not equal to the student.
    initial, last = calls[0]['teacher_params'], calls[-1]
    student_params = dict(student.named_parameters())
    m = last['m']
    for name in ('0.conv1.weight', '0.layer4.1.bn2.weight', '1.layers.2.weight'):
        t = dict(teacher.module.named_parameters())[name]
        assert not torch.equal(t, initial[name]), name
        assert not torch.equal(t, student_params[name]), name
        # the last update is eq. (1) exactly
        expected = m * last['teacher_params'][name].double() + (1 - m) * student_params[name].double()
        assert torch.allclose(t.double(), expected, rtol=1e-5, atol=1e-7), name
    assert sum((t - initial[n]).abs().sum().item() for n, t in teacher.module.named_parameters()) > 0

    bn = first_bn_name(teacher.module)
    teacher_mean = teacher.module.get_submodule(bn).running_mean
    student_mean = student.get_submodule(bn).running_mean
    assert torch.equal(last['student_mean'], student_mean)  # the student did not move after the update
    if scheme == 'bn-eman':
        # eq. (9) by hand: running_mean := m * old + (1 - m) * student running_mean
        assert m == pytest.approx(0.99)
        expected = m * last['teacher_mean'].double() + (1 - m) * student_mean.double()
        assert torch.allclose(teacher_mean.double(), expected, rtol=1e-5, atol=1e-7)
        assert not torch.equal(teacher_mean, student_mean)
    else:
        # BN/BN: the teacher keeps its own batch statistics; the update leaves them alone
        assert torch.equal(teacher_mean, last['teacher_mean'])


@pytest.mark.parametrize('name', sorted(SCHEMES))
def test_every_registered_scheme_runs_a_step(name):
    """--scheme takes every registered scheme (by its config token): one step, a finite loss,
    one teacher update."""
    token = build_scheme(name).token
    out = load_example().main(['--scheme', token, '--steps', '1', '--batch-size', '8', '--queue', '16',
                               '--input-size', '16', '--warmup-epochs', '1', '--device', 'cpu'])
    assert len(out['losses']) == 1 and math.isfinite(out['losses'][0])
    assert out['teacher'].scheme.token == token and out['teacher'].updates_this_process == 1


def test_shufflebn_on_imagefolder(tmp_path):
    from PIL import Image
    for label in ('a', 'b'):
        (tmp_path / label).mkdir()
        for i in range(4):
            colour = tuple(int(c) for c in torch.randint(0, 256, (3,)))
            Image.new('RGB', (20, 20), colour).save(tmp_path / label / f'{i}.png')
    example = load_example()
    assert example.make_scheme('shufflebn').num_splits == 2
    assert example.make_scheme('bn-shufflebn').num_splits == 2
    out = example.main(['--data', str(tmp_path), '--scheme', 'bn-shufflebn', '--steps', '1',
                        '--batch-size', '4', '--queue', '8', '--input-size', '16', '--device', 'cpu'])
    assert len(out['losses']) == 1 and math.isfinite(out['losses'][0])
    assert out['teacher'].scheme.num_splits == 2


def test_collapse_detector():
    example = load_example()
    chance = math.log(65)
    assert example.looks_collapsed([chance] * 20, queue=64)
    assert not example.looks_collapsed([chance] * 19, queue=64)
    assert not example.looks_collapsed([chance] * 19 + [1.0], queue=64)
