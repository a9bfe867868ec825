"""Graph compilation: tokens, lexicons, topologies, grammars and the build pipeline."""

from .build import BuildOptions, build_graph, summary_text
from .graph_dir import Graph
from .topology import TOPOLOGIES

__all__ = ["BuildOptions", "Graph", "TOPOLOGIES", "build_graph", "summary_text"]
