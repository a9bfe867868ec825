"""pywfst: hybrid WFST decoding (CTC or DNN-HMM scores) with a native C++ core.

Build a decoding graph with :func:`build_graph` (or ``pywfst build-graph``), load one with
:meth:`Graph.load`, and decode per-frame scores with :class:`Decoder`.
"""

try:
    from . import _core  # the C++ extension everything below needs
except ImportError:
    import importlib.util

    if importlib.util.find_spec(f"{__name__}._core") is not None:
        raise  # built but not loadable: its own error says why
    # A source checkout holds no built extension; Python alone would report a circular import.
    raise ImportError(
        f"pywfst's C++ extension pywfst._core is not built in {__path__[0]} (the source tree?). "
        "Build and install pywfst first: `pip install -e .` (editable) or `pip install .` in "
        "the repository root; or run Python from another directory to use an installed "
        "pywfst.") from None

from .boost import PhraseBoost
from .class_slots import ClassEntries
from .confidence import ConfidenceCalibration
from .decoder import Decoder
from .errors import InputFileError
from .graph import Graph
from .lattice import Lattice, read_kaldi_lattices
from .result import Result
from .rescoring import Rescorer, rescore
from .tuning import tune

__version__ = "0.1.0"

__all__ = ["BuildOptions", "ClassEntries", "ConfidenceCalibration", "Decoder", "Graph",
           "InputFileError", "Lattice", "PhraseBoost", "Rescorer", "Result", "build_graph",
           "read_kaldi_lattices", "rescore", "tune", "__version__"]


def __getattr__(name: str):
    # The graph builder loads on first use, so that decoding needs no pynini (see pywfst.graph).
    if name in ("BuildOptions", "build_graph"):
        from . import graph

        return getattr(graph, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
