"""``python -m pywfst`` runs the ``pywfst`` command."""

import subprocess
import sys


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "pywfst", *args], capture_output=True, text=True,
                          timeout=120)


def test_help_lists_the_verbs():
    done = run_module("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m pywfst" in done.stdout
    for verb in ("build-graph", "decode", "info", "demo"):
        assert verb in done.stdout


def test_errors_are_one_line(tmp_path):
    done = run_module("info", str(tmp_path / "does_not_exist"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "does_not_exist" in errors[0], done.stderr
