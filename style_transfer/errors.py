"""The exceptions a user of the style-transfer tool can cause and fix.

Each carries one line that says what is wrong and, where there is one, how to fix it. The CLI
prints that line and exits with status 2; anything else is a bug and keeps its traceback.
"""


class UsageError(Exception):
    """Bad input: a setting, an image, a path or a file's contents."""


class ModelFileError(UsageError):
    """A VGG .mat file that is missing, truncated or not laid out as expected."""


class DownloadError(UsageError):
    """The VGG weights could not be fetched or failed verification."""
