"""Turns expected user errors into a one-line message and exit status 1 (no traceback)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import click


@contextmanager
def friendly_errors() -> Iterator[None]:
    try:
        yield
    except (ValueError, OSError, ImportError) as error:
        raise click.ClickException(str(error)) from error
