"""Weight-space interpolation of a fine-tuned model with the model it started from (after Wortsman et al.,
"Robust fine-tuning of zero-shot models", CVPR 2022, WiSE-FT): the mix keeps what each knew better, here
the start's handwriting-style accuracy and the fine-tune's display styles."""
import numpy as np


def interpolated(start, tuned, fraction, names=('start', 'tuned')):
    """``(1 - fraction) * start + fraction * tuned``, weight by weight, for two lists of arrays of one
    architecture (``fraction`` 0 gives the start, 1 the fine-tune). ``names`` name the two in errors."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f'fraction must be between 0 and 1, got {fraction}')
    if len(start) != len(tuned):
        raise ValueError(f'{names[0]} holds {len(start)} weight arrays and {names[1]} {len(tuned)}: '
                         f'not the same network')
    mixed = []
    for index, (a, b) in enumerate(zip(start, tuned)):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise ValueError(f'weight {index}: {a.shape} in {names[0]} against {b.shape} in {names[1]}: '
                             f'not the same network')
        mixed.append(((1.0 - fraction) * a + fraction * b).astype(a.dtype))
    return mixed
