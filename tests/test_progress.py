import io

from workbench.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_bar_and_a_log_gets_lines():
    terminal = Terminal()
    with Progress(3, "compare", file=terminal) as bar:
        for k in range(3):
            bar.update(f"task {k}")
    assert "\r" in terminal.getvalue() and "3/3" in terminal.getvalue() and "left" not in terminal.getvalue()
    log = io.StringIO()
    times = iter([0.0, 30.0, 60.0, 200.0])
    with Progress(3, "compare", file=log, clock=times.__next__) as bar:
        for k in range(3):
            bar.update(f"task {k}")
    assert log.getvalue().splitlines() == [
        "compare: 1/3 done (task 0), 30 s so far, about 60 s left",
        "compare: 2/3 done (task 1), 60 s so far, about 30 s left",
        "compare: 3/3 done (task 2), 3 min 20 s so far",
    ]


def test_disabled_progress_prints_nothing():
    out = Terminal()
    with Progress(2, "x", file=out, enabled=False) as bar:
        bar.update()
    assert out.getvalue() == "" and bar.done == 1
