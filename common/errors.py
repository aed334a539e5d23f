"""The exceptions a user of the style-transfer tool can cause and fix.

Each carries one line that says what is wrong and, where there is one, how to fix it. The CLI
prints that line and exits with status 2 (``exits.USAGE``), or 74 (``exits.WRITE_FAILED``) for an
:class:`OutputError`; anything else is a bug and keeps its traceback.
"""


class UsageError(Exception):
    """Bad input: a setting, an image, a path or a file's contents."""


class ModelFileError(UsageError):
    """A VGG .mat file that is missing, truncated or not laid out as expected."""


class DownloadError(UsageError):
    """The VGG weights could not be fetched or failed verification."""


class OutputError(Exception):
    """An output or checkpoint that could not be written: the disk is full, read-only or gone.
    What was complete before is kept; the message names the folder and the cause."""
