"""The DearPyGui desktop app (``workbench app``): a thin UI over :mod:`workbench.live`.

- :mod:`~workbench.app.main`: the window, the render loop, the display check, cleanup;
- :mod:`~workbench.app.state`: the state dataclass;
- :mod:`~workbench.app.tags`: every item tag;
- :mod:`~workbench.app.panels`: draw, camera, models, log.
"""
