import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The tests' `python -c` subprocesses run in the repository root: without this, Python puts the
# working directory first on their path and imports the source tree's pywfst (no built _core)
# instead of the installed one.
os.environ["PYTHONSAFEPATH"] = "1"

from helpers import make_corpus, train_arpa, write_char_tokens, write_spelling_lexicon  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def graph_cache(tmp_path_factory):
    """Graphs that pywfst caches (the demo's) go to a directory of this test session, not the
    user's ~/.cache; subprocesses inherit it."""
    os.environ["PYWFST_CACHE"] = str(tmp_path_factory.mktemp("graph_cache"))
    return Path(os.environ["PYWFST_CACHE"])


@pytest.fixture(scope="session")
def char_setup(tmp_path_factory):
    """A char-token setup: tokens.txt (<blk>, |, a-z, '), a spelling lexicon, a trigram ARPA
    estimated by kaldingram from a random corpus, and the corpus sentences."""
    root = tmp_path_factory.mktemp("char_setup")
    sentences = make_corpus(root / "corpus.txt")
    train_arpa(root / "corpus.txt", root / "lm.arpa")
    token_ids = write_char_tokens(root / "tokens.txt")
    words = sorted({w for s in sentences for w in s})
    write_spelling_lexicon(root / "lexicon.txt", words)
    return {"root": root, "sentences": sentences, "token_ids": token_ids, "words": words,
            "tokens": root / "tokens.txt", "lexicon": root / "lexicon.txt", "lm": root / "lm.arpa"}


@pytest.fixture(scope="session")
def spelled_graph(char_setup, tmp_path_factory):
    """char_setup's spelling graph with an optional '|' between words (not to be modified)."""
    import pywfst

    return pywfst.build_graph(char_setup["tokens"], tmp_path_factory.mktemp("spelled") / "g",
                              spell=True, word_boundary="|", boundary_mandatory=False,
                              lm=char_setup["lm"], progress=False)


@pytest.fixture(scope="session", params=["lexicon", "spell-mandatory-boundary"])
def intermediate_graph(request, char_setup, tmp_path_factory):
    """A graph directory with L_disambig.fst, G.fst and the minimized LG.fst kept, and a class
    slot. A mandatory boundary that the last word may leave out gives LG input epsilon arcs."""
    import pywfst

    out = tmp_path_factory.mktemp("intermediate") / request.param
    if request.param == "lexicon":
        words = {"lexicon": char_setup["lexicon"]}
    else:
        words = {"spell": True, "word_boundary": "|", "boundary_mandatory": True}
    return pywfst.build_graph(char_setup["tokens"], out, lm=char_setup["lm"],
                              class_slots=["names"], keep_intermediate=True, progress=False,
                              **words)
