"""Graph compilation: tokens, lexicons, topologies, grammars and the build pipeline.

Loading a built graph (:class:`Graph`) and decoding with it need neither OpenFst (pynini's
pywrapfst) nor kaldilm (DESIGN.md: a decoding worker does not pay for pynini's
700 MB), so the build-side names load on first use and import those packages only when a build
runs; :func:`build_graph` without them raises an ImportError that says what to install.
"""

import functools
import importlib

from .graph_dir import Graph

__all__ = ["BuildOptions", "Graph", "TOPOLOGIES", "build_graph", "summary_text"]

# Modules that only a graph build imports, and the pip package that provides each.
BUILD_PACKAGES = {"pywrapfst": "pynini", "kaldilm": "kaldilm"}
_LAZY_NAMES = {"BuildOptions": "build", "build_graph": "build", "summary_text": "build",
               "TOPOLOGIES": "topology"}


def require_build_packages() -> None:
    """Imports the build packages, or raises an ImportError that names the one to install."""
    for module, package in BUILD_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImportError(f"building a graph needs {module} (pip install {package}); loading "
                              "and decoding a built graph do not") from error


def _checking_packages(build):
    @functools.wraps(build)
    def build_graph(*args, **kwargs):
        # Checked first: without it a build would fail only after reading its inputs, with a
        # bare ModuleNotFoundError (or kaldilm's as an ARPA error from the G process).
        require_build_packages()
        return build(*args, **kwargs)

    return build_graph


def __getattr__(name: str):  # PEP 562: the build-side names load on first use
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    if name == "build_graph":
        value = _checking_packages(value)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
