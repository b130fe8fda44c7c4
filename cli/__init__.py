"""The ``edittrace`` command line."""
