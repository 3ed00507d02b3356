"""The ``meshhook`` command. Thin like ``api``: parse arguments, call a service
(admin commands, straight on the database) or the HTTP API (everything else,
through ``client.py``), render the result with Rich."""
