"""Never run a stranger's code, never lose a run: remote checkpoints load safely, a crash
during a checkpoint save loses nothing, a non-finite loss stops the run before it is saved,
a stopped peer ends the job."""
import errno
import functools
import http.server
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook

from emanplug import checkpoint_files
from emanplug.checkpoint_files import CheckpointFileError, UnsafeCheckpointError, resume_checkpoint
from emanplug.cli import train
from emanplug.errors import ConfigError
from emanplug.hooks import NonFiniteError
from emanplug.hooks.non_finite_guard import first_non_finite

from toy_runner import ToyEMAModel, make_runner

ROOT = Path(__file__).resolve().parents[1]
DIGITS = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'


class Payload:
    """Unpickling it would run a shell command that creates ``marker``."""
    marker = None

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


@pytest.fixture
def http_payload(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving checkpoints that hold the payload, and an empty
    torch hub cache. Yields (url_of(name), marker)."""
    served = tmp_path / 'served'
    served.mkdir()
    marker = tmp_path / 'payload-ran'
    Payload.marker = marker
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def url_of(name):
        torch.save({'state_dict': {}, 'meta': {'payload': Payload()}}, served / name)
        return f'http://127.0.0.1:{server.server_address[1]}/{name}'
    yield url_of, marker
    server.shutdown()
    server.server_close()


def assert_refused(err, url, marker):
    msg = str(err.value)
    assert '\n' not in msg and url in msg and 'posix.system' in msg and 'refusing to load it' in msg
    assert not marker.exists()


def test_remote_checkpoint_api_refuses_the_payload(http_payload):
    from mmengine.runner import load_checkpoint
    url_of, marker = http_payload
    url = url_of('api.pth')
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(torch.nn.Linear(1, 1), url)
    assert_refused(err, url, marker)


@pytest.mark.parametrize('how', ['load_from', 'resume', 'init_cfg'])
def test_remote_checkpoint_of_a_training_run_is_refused(how, http_payload, tmp_path):
    url_of, marker = http_payload
    url = url_of(f'{how}.pth')
    argv = [DIGITS, '--work-dir', str(tmp_path / 'run'), '--cfg-options', 'train_cfg.max_epochs=1']
    argv += {'load_from': [f'load_from={url}'], 'resume': [],
             'init_cfg': ['model.backbone.init_cfg.type=Pretrained',
                          f'model.backbone.init_cfg.checkpoint={url}']}[how]
    if how == 'resume':
        argv += ['--resume', url]
    with pytest.raises(UnsafeCheckpointError) as err:
        train.run(argv)
    assert_refused(err, url, marker)
    assert not list((tmp_path / 'run').glob('*.pth'))  # it did not train


LOAD_SCRIPT = """
import sys, torch
{imports}
import mmengine.runner.checkpoint as loaders
loaders.get_torchvision_models = lambda: {{'resnet18': sys.argv[1]}}  # torchvision:// -> the server
for source in sys.argv[2:]:
    try:
        load_checkpoint(torch.nn.Linear(1, 1), source)
        print('LOADED', source)
    except Exception as err:
        print(type(err).__name__, '|', repr(str(err)))
"""
IMPORT_ORDERS = {'emanplug-first': 'import emanplug\nfrom mmengine.runner import load_checkpoint',
                 'mmengine-first': 'from mmengine.runner import load_checkpoint\nimport emanplug',
                 'emanplug-then-mmengine': 'import emanplug, mmengine\nimport mmengine.runner\n'
                                           'load_checkpoint = mmengine.runner.load_checkpoint'}


@pytest.mark.parametrize('order', IMPORT_ORDERS)
def test_remote_checkpoint_is_refused_whatever_the_import_order(order, http_payload, tmp_path):
    """A user's script imports emanplug (first, or after mmengine) and loads checkpoints with
    mmengine's own load_checkpoint, in a fresh process: http://, torchvision:// (pointed at the
    server) and a local file are refused with our one line, and the payload never runs."""
    url_of, marker = http_payload
    http, torchvision = url_of('http.pth'), url_of('torchvision.pth')
    local = tmp_path / 'served' / 'http.pth'
    script = LOAD_SCRIPT.format(imports=IMPORT_ORDERS[order])
    result = subprocess.run([sys.executable, '-c', script, torchvision, http, 'torchvision://resnet18',
                             str(local)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env=dict(os.environ, TORCH_HOME=str(tmp_path / 'torch_home')))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if ' | ' in line]  # mmengine logs the others
    assert len(lines) == 3, result.stdout
    for line, source in zip(lines, (http, torchvision, str(local))):
        kind, message = line.split(' | ')
        assert kind == 'UnsafeCheckpointError', line
        assert '\\n' not in message and source in message and 'posix.system' in message, line
    assert not marker.exists()


def test_unreachable_url_is_one_line(tmp_path, monkeypatch):
    from mmengine.runner import load_checkpoint
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.raises(CheckpointFileError, match=r'^checkpoint http://127.0.0.1:9/x.pth cannot be downloaded'):
        load_checkpoint(torch.nn.Linear(1, 1), 'http://127.0.0.1:9/x.pth')


def crash_inside_save(work_dir, crash_at):
    """The child process: train with a checkpoint every iteration and max_keep_ckpts=1, and
    die (os._exit, as a kill would) inside the save ``crash_at`` names."""
    torch.set_num_threads(1)
    real = checkpoint_files.write_atomic

    def write(filename, data):
        if crash_at == 'checkpoint' and filename.endswith('iter_4.pth'):
            tmp = os.path.join(os.path.dirname(filename), f'.iter_4.pth.tmp-{socket.gethostname()}-{os.getpid()}')
            with open(tmp, 'wb') as f:
                f.write(bytes(data)[:len(data) // 2])  # half of it is on disk
            os._exit(9)
        if crash_at == 'pointer' and filename.endswith('last_checkpoint') and data.endswith('iter_4.pth'):
            os._exit(9)  # iter_4.pth is complete, last_checkpoint still names iter_3.pth
        return real(filename, data)
    checkpoint_files.write_atomic = write
    make_runner(work_dir, interval=1, max_keep_ckpts=1).train()
    os._exit(0)


@pytest.mark.parametrize('crash_at', ['checkpoint', 'pointer'])
def test_crash_inside_a_checkpoint_save_loses_nothing(crash_at, tmp_path):
    full = make_runner(tmp_path / 'full', interval=1, max_keep_ckpts=1)
    full.train()
    child = multiprocessing.get_context('fork').Process(target=crash_inside_save,
                                                        args=(tmp_path / 'part', crash_at))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    found, note = resume_checkpoint(str(tmp_path / 'part'))
    assert found == str(tmp_path / 'part' / 'iter_3.pth') and note is None
    resumed = make_runner(tmp_path / 'part', interval=1, max_keep_ckpts=1, resume=True, load_from=found)
    resumed.train()
    assert resumed.iter == 6
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert sorted(p.name for p in (tmp_path / 'part').glob('*.pth')) == ['iter_6.pth']


def test_resume_falls_back_to_the_newest_loadable_checkpoint(tmp_path):
    make_runner(tmp_path, interval=2).train()  # iter_2, iter_4, iter_6
    (tmp_path / 'iter_6.pth').write_bytes((tmp_path / 'iter_6.pth').read_bytes()[:1000])
    found, note = resume_checkpoint(str(tmp_path))
    assert found == str(tmp_path / 'iter_4.pth')
    assert note == (f'{tmp_path}/last_checkpoint names {tmp_path}/iter_6.pth, which is missing or '
                    f'broken: resuming from {tmp_path}/iter_4.pth, the newest loadable checkpoint '
                    'of the work dir')
    (tmp_path / 'last_checkpoint').unlink()
    assert resume_checkpoint(str(tmp_path))[0] == str(tmp_path / 'iter_4.pth')


def tree_hash(folder: Path) -> dict:
    """Every path below ``folder`` with the sha1 of its bytes (folders: None)."""
    import hashlib
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else None
            for p in sorted(folder.rglob('*'))}


@pytest.mark.parametrize('how', ['auto', 'file', 'fallback'])
def test_resume_onto_a_refused_checkpoint_stops_and_changes_nothing(how, tmp_path):
    """``tools/train.py --resume`` (auto through last_checkpoint, with the file, or the newest
    file when last_checkpoint names a truncated one) onto a checkpoint that holds a payload:
    exit status 1, one line on stderr naming the file, the global and what to do; the work
    dir is byte-identical and the payload never ran."""
    work = tmp_path / 'run'
    (work / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (work / '20260101_000000' / '20260101_000000.log').write_text('epoch 1 ...\n')
    Payload.marker = tmp_path / 'payload-ran'
    refused = work / 'epoch_1.pth'
    torch.save({'state_dict': {}, 'meta': {'epoch': 1, 'payload': Payload()}}, refused)
    (work / 'last_checkpoint').write_text(str(refused))
    argv = ['--resume']
    if how == 'file':
        argv = ['--resume', str(refused)]
    elif how == 'fallback':  # last_checkpoint names a truncated epoch_2.pth: the fall-back stops at epoch_1
        (work / 'epoch_2.pth').write_bytes(refused.read_bytes()[:50])
        (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    before = tree_hash(work)
    result = subprocess.run([sys.executable, 'tools/train.py', DIGITS, '--work-dir', str(work), *argv],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: --resume: checkpoint {refused} holds posix.system'), last
    assert f'nothing in {work} was changed' in last and 'another --work-dir' in last
    assert 'posix.system is never allowed' in last and '--allow-global' not in last
    assert tree_hash(work) == before
    assert not Payload.marker.exists()


def test_resume_trusts_a_class_of_the_users_own_only_when_told(tmp_path, capsys):
    """A real checkpoint that also holds a type outside the allow-list (as a user hook or a
    newer emanplug could write): --resume stops and names it; --allow-global with that class
    resumes and trains on (still weights_only=True); a function is never allowed."""
    import datetime
    work = tmp_path / 'run'
    short = ['--cfg-options', 'train_dataloader.num_batch_per_epoch=1']
    train.run([str(ROOT / DIGITS), '--work-dir', str(work), *short, 'train_cfg.max_epochs=1'])
    checkpoint = torch.load(work / 'epoch_1.pth', weights_only=False)
    checkpoint['meta']['hook_state'] = datetime.timedelta(seconds=5)
    torch.save(checkpoint, work / 'epoch_1.pth')
    before = tree_hash(work)
    with pytest.raises(UnsafeCheckpointError, match=r'^--resume: checkpoint \S+epoch_1.pth holds datetime.timedelta'
                                                    r'.*--resume \S+epoch_1.pth --allow-global datetime.timedelta$'):
        train.run([str(ROOT / DIGITS), '--work-dir', str(work), '--resume', *short, 'train_cfg.max_epochs=2'])
    assert tree_hash(work) == before
    with pytest.raises(ConfigError, match=r'^--allow-global posix.system is not allowed; allowed: a class'):
        train.run([str(ROOT / DIGITS), '--work-dir', str(work), '--resume', '--allow-global', 'posix.system'])
    runner = train.run([str(ROOT / DIGITS), '--work-dir', str(work), '--resume', '--allow-global',
                        'datetime.timedelta', *short, 'train_cfg.max_epochs=2'])
    assert runner.epoch == 2 and (work / 'epoch_2.pth').is_file()


def test_the_resume_fall_back_is_said_on_stderr(tmp_path, capsys):
    make_runner(tmp_path, interval=2).train()  # iter_2, iter_4, iter_6
    (tmp_path / 'iter_6.pth').write_bytes((tmp_path / 'iter_6.pth').read_bytes()[:1000])
    train.run([str(ROOT / DIGITS), '--work-dir', str(tmp_path), '--resume', '--check-only'])
    out, err = capsys.readouterr()
    assert f'[emanplug] --resume: {tmp_path}/last_checkpoint names {tmp_path}/iter_6.pth' in err
    assert f'resuming from {tmp_path}/iter_4.pth' in err and '--resume' not in out


def test_full_disk_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    make_runner(tmp_path, interval=3, max_iters=3).train()
    before = (tmp_path / 'iter_3.pth').read_bytes()

    def full(filename, data):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(checkpoint_files, 'write_atomic', full)
    with pytest.raises(CheckpointFileError) as err:
        checkpoint_files.save_checkpoint_atomic({'w': torch.zeros(1000)}, str(tmp_path / 'iter_3.pth'))
    msg = str(err.value)
    assert '\n' not in msg and msg.startswith(f'checkpoint {tmp_path}/iter_3.pth not written: it needs')
    assert 'MiB are free; the previous checkpoints are intact' in msg
    assert (tmp_path / 'iter_3.pth').read_bytes() == before


class NaNAt(ToyEMAModel):
    """The toy model, with a NaN loss at one iteration (counted from 1)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, inputs, mode='loss'):
        self.calls += 1
        out = super().forward(inputs, mode)
        return dict(loss=out['loss'] * float('nan')) if self.calls == self.at else out


