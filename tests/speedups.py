"""Test-only speed-ups that change nothing a test checks.

mmengine formats every config it logs or dumps with yapf: about 0.2 s per call and five calls
per Runner, a quarter of the time of the short 2-process training cells.  No test reads the
formatting, so the tests keep mmengine's unformatted config text (still valid Python, loaded
back the same way)."""


def plain_config_text() -> None:
    import mmengine.config.config as config_module
    config_module.FormatCode = lambda text, **kwargs: (text, False)
