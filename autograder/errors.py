"""The toolkit's errors that deserve a one-line message rather than a traceback."""


class ToolkitError(Exception):
    """A fault of the input or the setting, not of the code: a missing file, a lab or an
    option that does not fit. The command line prints its message alone and exits 1; any
    other exception is a bug of ours and keeps its traceback."""


class InputError(ToolkitError, ValueError):
    """A value given to the toolkit that it cannot use: a setting, a config key, a template, a
    corpus file. The message names the value and what would fit."""


class MissingFile(ToolkitError, FileNotFoundError):
    """A file the toolkit needs is not there; the message says which and what makes it."""


class RunFailed(ToolkitError, RuntimeError):
    """A run finished but did not do its job (a variant graded wrongly, a submission the
    grader failed on); what it found is already printed, the message says what to do."""
