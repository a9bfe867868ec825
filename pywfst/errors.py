"""Exceptions raised for bad user input. Each message names the file and line (or the argument)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class InputFileError(ValueError):
    """A malformed or inconsistent input file; the message starts with ``path:line:``."""

    def __init__(self, path: Union[str, Path], line: Optional[int], message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable, so it can cross from a worker process
        return (type(self), (self.path, self.line, self.message))
