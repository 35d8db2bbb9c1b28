"""Errors the generators raise for bad input or unreachable targets."""


class GeneratorError(Exception):
    """A problem the user can fix; its message is one line, printed by the CLI without a traceback."""
