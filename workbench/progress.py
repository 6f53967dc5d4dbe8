"""Progress of long work on stderr, for a person at a terminal and for a log file alike.

On a terminal: a tqdm bar. Elsewhere (``workbench compare --quick 2> log``, CI, a pipe), where
a bar would be one endless line of carriage returns: one line per finished task, with the time
so far and an estimate of what remains.

>>> import io
>>> out = io.StringIO()
>>> with Progress(2, "fits", file=out, clock=iter([0.0, 4.0, 10.0]).__next__) as bar:
...     bar.update("logreg fold 0")
...     bar.update("logreg fold 1")
>>> print(out.getvalue(), end="")
fits: 1/2 done (logreg fold 0), 4 s so far, about 4 s left
fits: 2/2 done (logreg fold 1), 10 s so far
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
    file : text stream, default=sys.stderr
    clock : callable, default=time.perf_counter
    """

    def __init__(self, total: int, desc: str, *, enabled: bool = True, file: TextIO | None = None,
                 clock=time.perf_counter):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.file = file if file is not None else sys.stderr
        self.clock, self.done = clock, 0
        self.start = clock()
        self._bar = None
        if enabled and self.file.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="task", file=self.file)

    def update(self, what: str = "") -> None:
        """One more task finished; ``what`` names it."""
        self.done += 1
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
            line += f", about {_duration(elapsed / self.done * (self.total - self.done))} left"
        print(line, file=self.file, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
