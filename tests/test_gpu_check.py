"""bash tools/gpu_check.sh (bench/gpu_check.py) where it can run here: without CUDA it skips in
one line, exits 0 and writes no docs/bench/gpu.md; the configs it builds pass the config checks;
its report reads the rows a GPU run produces."""
import argparse
import importlib.util
import os
import subprocess
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / 'docs' / 'bench' / 'gpu.md'


def gpu_check():
    spec = importlib.util.spec_from_file_location('gpu_check', ROOT / 'bench' / 'gpu_check.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_without_cuda_skips_in_one_line_and_writes_nothing():
    before = REPORT.stat().st_mtime_ns if REPORT.exists() else None  # GPU numbers, if measured
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')  # no GPU, whatever machine runs the suite
    result = subprocess.run(['bash', str(ROOT / 'tools' / 'gpu_check.sh')], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == ('gpu_check: skipped: no CUDA GPU here (torch.cuda.is_available() is False); '
                         'nothing was measured and docs/bench/gpu.md was not written')
    assert (REPORT.stat().st_mtime_ns if REPORT.exists() else None) == before


def test_gpu_check_cells_pass_the_config_checks(tmp_path):
    from emanplug.cli import fake_imagenet
    from emanplug.cli.checks import check_config
    from emanplug.cli.runner import prepare_config
    module = gpu_check()
    root = fake_imagenet.run([str(tmp_path / 'imagenet'), '--classes', '2', '--train-per-class', '10',
                              '--val-per-class', '1', '--size', '16'])
    for world, schemes in module.SCHEMES.items():
        for method in module.CONFIGS:
            for scheme in schemes:
                config, cfg, batch = module.cell_config(method, scheme, root, 1)
                assert batch == {'moco': 32, 'byol': 64, 'fixmatch': 8}[method]
                prepare_config(cfg, str(tmp_path / 'work'), None, True, config)
                check_config(cfg, 'check')  # every key known, the data where the config reads it
                assert cfg.model.scheme.type == scheme
                cpu_only = [] if torch.cuda.is_available() else ['CPUShareHook']
                assert [h['type'] for h in cfg.custom_hooks] == ['EMANHook', 'NonFiniteGuardHook',
                                                                 *cpu_only]


def test_gpu_check_report_of_measured_rows(tmp_path):
    module = gpu_check()
    row = dict(world=1, batch=32, reduced=False, images_per_s=700.0, peak_gib=10.5, teacher_ok=True,
               losses_ok=True, optim_wrapper='AmpOptimWrapper', loss_scale=65536.0)
    rows = module.ratio_rows([dict(row, method='moco', scheme='bn-bn', step=0.05),
                              dict(row, method='moco', scheme='bn-eman', step=0.055),
                              dict(method='byol', scheme='bn-bn', world=1, error='out of memory: ...')])
    assert rows[1]['ratio'] == 0.055 / 0.05
    info = dict(date='2026-01-01 00:00', gpus=1, gpu='NVIDIA H200', memory_gib=139.8, torch='2.14.1',
                cuda='13.0', cudnn=91000, cpus=16, platform='Linux')
    args = argparse.Namespace(steps=25, warmup=5)
    stages = [dict(name='cuda tests', status='ok', seconds=40, summary='17 passed'),
              dict(name='1 GPU', status='cells failed', seconds=100)]
    out = tmp_path / 'gpu.md'
    module.write_report(str(out), args, info, stages, rows)
    text = out.read_text()
    assert '1 x NVIDIA H200 (140 GiB each)' in text and 'bash tools/gpu_check.sh' in text
    assert 'cuda tests ok (40 s: 17 passed); 1 GPU cells failed (100 s)' in text
    assert '| moco | bn-eman | 1 | 32 | 55.0 | 1.10x | 700 | 10.5 | yes | yes | yes | 65536.0 |' in text
    assert '| byol | bn-bn | 1 | - | failed: out of memory' in text
    assert 'EMAN / BN step-time ratio: moco 1 GPU 1.10x.' in text
