"""The training step under each XLA:CPU option that this jax version has, side by side.

    .venv/bin/python benchmarks/xla_flags.py [--steps 50] [--rounds 3]

XLA reads ``XLA_FLAGS`` once, when the backend starts, so each setting runs
``train_step.py --only keras torch`` in its own process, one after the other, and the table
shows each setting's images per second for the workbench's step (with and without
augmentation) next to PyTorch's in the same process when torch is installed. The settings are
the CPU options present in jaxlib's library (``strings libjax_common.so | grep xla_cpu_``) that
bear on convolutions, fusion and threads.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

SETTINGS = {
    "default": "",
    "no XNNPACK fusion": "--xla_cpu_experimental_xnn_fusion_type=",
    "oneDNN custom call": "--xla_cpu_experimental_onednn_custom_call=true",
    "oneDNN fusion": "--xla_cpu_experimental_onednn_fusion_type=dot,eltwise",
    "no thunk runtime": "--xla_cpu_use_thunk_runtime=false",
    "fast math": "--xla_cpu_enable_fast_math=true",
    "single-threaded Eigen": "--xla_cpu_multi_thread_eigen=false",
    "parallel codegen 2": "--xla_cpu_parallel_codegen_split_count=2",
}


def rate(rates: dict[str, str], family: str, augmented: bool) -> str:
    """The images/s of one contender of ``train_step.py``'s output, or "-"."""
    for name, value in rates.items():
        if name.split(",")[0].split()[0] == family and name.endswith("augmented") == augmented:
            return value
    return "-"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    script = Path(__file__).with_name("train_step.py")
    print(f"{'setting':24s} {'keras':>8s} {'+aug':>8s} {'torch':>8s} {'+aug':>8s}  (images/s)  XLA_FLAGS")
    for name, flags in SETTINGS.items():
        env = {**os.environ, "XLA_FLAGS": flags}
        run = subprocess.run([sys.executable, str(script), "--steps", str(args.steps), "--rounds", str(args.rounds),
                              "--only", "keras", "torch"], env=env, capture_output=True, text=True)
        if run.returncode:
            last = run.stderr.strip().splitlines()[-1:] or [f"exit {run.returncode}"]
            print(f"{name:24s} failed: {last[0]}")
            continue
        rates = dict(re.findall(r"^(\S.*?)\s{2,}(\d+) images/s", run.stdout, re.M))
        cells = [rate(rates, family, augmented) for family in ("keras", "torch") for augmented in (False, True)]
        print(f"{name:24s} " + " ".join(f"{c:>8s}" for c in cells) + f"  {flags}", flush=True)


if __name__ == "__main__":
    main()