def test_nan_loss_stops_within_the_iteration_and_keeps_finite_checkpoints(tmp_path):
    runner = make_runner(tmp_path, max_iters=8, interval=1, max_keep_ckpts=2, model=NaNAt(5),
                         hooks=[dict(type='NonFiniteGuardHook')])
    with pytest.raises(NonFiniteError) as err:
        runner.train()
    msg = str(err.value)
    assert '\n' not in msg and msg.startswith('iteration 5: loss = nan is not finite')
    assert f'--resume {tmp_path}/iter_4.pth' in msg
    assert runner.iter == 4  # stopped inside iteration 5, before it was counted
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_3.pth', 'iter_4.pth']
    for path in tmp_path.glob('*.pth'):
        state = torch.load(path, weights_only=True)['state_dict']
        assert first_non_finite(state.items()) is None, path
    assert (tmp_path / 'last_checkpoint').read_text() == f'{tmp_path}/iter_4.pth'


def test_non_finite_teacher_is_caught_before_it_is_saved(tmp_path):
    class PoisonTeacher(Hook):
        priority = 'HIGHEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter == 2:
                next(runner.model.teacher.module.parameters()).data.fill_(float('inf'))
    runner = make_runner(tmp_path, max_iters=6, interval=1, hooks=[
        PoisonTeacher(), dict(type='NonFiniteGuardHook', teacher_interval=1)])
    with pytest.raises(NonFiniteError, match=r"^iteration 3: teacher tensor '0.weight' is not finite"):
        runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_1.pth', 'iter_2.pth']


