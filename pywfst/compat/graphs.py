"""What the drop-ins share: their emission columns in pywfst's token order (the blank first),
and a graph built from their files, cached by input hash (pywfst.graph.cache)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from ..graph import Graph
from ..graph.cache import cached_graph


KENLM_BINARY_MAGIC = b"mmap lm "


def refuse_kenlm_binary(lm: Path) -> None:
    """The drop-ins compile the LM into a graph: a KenLM binary, which cannot be, is an error
    that says what to pass instead."""
    with open(lm, "rb") as handle:
        if handle.read(len(KENLM_BINARY_MAGIC)) == KENLM_BINARY_MAGIC:
            raise ValueError(f"{lm}: a KenLM binary LM; pywfst compiles the LM into its "
                             "decoding graph and needs the ARPA file it was built from: pass "
                             "that")


def blank_first(num_columns: int, blank: int) -> List[int]:
    """pywfst token id -> emission column: the blank (pywfst's id 0) first, the others in order."""
    return [blank] + [column for column in range(num_columns) if column != blank]


def reorder(emissions, order: List[int]):
    """The columns in pywfst's token order (no copy when they already are)."""
    if order == list(range(len(order))):
        return emissions
    array = emissions.numpy() if hasattr(emissions, "numpy") else np.asarray(emissions)
    return np.ascontiguousarray(array[..., order])


def build_cached(name: str, token_names: Sequence[str], inputs: Sequence[Path],
                 build_options: Dict[str, object], lexicon_lines: Sequence[str] = ()) -> Graph:
    """A graph for tokens ``token_names`` (pywfst id order; the first is the blank), built with
    ``build_graph(**build_options)`` (and a lexicon file of ``lexicon_lines`` when given),
    loaded from the cache when these inputs were built before."""
    from ..graph import build_graph  # the builder loads only when a graph is made

    with tempfile.TemporaryDirectory() as scratch:
        tokens_txt = Path(scratch) / "tokens.txt"
        names = ["<blk>"] + list(token_names[1:])
        tokens_txt.write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)), "utf-8")
        files = [tokens_txt] + list(inputs)
        options = dict(build_options)
        if lexicon_lines:
            lexicon = Path(scratch) / "lexicon.txt"
            lexicon.write_text("".join(f"{line}\n" for line in lexicon_lines), "utf-8")
            files.append(lexicon)
            options["lexicon"] = lexicon
        # The files are keyed by their bytes (in this order), not by where they are: the same
        # lexicon and LM at another path find the graph built before.
        key_options = {k: "<file>" if isinstance(v, Path) else str(v)
                       for k, v in build_options.items()}
        graph, _ = cached_graph(name, files, key_options,
                                lambda out: build_graph(tokens_txt, out, progress=False,
                                                        **options))
    return graph
