"""pywfst: hybrid WFST decoding (CTC or DNN-HMM scores) with a native C++ core.

Build a decoding graph with :func:`build_graph` (or ``pywfst build-graph``), load one with
:meth:`Graph.load`, and decode per-frame scores with :class:`Decoder`.
"""

from .boost import PhraseBoost
from .class_slots import ClassEntries
from .decoder import Decoder
from .errors import InputFileError
from .graph import BuildOptions, Graph, build_graph
from .result import Result

__version__ = "0.1.0"

__all__ = ["BuildOptions", "ClassEntries", "Decoder", "Graph", "InputFileError", "PhraseBoost", "Result", "build_graph",
           "__version__"]
