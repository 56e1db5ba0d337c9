"""Allow ``python -m maskme``."""

from maskme.cli.app import main

main()
