"""HTTP entry points: parse the request, call one service, render the answer.

Rule: no queries and no permission logic here (that is ``services``); errors
are raised as ``MeshHookError`` subclasses and rendered once by ``errors.py``.
"""
