"""Errors raised by the data layer.

Every problem with input data (a missing file, a wrong checksum, an unreadable image) is
reported as a ``DataError`` carrying a one-line message that names the offending path, so a
user can fix the input instead of getting a silently smaller dataset.
"""


class DataError(ValueError):
    """Bad or missing input data; the message names the file or folder at fault."""
