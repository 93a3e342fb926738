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


class WriteError(MpiDbmError):
    """Writing the results file failed during a run (disk full, quota exceeded, I/O error).

    Tasks finished before stay done (their status rows are written last); the run
    stopped on all ranks and `--resume` completes it once the cause is fixed.
    Exit code 74 (EX_IOERR of sysexits.h).
    """

    exit_code = 74


class DependencyError(MpiDbmError):
    """A package a command needs is missing or cannot be imported."""

    exit_code = 2
