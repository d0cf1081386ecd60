"""The one exception family for bad input.

Every message names the file or value at fault and says what to do about it;
the command line prints the message alone (no traceback) and exits with code 2.
"""


class InputError(ValueError):
    """Bad user input: a file, a manifest, a label or a setting that cannot be used."""
