"""Errors the user can cause and fix: each becomes one line on stderr and exit status 2."""


class InputError(Exception):
    """Bad input (a config, an export, a path or an option) described in one line that names
    the file, row, column or key and says what to do."""


class ConfigError(InputError):
    """An audit config that cannot be used as written."""
