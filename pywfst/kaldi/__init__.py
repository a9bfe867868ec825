"""Kaldi hybrid models: decode a Kaldi HCLG.fst (input labels = transition-ids) from an acoustic
model's pdf scores, with the transition model of the Kaldi model file (``final.mdl``).

    graph = pywfst.Graph.load("exp/tri4/graph", transition_model="exp/tri4/final.mdl")
    decoder = pywfst.Decoder(graph, acoustic_scale=0.1, log_priors=log_priors)
    result = decoder.decode(log_posteriors)  # [T, num_pdfs]
"""

from .object_reader import KaldiObjectError
from .transition_model import TransitionModel

__all__ = ["KaldiObjectError", "TransitionModel"]