def test_guard_is_on_by_default_and_can_be_turned_off(tmp_path):
    from emanplug.cli.runner import load_config, prepare_config
    cfg = prepare_config(load_config(DIGITS), str(tmp_path))
    assert [h for h in cfg.custom_hooks if h['type'] == 'NonFiniteGuardHook'] == [dict(type='NonFiniteGuardHook')]
    off = load_config(DIGITS, {'custom_hooks': [dict(type='EMANHook'),
                                                dict(type='NonFiniteGuardHook', enabled=False)]})
    hooks = prepare_config(off, str(tmp_path)).custom_hooks
    assert [h for h in hooks if h['type'] == 'NonFiniteGuardHook'] == [dict(type='NonFiniteGuardHook', enabled=False)]


def end_process(pid: int) -> bool:
    """SIGKILL ``pid`` (a stopped process too); True once it no longer runs (gone, or a
    zombie for its parent to reap), within 5 s."""
    import signal
    import time
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    for _ in range(100):
        try:
            if Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[-1].split()[0] == 'Z':
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.dist
def test_a_stopped_peer_ends_the_job_within_the_timeout(tmp_path):
    """Rank 1 stops itself; rank 0 must end with one line within the timeout, and torchrun
    then ends the job (it sends the remaining rank its closing signal; a stopped process only
    dies of the SIGKILL torchrun sends 30 s later, which the test does not wait for)."""
    import signal
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29631',
           str(root / 'tests' / 'dist_stop_driver.py'), DIGITS, '--launcher', 'pytorch',
           '--work-dir', str(tmp_path), '--cfg-options', 'env_cfg.dist_cfg.timeout=8',
           'train_cfg.max_epochs=1', 'custom_hooks.1.at_start=False']
    pids = tmp_path / 'pids'
    pids.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS='1', STOP_DRIVER_PIDS=str(pids))
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines, closing = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if 'closing signal' in line:  # torchrun: "Sending process N closing signal SIGTERM"
                closing.set()
        closing.set()  # torchrun ended by itself
    threading.Thread(target=read, daemon=True).start()
    try:
        closing.wait(timeout=150)
        elapsed = time.time() - start
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # the ranks run in sessions of their own: the stopped one outlives torchrun's group
        ended = {p.read_text(): end_process(int(p.name)) for p in pids.iterdir()}
    out = ''.join(lines)
    assert ended == {'0': True, '1': True}, ended
    assert 'rank 1: stopping' in out
    assert 'error: rank 0: rank 1 did not answer within 8 s' in out, out[-3000:]
    assert 'closing signal' in out, out[-3000:]
    assert elapsed < 90, elapsed


