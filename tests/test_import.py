"""Importing pywfst from a source tree that has no built extension says how to build it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pywfst


def test_import_without_extension_says_how_to_build(tmp_path):
    source = Path(pywfst.__file__).parent
    shutil.copytree(source, tmp_path / "pywfst",
                    ignore=shutil.ignore_patterns("_core*.so", "_core*.pyd", "__pycache__"))
    # The copy is found through the working directory; -S (no site-packages) keeps an installed
    # or editable pywfst from being found instead, -E keeps PYTHON* variables out.
    run = subprocess.run([sys.executable, "-S", "-E", "-c", "import pywfst"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: pywfst's C++ extension pywfst._core is not built in")
    assert "pip install -e ." in message and "pip install ." in message
    assert "circular import" not in run.stderr
