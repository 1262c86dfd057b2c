"""How fast a reader answers: the median time of one call, and batched throughput."""
import time

import numpy as np


def timed(read_one, rank, image_size, calls=100, warmup=10, images=1024):
    """(median ms of ``read_one()``, img/s of ``rank`` over ``images`` random uint8 (N, S, S) inputs, after a
    warm-up batch of 256)."""
    for _ in range(warmup):
        read_one()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        read_one()
        times.append(time.perf_counter() - started)
    batch = np.random.default_rng(0).integers(0, 256, (images, image_size, image_size), np.uint8)
    rank(batch[:256])
    started = time.perf_counter()
    rank(batch)
    return 1000 * float(np.median(times)), images / (time.perf_counter() - started)
