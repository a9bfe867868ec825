"""``pywfst build-graph``: compile tokens + lexicon + LM into a decoding-graph directory."""

from __future__ import annotations

import click

from ..graph import TOPOLOGIES
from ..graph.grammar import OOV_MODES
from .errors import friendly_errors

EPILOG = """\b
Examples:
  # phone lexicon, 3-gram LM, standard CTC topology
  pywfst build-graph --tokens phones.txt --lexicon lexicon.txt --lm lm.arpa.gz --out graph/
  # char model with a wav2vec2-style word boundary, spellings derived from the LM words
  pywfst build-graph --tokens chars.txt --spell --word-boundary '|' --lm lm.arpa --out g/
  # record the acoustic model's frame shift (30 ms frames) for word times
  pywfst build-graph --tokens chars.txt --spell --word-boundary '|' --lm lm.arpa \\
      --frame-shift 0.03 --out g/
  # BPE model, smaller CTC topology
  pywfst build-graph --tokens tokens.txt --bpe-model bpe.model --lm lm.arpa \\
      --topo ctc-compact --out g/
  # char model plus the medical jargon lexicon as a word class (5 % of the unigram mass)
  pywfst build-graph --tokens chars.txt --spell --word-boundary '|' --lm lm.arpa \\
      --extra-lexicon lexicons/medical.txt --extra-weight 0.05 --out g/
  # a class slot filled at run time (decoder.set_class("DRUG", [...])), 2 % of the unigram mass
  pywfst build-graph --tokens chars.txt --spell --word-boundary '|' --lm lm.arpa \\
      --class-slot DRUG --class-weight 0.02 --out g/
  # hybrid DNN-HMM posteriors, 3 states per phone, no LM (word loop)
  pywfst build-graph --tokens phones.txt --lexicon lexicon.txt --topo hmm --out g/
"""


@click.command("build-graph", epilog=EPILOG)
@click.option("--tokens", required=True, type=click.Path(dir_okay=False),
              help="tokens.txt: 'symbol id' per line; CTC needs <blk> with id 0.")
@click.option("--lexicon", type=click.Path(dir_okay=False),
              help="Kaldi lexicon.txt ('word tok ...') or lexiconp.txt ('word prob tok ...').")
@click.option("--spell", is_flag=True, help="Spell the LM's words with the char tokens.")
@click.option("--bpe-model", type=click.Path(dir_okay=False),
              help="Split the LM's words with this sentencepiece model.")
@click.option("--lm", type=click.Path(dir_okay=False),
              help="ARPA n-gram LM (plain or .gz). Without it: a word loop.")
@click.option("--topo", "topology", type=click.Choice(TOPOLOGIES), default="ctc", show_default=True,
              help="Token topology.")
@click.option("--hmm-states", type=click.IntRange(min=1), default=3, show_default=True,
              help="Emitting states per token for --topo hmm.")
@click.option("--word-boundary", help="Word-boundary token (e.g. '|') that ends words.")
@click.option("--boundary-mandatory/--boundary-optional", default=None,
              help="Whether the word-boundary token ends every word (the utterance's last word "
                   "may leave it out) or may only stand between words. Default: mandatory "
                   "with --spell, optional with a lexicon file or BPE model.")
@click.option("--oov", type=click.Choice(OOV_MODES), default="drop", show_default=True,
              help="LM words without a pronunciation: drop their n-grams, map them to --unk, "
                   "or spell them with char tokens.")
@click.option("--unk", "unk_word", default="<unk>", show_default=True, help="Word used by --oov unk.")
@click.option("--extra-lexicon", "extra_lexicons", multiple=True, type=click.Path(dir_okay=False),
              help="Jargon lexicon (lexicons/README.md) whose terms join the graph; repeatable.")
@click.option("--extra-weight", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=0.05, show_default=True,
              help="Share of the LM's unigram probability mass that the extra terms take.")
@click.option("--class-slot", "class_slots", multiple=True, metavar="NAME",
              help="A class filled at run time with Decoder.set_class(NAME, entries); repeatable.")
@click.option("--class-weight", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=0.05, show_default=True,
              help="Share of the LM's unigram probability mass each class slot takes.")
@click.option("--frame-shift", type=click.FloatRange(0.0, min_open=True), metavar="SECONDS",
              help="Seconds per emission frame of the acoustic model (e.g. 0.03 for the bundled "
                   "one); recorded in graph.json so that decoding gives right word times.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory (HCLG.fst, words.txt, tokens.txt, graph.json, ...).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--keep-intermediate", is_flag=True, help="Also write T.fst and LG.fst.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def build_graph_command(tokens, lexicon, spell, bpe_model, lm, topology, hmm_states, word_boundary,
                        boundary_mandatory, oov, unk_word, extra_lexicons, extra_weight, class_slots,
                        class_weight, frame_shift, out_dir, force, keep_intermediate,
                        quiet) -> None:
    """Compile a decoding graph (T ∘ min(det(L ∘ G))) into a directory."""
    from ..graph import BuildOptions, build_graph  # the builder loads only for this verb

    boundary = {} if boundary_mandatory is None else {"boundary_mandatory": boundary_mandatory}
    options = BuildOptions(topology=topology, hmm_states=hmm_states, oov=oov, unk_word=unk_word,
                           word_boundary=word_boundary, keep_intermediate=keep_intermediate,
                           extra_weight=extra_weight, class_slots=tuple(class_slots),
                           class_weight=class_weight, frame_shift=frame_shift, **boundary)
    with friendly_errors():
        build_graph(tokens, out_dir, lexicon=lexicon, lm=lm, spell=spell, bpe_model=bpe_model,
                    options=options, force=force, progress=not quiet,
                    extra_lexicons=extra_lexicons)
