"""Exceptions that carry a message meant for the user (printed without traceback)."""

from __future__ import annotations


class MpiDbmError(Exception):
    """Base class: the message names the problem and how to fix it."""

    exit_code = 1


class ConfigError(MpiDbmError):
    """A configuration file or value is invalid."""

    exit_code = 2


class ResultsFileError(MpiDbmError):
    """A results file is missing, foreign, truncated or would be overwritten."""

    exit_code = 2


class DependencyError(MpiDbmError):
    """A package a command needs is missing or cannot be imported."""

    exit_code = 2
