"""Test-only speed-ups that change nothing a test checks.

mmengine formats every config it logs or dumps with yapf: about 0.2 s per call and five calls
per Runner, a quarter of the time of the short 2-process training cells.  No test reads the
formatting, so the tests keep mmengine's unformatted config text (still valid Python, loaded
back the same way)."""


def plain_config_text() -> None:
    import mmengine.config.config as config_module
    config_module.FormatCode = lambda text, **kwargs: (text, False)


def freeze_long_lived_objects() -> None:
    """Moves every object alive now (the imported modules of torch, mmengine, mmpretrain, ...:
    some 400k objects) out of the garbage collector's sight, after one collection.  mmengine
    calls ``gc.collect()`` for every dataset it builds (``BaseDataset._serialize_data``): 0.2 s
    per call over those objects, and more in a pytest process late in the suite.  Objects made
    later are collected as before; the frozen ones are alive anyway (modules, registries)."""
    import gc
    gc.collect()
    gc.freeze()


def run_side_by_side(commands, timeout=300, **popen_kwargs):
    """Runs the commands (argv lists) at once and returns one ``(returncode, stdout, stderr)``
    per command, in order.  Commands that are mostly imports use one core each, so on 2 cores
    side by side they take about half the time of one after the other."""
    import subprocess
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              **popen_kwargs) for argv in commands]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        results.append((proc.returncode, stdout, stderr))
    return results
