"""Settings files: decoder options chosen by ``pywfst tune``, read back by ``Decoder.from_settings``
and ``pywfst decode --settings``. JSON: {"format": ..., "options": {name: value}, ...} with any
other keys (what the settings were tuned on) kept for people, not read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Union

from .errors import InputFileError
from .options import make_options

FORMAT = "pywfst-settings/1"


def write_settings(path: Union[str, Path], options: Dict[str, float], **about) -> None:
    """Writes ``options`` (validated first) with ``about`` entries beside them."""
    make_options(options, caller=str(path))
    document = {"format": FORMAT, "options": dict(options), **about}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def read_settings(path: Union[str, Path]) -> Dict[str, float]:
    """The decoder options of a settings file; InputFileError names the file and what is wrong
    (not JSON, another format, an unknown option or a value out of range)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputFileError(path, None, "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputFileError(path, error.lineno, f"not JSON: {error.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputFileError(path, None, f"not a settings file (expected \"format\": \"{FORMAT}\")")
    options = document.get("options")
    if not isinstance(options, dict):
        raise InputFileError(path, None, "\"options\": expected an object of decoder options")
    try:
        make_options(options, caller="options")
    except (TypeError, ValueError) as error:
        raise InputFileError(path, None, str(error)) from None
    return options
