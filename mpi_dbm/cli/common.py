"""What every command shares: printing on rank 0 only, user errors as one line and an exit code,
loading the config."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..errors import MpiDbmError
from ..launcher_env import world_rank

if TYPE_CHECKING:  # config (numpy) is imported when a command needs it
    from ..config import Config


def _rank() -> int:
    """This process's MPI rank, without initialising MPI (launcher_env.py)."""
    return world_rank()


def _say(message: str, err: bool = False) -> None:
    if _rank() == 0:
        click.echo(message, err=err)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn MpiDbmError into one line on stderr (rank 0 only) and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MpiDbmError as exc:
            _say(f"mpi-dbm: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _load_config(path: str | None) -> Config:
    from .. import config

    return config.default() if path is None else config.load(path)
