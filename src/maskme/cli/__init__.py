"""The ``maskme`` command line: thin commands over the library API."""
