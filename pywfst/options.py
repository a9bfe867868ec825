"""The decoder's options, as the native core defines them (csrc/decoder/decoder_options.h): each
option's name, type, default, range and doc are written there once; Decoder's keyword
arguments and docstring and the CLI flags are made from them here."""

from __future__ import annotations

import inspect
import math
import numbers
import reprlib
import textwrap
from typing import Dict, List, Mapping, Union

import numpy as np

from . import _core

SPECS: Dict[str, dict] = {spec["name"]: spec for spec in _core.DecoderOptions.specs()}
_TYPES = {"bool": bool, "int": int, "float": float}


def as_flag(name: str, value) -> bool:
    """A yes/no option: a bool (or numpy bool), not anything bool() accepts ('no' is true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {reprlib.repr(value)}")
    return bool(value)


def as_number(name: str, value, kind: type) -> Union[int, float]:
    """A numeric option as a Python ``kind`` (int or float), or an error naming it: any real
    number but a bool; for int, a float only with an integral value (7e3, not 1.5 or nan)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        expected = "an integer" if kind is int else "a number"
        raise TypeError(f"{name}: expected {expected}, got {reprlib.repr(value)}")
    if kind is float or isinstance(value, numbers.Integral):
        try:
            return kind(value)
        except OverflowError:  # an int beyond the float range
            raise ValueError(f"{name}: {reprlib.repr(value)} is out of range") from None
    if not (math.isfinite(value) and float(value).is_integer()):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    return int(value)


def make_options(values: Mapping[str, object], caller: str = "Decoder") -> _core.DecoderOptions:
    """Native options from keyword values (the others keep their defaults); TypeError for an
    unknown name or a wrong type, ValueError for a value out of range, each naming the option."""
    unknown = sorted(set(values) - set(SPECS))
    if unknown:
        raise TypeError(f"{caller}: unknown option {unknown[0]!r}; the options are "
                        f"{', '.join(SPECS)}")
    options = _core.DecoderOptions()
    for name, value in values.items():
        kind = _TYPES[SPECS[name]["type"]]
        setattr(options, name, as_flag(name, value) if kind is bool else
                as_number(name, value, kind))
    options.check()
    return options


def check_value(name: str, value) -> None:
    """Checks one option's value against its own range only (not against the other options'
    values, which may come later: --min-active 8000 --max-active 9000)."""
    make_options({"min_active": 0, "max_active": 2**31 - 1, name: value})


def as_dict(options: _core.DecoderOptions) -> Dict[str, Union[bool, int, float]]:
    return {name: getattr(options, name) for name in SPECS}


def default(name: str) -> Union[bool, int, float]:
    spec = SPECS[name]
    return _TYPES[spec["type"]](spec["default"])


def parameters() -> List[inspect.Parameter]:
    """The options as keyword-only parameters with their defaults (for signatures and help)."""
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default(name),
                              annotation=spec["type"]) for name, spec in SPECS.items()]


def docs(indent: str = "        ") -> str:
    """The options' docs, one entry per option, for a docstring's Args section."""
    entries = []
    for name, spec in SPECS.items():
        text = f"{name}: {spec['doc']} Default {default(name)}; {spec['expected']}."
        entries.append(textwrap.fill(text, 96, initial_indent=indent,
                                     subsequent_indent=indent + "    "))
    return "\n".join(entries)
