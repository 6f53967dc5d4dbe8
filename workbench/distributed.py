"""Scale out on a Dask cluster: the workbench's parallel work (CV folds, comparison tasks,
search fits) goes through joblib, and joblib's Dask backend sends it to a ``dask.distributed``
scheduler instead of local processes. Nothing else changes: same folds, same seeds, same
scores.

Start a cluster, then point the workbench at it::

    dask scheduler                              # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1   # on each machine, in the workbench's environment
    workbench cv --scheduler tcp://HOST:8786    # or export WORKBENCH_SCHEDULER=tcp://HOST:8786
"""

from __future__ import annotations

import contextlib
import gc
import os

import joblib
from threadpoolctl import threadpool_limits

#: The environment variable that names the scheduler when ``--scheduler`` is not given.
SCHEDULER_ENV = "WORKBENCH_SCHEDULER"
WORKER_WAIT = 10  # seconds to wait for a first worker before saying there is none


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be reached (the message names its address)."""


@contextlib.contextmanager
def cluster(scheduler: str | None = None, *, scatter: list | None = None):
    """Run the joblib work inside the block on the Dask cluster at ``scheduler`` (default
    ``$WORKBENCH_SCHEDULER``); with neither, the block runs locally and yields None.

    Parameters
    ----------
    scheduler : str, optional
        The scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
    scatter : list, optional
        Objects (the data arrays) sent to every worker once, up front; tasks that take one of
        these very objects as an argument get a reference to the worker's copy instead of a
        new copy per task.

    Inside the block, BLAS libraries use one thread per process (see :func:`_one_blas_thread`).

    Yields
    ------
    dask.distributed.Client or None
    """
    address = scheduler or os.environ.get(SCHEDULER_ENV)
    # Fits use one BLAS thread wherever they run: here (joblib runs a single job in this
    # process), in joblib's local worker processes, and on the cluster's workers.
    with threadpool_limits(limits=1, user_api="blas"):
        if not address:
            with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
                yield None
            return
        from dask.distributed import Client

        failure = None
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            failure = f"cannot reach the Dask scheduler at {address}: {exc}"
        except Exception as exc:  # something else answers there: its bytes read as a huge message length...
            failure = f"what answers at {address} is not a Dask scheduler ({type(exc).__name__}: {exc})"
        if failure is not None:
            # The half-made Client closes itself when it is garbage-collected; left to chance,
            # that can happen inside another Client's start and deadlock it (seen in the test
            # suite): collect it now, with the traceback that held it gone.
            gc.collect()
            raise SchedulerError(failure)
        try:
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT)
            except TimeoutError as exc:
                raise SchedulerError(f"the Dask scheduler at {address} has no workers (waited {WORKER_WAIT} s); "
                                     f"start some with: dask worker {address}") from exc
            client.run(_one_blas_thread)
            with joblib.parallel_config(backend="dask", n_jobs=-1, scatter=scatter or None):
                yield client
        finally:
            client.close()


def _one_blas_thread() -> None:
    """Limit this process's BLAS to one thread, for good (run on each Dask worker).

    Floating-point sums come out in a different order with another number of BLAS threads,
    and that is enough to flip an image near a decision boundary: fits use one thread wherever
    they run, so that local and cluster runs give the same scores.
    """
    threadpool_limits(limits=1, user_api="blas")  # stays set until restored, which nothing does
