"""CLI flags for the decoder's options, made from the options' single definition (the native
core's list, read through pywfst.options): name, type, default, range and help are not retyped
here."""

from __future__ import annotations

from typing import Callable, Collection, Dict, Optional

import click
from click.core import ParameterSource

from .. import options
from ..settings import read_settings


def _check(ctx, param, value):
    """Each value is checked as the flags are read (a command may build for a minute first)."""
    try:
        options.check_value(param.name, value)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error)) from None
    return value


def search_option_flags(names: Optional[Collection[str]] = None,
                        exclude: Collection[str] = ()) -> Callable:
    """A decorator adding --NAME for the options ``names`` (default: all) but ``exclude``; the
    command receives each as a keyword argument named as the option, to pass on to Decoder."""
    chosen = [n for n in options.SPECS if (names is None or n in names) and n not in exclude]

    def decorate(command: Callable) -> Callable:
        for name in reversed(chosen):
            spec = options.SPECS[name]
            flag = f"--{name.replace('_', '-')}"
            help_text = spec["doc"]
            if spec["type"] == "bool":
                declared = {"is_flag": True}
                flag = f"{flag}/--no-{name.replace('_', '-')}"
            else:
                declared = {"type": click.INT if spec["type"] == "int" else click.FLOAT,
                            "callback": _check}
                help_text += f" Must be {spec['expected']}."
            command = click.option(flag, name, default=options.default(name), show_default=True,
                                   help=help_text, **declared)(command)
        return command
    return decorate


def with_settings(given: Dict[str, object], settings_path) -> Dict[str, object]:
    """The options of a settings file, with the flags given on the command line over them."""
    context = click.get_current_context()
    explicit = {name: value for name, value in given.items()
                if context.get_parameter_source(name) is not ParameterSource.DEFAULT}
    return {**given, **read_settings(settings_path), **explicit}
