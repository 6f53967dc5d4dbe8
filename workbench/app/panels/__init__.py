"""The app's panels: draw, camera, models, log.

Every panel follows one protocol:

- ``build(state)`` makes its widgets (inside the window the app opens), ``update(state)`` brings
  them up to date once per rendered frame, and ``add_textures()`` (where it shows images)
  registers its textures first; callbacks change :class:`~workbench.app.state.AppState` or call
  the live layer;
- a panel's state lives in ``AppState``, never in the panel's module; what one panel wants of
  another goes through ``AppState`` too (a flag the other's ``update`` reads): no panel imports
  another;
- decisions (what a drawing or a frame reads as, which models are loaded, what is refused) are
  made in :mod:`workbench.live`; a panel only shows them.
"""
