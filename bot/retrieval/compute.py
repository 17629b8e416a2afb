"""Compute threads for a serving process on a small machine.

One query at a time is too small a job to split across threads: only the model's batched encodes
gain from them. So the model gets the process's share of the cores, and FAISS and the BLAS behind
numpy get one thread each, which also stops their thread pools spinning against the model's.
"""

from __future__ import annotations

import contextlib
import os


def serving_threads(configured: int, processes: int = 1) -> int:
    """`configured` if set (> 0), else this machine's cores shared among the server processes."""
    if configured > 0:
        return configured
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def tune_threads(model_threads: int) -> None:
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(model_threads)
    with contextlib.suppress(RuntimeError):  # already set, or inter-op work has started
        torch.set_num_interop_threads(1)
    faiss.omp_set_num_threads(1)
    threadpool_limits(1, user_api="blas")
