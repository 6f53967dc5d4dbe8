"""Progress of long work on stderr, for a person at a terminal and for a log file alike.

On a terminal: a tqdm bar. Elsewhere (``workbench compare --quick 2> log``, CI, a pipe), where
a bar would be one endless line of carriage returns: one line per finished task, with the time
so far and an estimate of what remains.

The estimate counts tasks (the mean time of those done, times those left) unless the work is
given as what each task is expected to take (``expected``, seconds): then what is left is the
expected time of the tasks not done, shared by the ``workers``, corrected by how much slower or
faster the finished tasks ran than expected. A CNN's fit and a logistic regression's are then
not the same step, and the first line is already an estimate of the whole.

>>> import io
>>> out = io.StringIO()
>>> with Progress(2, "fits", file=out, clock=iter([0.0, 4.0, 10.0]).__next__) as bar:
...     bar.update("logreg fold 0")
...     bar.update("logreg fold 1")
>>> print(out.getvalue(), end="")
fits: 1/2 done (logreg fold 0), 4 s so far, about 4 s left
fits: 2/2 done (logreg fold 1), 10 s so far
>>> out = io.StringIO()
>>> with Progress(2, "fits", file=out, expected=[5.0, 600.0], clock=iter([0.0, 10.0]).__next__) as bar:
...     bar.update("logreg", expected=5.0, seconds=10.0)
>>> print(out.getvalue(), end="")
fits: 2 tasks, about 10 min 05 s expected
fits: 1/2 done (logreg), 10 s so far, about 20 min 00 s left
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60:02d} s"


class Progress:
    """``total`` tasks called ``desc``: call :meth:`update` as each finishes.

    Parameters
    ----------
    total : int
    desc : str
        What is being done, e.g. ``"compare"``.
    enabled : bool, default=True
        False shows nothing (library use; the command line turns it on).
    expected : list of float, optional
        Each task's expected seconds (one worker); :meth:`update` then says which finished.
    workers : int, default=1
        How many tasks run at once (with ``expected``).
    file : text stream, default=sys.stderr
    clock : callable, default=time.perf_counter
    """

    def __init__(self, total: int, desc: str, *, enabled: bool = True, expected: list[float] | None = None,
                 workers: int = 1, file: TextIO | None = None, clock=time.perf_counter):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.work_left = float(sum(expected)) if expected is not None else None
        self.workers = max(1, workers)
        self.ran_expected = self.ran_seconds = 0.0  # finished tasks that ran (not read from a cache)
        self.file = file if file is not None else sys.stderr
        self.clock, self.done = clock, 0
        self.start = clock()
        self._bar = None
        if enabled and self.file.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="task", file=self.file)
        elif enabled and expected is not None and total:
            print(f"{desc}: {total} tasks, about {_duration(self.left(0.0))} expected", file=self.file, flush=True)

    def update(self, what: str = "", *, expected: float | None = None, seconds: float | None = None) -> None:
        """One more task finished; ``what`` names it, ``expected`` is what it was expected to
        take and ``seconds`` what it took (None: it did not run, e.g. read from a cache)."""
        self.done += 1
        if self.work_left is not None and expected is not None:
            self.work_left = max(0.0, self.work_left - expected)
            if seconds is not None:
                self.ran_expected += expected
                self.ran_seconds += seconds
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(what)
            self._bar.update()
            return
        elapsed = self.clock() - self.start
        line = f"{self.desc}: {self.done}/{self.total} done" + (f" ({what})" if what else "")
        line += f", {_duration(elapsed)} so far"
        if self.done < self.total:
            line += f", about {_duration(self.left(elapsed))} left"
        print(line, file=self.file, flush=True)

    def left(self, elapsed: float) -> float:
        """Seconds of work still to do, as estimated now."""
        if self.work_left is None:
            return elapsed / self.done * (self.total - self.done)
        speed = self.ran_seconds / self.ran_expected if self.ran_expected > 0 else 1.0
        return self.work_left / self.workers * speed

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
