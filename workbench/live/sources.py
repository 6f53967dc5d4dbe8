"""Frame sources for the camera path: a webcam, a video file, a folder of images, or ``demo``.

Every source yields BGR uint8 frames from :meth:`Source.read` (None when it has ended) and is
closed with :meth:`Source.close` or a ``with`` block. :func:`open_source` picks one from a spec
string, the way ``--camera`` takes it: ``0`` (webcam index), ``demo``, a video file or a folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class SourceError(RuntimeError):
    """A source that cannot be opened or read; the message names it and says what to check."""


class Source:
    """Base of the frame sources: ``read()`` gives the next frame or None at the end."""

    name = "source"
    #: A device that may come back after it fails (a webcam): the camera loop retries it.
    reconnectable = False

    def read(self) -> np.ndarray | None:  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def reopen(self) -> bool:
        """Try to open the source again after a failure; True when it works again."""
        return False

    def close(self) -> None:
        pass

    def __iter__(self):
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _CaptureSource(Source):
    """A webcam or a video file through OpenCV's VideoCapture."""

    def __init__(self, target: int | str, name: str, hint: str):
        import cv2

        self.name = name
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"cannot open {name}: {hint}")

    def read(self):
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self):
        self._capture.release()


class CameraSource(_CaptureSource):
    reconnectable = True

    def __init__(self, index: int = 0):
        self.index = index
        super().__init__(index, f"camera {index}", "no camera at this index (is one connected and free?); "
                                                   "use --camera demo to try the camera path without one")

    def reopen(self) -> bool:
        import cv2

        self._capture.release()
        self._capture = cv2.VideoCapture(self.index)
        return self._capture.isOpened()


class VideoSource(_CaptureSource):
    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"cannot open video {path}: no such file")
        super().__init__(str(path), f"video {path}", "not a video format OpenCV can decode")


class FolderSource(Source):
    """The images of a folder (PNG, JPEG, BMP) in name order, or one image file; unreadable
    files are skipped and listed in :attr:`errors`."""

    def __init__(self, path: str | Path):
        path = Path(path)
        self.name = f"folder {path}" if path.is_dir() else f"image {path}"
        files = path.iterdir() if path.is_dir() else [path]
        self.files = sorted(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"no PNG, JPEG or BMP images in {path}")
        self.errors: list[str] = []
        self._next = 0

    def read(self):
        from workbench.live.images import ImageError, as_gray, read_image

        while self._next < len(self.files):
            path = self.files[self._next]
            self._next += 1
            try:
                image = read_image(path)
                return image if image.ndim == 3 and image.shape[2] == 3 else np.repeat(as_gray(image)[..., None], 3, 2)
            except ImageError as exc:
                self.errors.append(str(exc))
        return None


class DemoSource(Source):
    """A camera without a camera: a moving, slightly tilted page of handwritten MNIST *test*
    digits under changing light, with blur and sensor noise; a new page every ``page_seconds``.

    Frames are rendered on demand (as fast as they are read; the reader sets the pace), and
    :attr:`labels` holds the digits of the current page in reading order, which tests and the
    app can compare with what was read.

    Parameters
    ----------
    seed : int, default=0
    size : (height, width), default=(480, 640)
    fps : float, default=30
        Frames per second of the demo's clock (motion per frame).
    page_seconds : float, default=8
    """

    name = "demo"

    def __init__(self, seed: int = 0, *, size: tuple[int, int] = (480, 640), fps: float = 30, page_seconds: float = 8):
        from workbench.data import load_mnist

        self.size, self.fps, self.page_seconds = size, fps, page_seconds
        self._digits, self._labels = load_mnist("test")
        self._rng = np.random.default_rng(seed)
        self._frame = 0
        self._page = -1
        self.labels: list[int] = []

    def _new_page(self):
        from workbench.live.scene import layout

        n = int(self._rng.integers(3, 7))
        pick = self._rng.choice(len(self._digits), n, replace=False)
        self.labels = [int(v) for v in self._labels[pick]]
        digit_px = int(0.13 * self.size[0])
        self._sheet, self._boxes = layout(self._digits[pick], self._rng, line_lengths=[n], digit_px=digit_px)
        self._dark_ink = self._rng.random() >= 0.25

    def read(self):
        from workbench.live.scene import photograph

        t = self._frame / self.fps
        page = int(t // self.page_seconds)
        if page != self._page:
            self._page = page
            self._new_page()
        self._frame += 1

        def wave(period: float, phase: float = 0.0) -> float:
            return math.sin(2 * math.pi * t / period + phase)

        return photograph(
            self._sheet, self._boxes, self._rng, frame_size=self.size,
            tilt=7 * wave(9), offset=(0.05 * wave(11), 0.04 * wave(7, 1.0)), perspective=0.0,
            light=0.8 + 0.2 * wave(6), gradient=0.25 + 0.15 * wave(13), gradient_angle=20 * t,
            blur=0.7, noise=0.02, dark_ink=self._dark_ink,
        ).image


def open_source(spec: str | int) -> Source:
    """A source from a spec: ``demo``, a webcam index (``0``), a video file, an image or a folder."""
    spec = str(spec)
    if spec == "demo":
        return DemoSource()
    if spec.isdigit():
        return CameraSource(int(spec))
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(
            f"no camera source {spec!r}: give a webcam index (0), 'demo', a video file, an image or a folder of images"
        )
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return FolderSource(path)
    return VideoSource(path)
