"""The toolkit's errors that deserve a one-line message rather than a traceback."""


class ToolkitError(Exception):
    """A fault of the input or the setting, not of the code: a missing file, a lab or an
    option that does not fit. The command line prints its message alone and exits 1; any
    other exception is a bug of ours and keeps its traceback."""
