"""The live recognition engine, without any UI: readers, sources, Predictor, prediction log.

- :mod:`~workbench.live.canvas`: a drawing to one MNIST-format image (``read_canvas``);
- :mod:`~workbench.live.frame`: every digit in a photo or camera frame (``find_digits``);
- :mod:`~workbench.live.ink`: the shared last step, ink of one digit to MNIST format;
- :mod:`~workbench.live.predictor`: the active model, hot swap, reading with it;
- :mod:`~workbench.live.tracking`: stable labels across video frames;
- :mod:`~workbench.live.sources`: webcam, video file, image folder, ``demo``;
- :mod:`~workbench.live.log`: the SQLite prediction log;
- :mod:`~workbench.live.synth`: drawings and page photos made from MNIST test digits.
"""
