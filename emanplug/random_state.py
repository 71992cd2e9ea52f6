"""The states of the random generators that drive training (torch CPU and CUDA, numpy, python):
saved with checkpoints, and kept unchanged around work that must not shift training's draws
(evaluation, the warm start).  Plain Python, no OpenMMLab import."""
import contextlib
import random
from typing import Iterator

import numpy as np
import torch


def get_rng_state() -> dict:
    """States of the torch (CPU and CUDA), numpy and python random generators."""
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`get_rng_state` returned."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(tuple(state['numpy']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextlib.contextmanager
def rng_state_kept() -> Iterator[None]:
    """Run a block and restore the random generators afterwards (also when it raises), so
    that training draws the same augmentations as without the block.

    Example:
        >>> with rng_state_kept():
        ...     evaluate(model)   # draws random numbers; training's next draws are unchanged
    """
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
