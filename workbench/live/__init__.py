"""The live recognition engine, without any UI: readers, sources, Predictor, prediction log.

- :mod:`~workbench.live.canvas`: a drawing to one MNIST-format image (``read_canvas``);
- :mod:`~workbench.live.frame`: every digit in a photo or camera frame (``find_digits``), from
  :mod:`~workbench.live.masks` (where the ink is) and :mod:`~workbench.live.segment` (one
  segmentation pass: which blobs are digits);
- :mod:`~workbench.live.ink`: the shared last step, ink of one digit to MNIST format;
- :mod:`~workbench.live.reading`: what a reading is (``Reading``, ``Digit``);
- :mod:`~workbench.live.predictor`: the active model, hot swap, reading with it;
- :mod:`~workbench.live.gate`: the digit gate that refuses what is not a digit;
- :mod:`~workbench.live.catalogue`: every saved model loaded in the background (the app's list);
- :mod:`~workbench.live.tracking`: stable labels across video frames;
- :mod:`~workbench.live.sources`: webcam, video file, image folder, ``demo``;
- :mod:`~workbench.live.log`: the SQLite prediction log;
- :mod:`~workbench.live.scene`: a photographed page of digits (what the ``demo`` source films).

Synthetic fixtures and training data are :mod:`workbench.synth`, outside this layer: nothing
here imports it, nor any training module.
"""
