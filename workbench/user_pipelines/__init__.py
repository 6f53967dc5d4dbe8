"""The user's own pipelines: every ``NAME.py`` in the folders of ``$WORKBENCH_PIPELINES``
(``os.pathsep``-separated; ``workbench --pipelines DIR`` sets it) is the pipeline ``NAME``,
importable as ``workbench.user_pipelines.NAME``.

The folders are this package's path, read from the environment when it is first imported, so
that worker processes (which inherit the environment) import the same modules, and a saved
model that holds a class defined in such a file loads wherever the folder is set.
"""

import os

__path__ = [folder for folder in os.environ.get("WORKBENCH_PIPELINES", "").split(os.pathsep) if folder]
