"""What every ``tools/*.py`` wrapper does: run one command of :mod:`emanplug.cli`, or say in
one line how to get emanplug when this Python does not have it (e.g. a new shell in which
``.venv`` was not activated)."""
import importlib
import sys


def run(command: str) -> None:
    """Run ``emanplug.cli.<command>.main()`` with this process's command line."""
    try:
        module = importlib.import_module(f'emanplug.cli.{command}')
    except ModuleNotFoundError as err:  # a Python without emanplug or its dependencies
        if (err.name or '').startswith('emanplug.'):
            raise
        sys.exit(f"error: {err.name} is not installed in {sys.executable}; run 'source .venv/bin/activate' "
                 "(created by bash tools/quickstart.sh or bash tools/run_tests.sh) or 'pip install -e .'")
    module.main()