def test_a_killed_saves_temporary_files_are_removed_when_the_next_run_starts(tmp_path, capsys):
    """What a save killed midway leaves (write_atomic's .<file>.tmp-<host>-<pid>) is removed by
    the next run in that work dir; a file that a live process or another host may be writing
    is kept."""
    from emanplug.checkpoint_files import remove_crash_leftovers
    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()  # its PID no longer runs
    stale = [f'.iter_4.pth.tmp-{host}-{gone.pid}', f'.last_checkpoint.tmp-{gone.pid}']  # old name too
    kept = [f'.iter_6.pth.tmp-{host}-{os.getpid()}', f'.iter_7.pth.tmp-other-host-{gone.pid}', 'iter_3.pth']
    for name in stale + kept:
        (tmp_path / name).write_bytes(b'x' * 100)
    assert remove_crash_leftovers(str(tmp_path)) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    # through the real entry point: the next training run in that work dir removes them
    (tmp_path / stale[0]).write_bytes(b'x' * 100)
    train.run([str(ROOT / DIGITS), '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1',
               'train_dataloader.num_batch_per_epoch=1'])
    err = capsys.readouterr().err
    assert f'removed 1 temporary file(s) of a save that was killed midway from {tmp_path}: {stale[0]}' in err
    assert not (tmp_path / stale[0]).exists() and (tmp_path / kept[0]).exists()
