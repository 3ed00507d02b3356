"""The ``meshhook`` command. Thin like ``api``: parse arguments, call a service
(admin commands, straight on the database) or the HTTP API (everything else),
render the result with Rich.

Remote commands share ``remote.py`` (their options, and the HTTP client of
``client.py``, taken from the Typer context's :class:`~meshhook.cli.remote.Remote`)
and ``output.py`` (tables, plain lines, exact JSON, errors)."""
