"""Exact top-n syllables from the model's outputs, restricted to a charset.

In split mode a syllable's probability is p(cho)·p(jung)·p(jong); ranking every syllable of the charset by
that product is exact (the product of per-component top-n lists is not), and cheap: 2,350 sums of logs.
"""
import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from utils.data import hangul

_CHUNK = 256  # rows ranked at once: (256, 2,350) scores stay in cache; 2,048-row chunks ran 1.7x slower


@functools.lru_cache(maxsize=8)
def charset_jamo(charset):
    """int (K, 3) jamo indices of the syllables of a charset string; cached: splitting 2,350 syllables costs
    more than ranking one image."""
    jamo = hangul.split_labels(list(charset))
    jamo.flags.writeable = False
    return jamo


def syllable_log_probs(outputs, jamo):
    """{CHOSUNG, JUNGSUNG, JONGSUNG: (N, classes)} -> (N, K) log-probabilities of the charset's syllables."""
    logs = [np.log(np.maximum(np.asarray(outputs[name], np.float32), 1e-12)) for name in hangul.COMPONENTS]
    return logs[0][:, jamo[:, 0]] + logs[1][:, jamo[:, 1]] + logs[2][:, jamo[:, 2]]


def top_n_indices(scores, n):
    """(N, K) scores -> (N, n) column indices, best first."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1)
    return np.take_along_axis(part, order, 1)


def top_n_syllables(outputs, charset, n=5):
    """Model outputs for N images -> (indices into charset (N, n), probabilities (N, n)), best first.

    ``outputs``: the split model's three softmaxes, or ``{'output': (N, K)}`` for a complete model.
    """
    if n < 1:
        raise ValueError(f'n={n}: ask for at least one candidate')
    key = charset if isinstance(charset, str) else ''.join(charset)  # re-joining a str costs more than ranking
    jamo = charset_jamo(key) if 'output' not in outputs else None
    rows = len(next(iter(outputs.values())))
    chunks = [{name: np.asarray(v)[start:start + _CHUNK] for name, v in outputs.items()}
              for start in range(0, rows, _CHUNK)]
    rank = functools.partial(_top_n_of_chunk, jamo=jamo, n=n)
    found = list(_pool(os.getpid()).map(rank, chunks) if len(chunks) > 1 else map(rank, chunks))
    return np.concatenate([best for best, _ in found]), np.concatenate([probabilities for _, probabilities in found])


def _top_n_of_chunk(chunk, jamo, n):
    """(indices, probabilities) of one chunk of rows; NumPy lets go of the GIL, so chunks rank side by side."""
    if jamo is None:
        scores = np.log(np.maximum(chunk['output'], 1e-12))
    else:
        scores = syllable_log_probs(chunk, jamo)
    best = top_n_indices(scores, n)
    return best, np.exp(np.take_along_axis(scores, best, 1))


@functools.lru_cache(maxsize=None)
def _pool(process):
    """One thread per usable core for ranking a batch's chunks (half the time on 2 cores), one pool per
    process id: a forked child has none of its parent's threads, so it makes its own."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=cores)


def ranked(outputs, charset, n=5, probabilities=False):
    """Model outputs for N images -> one list per image of its n most likely syllables, best first;
    (syllable, probability) pairs with ``probabilities=True``."""
    indices, probs = top_n_syllables(outputs, charset, n)
    return [[(charset[i], float(p)) if probabilities else charset[i] for i, p in zip(row, prob_row)]
            for row, prob_row in zip(indices, probs)]
