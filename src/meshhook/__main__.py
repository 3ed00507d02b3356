"""``python -m meshhook`` is the ``meshhook`` command."""

from meshhook.cli.main import main

main()
