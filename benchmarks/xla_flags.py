"""The training step under each XLA:CPU option that this jax version has, beside PyTorch.

    .venv/bin/python benchmarks/xla_flags.py [--steps 50] [--rounds 3] [--passes 2]

XLA reads ``XLA_FLAGS`` once, when the backend starts, so each setting runs
``train_step.py --only keras torch`` in its own process. The whole list of settings is run
``--passes`` times, one setting after the other, so that a slow minute on this shared machine
hits one pass of every setting rather than every pass of one. The table shows each setting's
median images per second for the workbench's step (without and with the affine augmentation)
and PyTorch's step measured in the same processes (``pip install torch==2.13.0``; not a
dependency of the workbench), and the ratio of the two with augmentation, the real step.
The ratio is the figure to compare across settings: it divides out the load of the moment.

The settings are the CPU options of jaxlib's ``--help`` text (``XLA_FLAGS=--help``) that bear
on convolutions, fusion, vectors and threads. ``--xla_cpu_use_thunk_runtime`` is left out:
this jax version prints that it is no longer supported (it changes nothing).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

SETTINGS = {
    "default": "",
    "oneDNN thunks": "--xla_cpu_use_onednn=true",
    "oneDNN thunks + fusion": "--xla_cpu_use_onednn=true --xla_cpu_experimental_onednn_fusion_type=dot,eltwise",
    "oneDNN custom call": "--xla_cpu_experimental_onednn_custom_call=true",
    "no XNNPACK": "--xla_cpu_use_xnnpack=false",
    "XNNPACK fusion": "--xla_cpu_experimental_xnn_fusion_type=dot,eltwise,reduce",
    "XNNPACK graph fusion": "--xla_cpu_experimental_xnn_graph_fusion_mode=XNN_GRAPH_FUSION_MODE_GREEDY",
    "YNNPACK fusion": "--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce",
    "fast math": "--xla_cpu_enable_fast_math=true",
    "512-bit vectors": "--xla_cpu_prefer_vector_width=512",
    "single-threaded Eigen": "--xla_cpu_multi_thread_eigen=false",
    "fast-runtime preset": "--xla_cpu_opt_preset=CPU_OPT_PRESET_FAST_RUNTIME",
}
COLUMNS = [("keras", False), ("keras", True), ("torch", False), ("torch", True)]


def rate(rates: dict[str, str], family: str, augmented: bool) -> float:
    """The images/s of one contender of ``train_step.py``'s output, or NaN."""
    for name, value in rates.items():
        if name.split(",")[0].split()[0] == family and name.endswith("augmented") == augmented:
            return float(value)
    return float("nan")


def measure(flags: str, steps: int, rounds: int) -> list[float] | str:
    """One process of ``train_step.py`` under ``flags``: the four rates, or the error's last line."""
    script = Path(__file__).with_name("train_step.py")
    run = subprocess.run([sys.executable, str(script), "--steps", str(steps), "--rounds", str(rounds),
                          "--only", "keras", "torch"], env={**os.environ, "XLA_FLAGS": flags},
                         capture_output=True, text=True)
    if run.returncode:
        return (run.stderr.strip().splitlines()[-1:] or [f"exit {run.returncode}"])[0]
    rates = dict(re.findall(r"^(\S.*?)\s{2,}(\d+) images/s", run.stdout, re.M))
    return [rate(rates, family, augmented) for family, augmented in COLUMNS]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", type=int, default=2, help="times the whole list of settings is run")
    parser.add_argument("--only", nargs="+", metavar="SETTING", choices=list(SETTINGS),
                        help="run only these settings (names as in the table)")
    args = parser.parse_args(argv)
    settings = {name: SETTINGS[name] for name in (args.only or SETTINGS)}
    runs: dict[str, list] = {name: [] for name in settings}
    for p in range(args.passes):
        for name, flags in settings.items():
            runs[name].append(measure(flags, args.steps, args.rounds))
            print(f"pass {p + 1}, {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    print(f"training step, batch 128, median of {args.passes} processes x {args.rounds} rounds of {args.steps} steps")
    print(f"{'setting':24s} {'keras':>7s} {'+aug':>7s} {'torch':>7s} {'+aug':>7s} {'ratio':>6s}  XLA_FLAGS")
    for name, flags in settings.items():
        good = [r for r in runs[name] if not isinstance(r, str)]
        if not good:
            print(f"{name:24s} failed: {runs[name][0]}")
            continue
        cells = np.median(np.array(good), axis=0)
        ratio = np.median([r[1] / r[3] for r in good])
        print(f"{name:24s} " + " ".join(f"{c:7.0f}" for c in cells) + f" {ratio:6.2f}  {flags}", flush=True)


if __name__ == "__main__":
    main()
