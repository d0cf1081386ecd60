"""The one exception family for bad input, and a diverged run.

Every message names the file or value at fault and says what to do about it;
the command line prints the message alone (no traceback) and exits with code 2.
"""


class InputError(ValueError):
    """Bad user input: a file, a manifest, a label or a setting that cannot be used."""


class TrainingDiverged(InputError):
    """A run's loss or weights stopped being finite: not a bad file, but settings this run cannot train with.

    Its message names the run, the epoch and the losses, and says which setting to lower; like bad input,
    the command line prints it as one line (exit code 2), and the diverged state is never saved.
    """
