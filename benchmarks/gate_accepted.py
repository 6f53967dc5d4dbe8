"""What the shipped digit gate lets through: the held-out scribbles and letters in the unseen
hand that it accepts at its canvas threshold, as the model would see them (28x28, enlarged),
one contact sheet per kind, so that a person can judge whether they are digits.

    .venv/bin/python benchmarks/gate_accepted.py [--out benchmarks/results/gate_accepted.png]

The same non-digits, seeds and threshold as ``python -m workbench.gate_training --measure``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from workbench.gate_training import held_out_non_digits
from workbench.live.gate import load_gate

TILE, PER_ROW = 42, 20


def sheet(images: np.ndarray, title: str) -> np.ndarray:
    tiles = [cv2.resize(image.astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST) for image in images]
    tiles += [np.zeros((TILE, TILE), np.uint8)] * (-len(tiles) % PER_ROW)
    rows = [np.hstack(tiles[i : i + PER_ROW]) for i in range(0, len(tiles), PER_ROW)]
    head = np.full((24, TILE * PER_ROW), 60, np.uint8)
    cv2.putText(head, title, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    return np.vstack([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gate_accepted.png"))
    args = parser.parse_args()
    gate = load_gate()
    parts = []
    for kind in ("handwritten letter", "scribble"):
        images, _ = held_out_non_digits(kind)
        accepted = images[~gate.refuses(images)]
        print(f"{kind}: {len(accepted)} of {len(images)} accepted")
        parts.append(sheet(accepted, f"{kind}s accepted by the gate: {len(accepted)} of {len(images)}"))
    cv2.imwrite(str(args.out), np.vstack(parts))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
