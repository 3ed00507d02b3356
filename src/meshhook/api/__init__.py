"""HTTP entry points: parse the request, call one service, render the answer.

Rule: no queries and no permission logic here (that is ``services``); errors
are raised as ``MeshHookError`` subclasses and rendered once, as problem+json,
by ``errors.py`` (the body guard in ``middleware.py`` included).

- one module of routes per area (``workflows.py``, ``versions.py``, ``runs.py`` ...);
- ``schemas/``: their request and response models, and ``Problem``, the body
  of every error;
- ``openapi.py``: declares that ``Problem`` body on every operation;
- ``bodies.py``: reading JSON bodies (after the role check) and writing raw JSON;
- ``deps.py``: the actor, the database, page cursors;
- ``threads.py``: ``@blocking``, a blocking endpoint in one thread hop.
"""
