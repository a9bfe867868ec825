"""``python -m pywfst``: the ``pywfst`` command, for where the script is not on PATH."""

from .cli import cli

if __name__ == "__main__":
    cli.main(prog_name="python -m pywfst")
