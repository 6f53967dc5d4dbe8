"""The app's panels: each module builds its widgets (``build``) and updates them from the
state once per rendered frame (``update``); decisions are made in :mod:`workbench.live`."""
