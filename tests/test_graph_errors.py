"""Bad input to the graph compiler: a clear error naming file and line, no output directory."""

import gzip
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import pywfst
from pywfst.cli import cli
from pywfst.graph.lexicon import disambiguation_suffixes
from pywfst.graph.symbols import read_words


@pytest.fixture
def inputs(char_setup, tmp_path):
    for name in ("tokens", "lexicon", "lm"):
        shutil.copy(char_setup[name], tmp_path / char_setup[name].name)
    return tmp_path


def _build(inputs, **kwargs):
    args = {"lexicon": inputs / "lexicon.txt", "lm": inputs / "lm.arpa", "progress": False}
    args.update(kwargs)
    return pywfst.build_graph(inputs / "tokens.txt", inputs / "out", **args)


def _assert_no_output(inputs):
    assert not (inputs / "out").exists()
    assert not list(inputs.glob(".out.partial*"))


def _replace_line(path, line_no, text):
    lines = path.read_text().splitlines()
    lines[line_no - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("line, message", [
    ("cat c a x9", "lexicon.txt:2: token 'x9' is not in"),
    ("cat", "lexicon.txt:2: word 'cat' has no tokens"),
    ("#0 c a t", "lexicon.txt:2: word '#0' is reserved"),
    ("cat c <blk> t", "lexicon.txt:2: token '<blk>' is the blank"),
])
def test_bad_lexicon_line(inputs, line, message):
    _replace_line(inputs / "lexicon.txt", 2, line)
    with pytest.raises(pywfst.InputFileError, match=message.replace("|", r"\|")):
        _build(inputs)
    _assert_no_output(inputs)


@pytest.mark.parametrize("make_bad, message", [
    (lambda lines: lines.__setitem__(9, "-0.5"), r"lm.arpa:10: a 1-gram line needs"),
    (lambda lines: lines.__setitem__(9, "abc the -0.2"), r"lm.arpa:10: log10 probability 'abc'"),
    (lambda lines: lines.__setitem__(1, "ngram 1=5"), r"lm.arpa: header says 5 1-grams"),
    (lambda lines: lines.__delitem__(slice(len(lines) - 2, None)), r"truncated: no \\end\\"),
    (lambda lines: lines.__setitem__(0, "hello"), r"no \\data\\ section"),
    (lambda lines: lines.__setitem__(7, "0.5 dog 0.3"), r"lm.arpa:8: log10 probability 0.5 is positive"),
    (lambda lines: lines.__setitem__(7, "nan dog 0.3"), r"lm.arpa:8: log10 probability 'nan'"),
    (lambda lines: lines.__setitem__(7, "-0.5 dog nan"), r"lm.arpa:8: backoff weight 'nan'"),
    (lambda lines: lines.__setitem__(8, lines[7]), r"lm.arpa:9: duplicate 1-gram 'dog'"),
    (lambda lines: lines.__setitem__(43, lines[42]), r"lm.arpa:44: duplicate 2-gram"),
    (lambda lines: lines.__setitem__(42, "-0.5 zebra dog"),
     r"lm.arpa:43: word 'zebra' of this 2-gram is not in the \\1-grams section"),
    (lambda lines: lines.__setitem__(688, "-0.5 dog cat zebra"), r"lm.arpa:689: word 'zebra'"),
])
def test_bad_arpa(inputs, make_bad, message):
    lines = (inputs / "lm.arpa").read_text().splitlines()
    make_bad(lines)
    (inputs / "lm.arpa").write_text("\n".join(lines) + "\n")
    with pytest.raises(pywfst.InputFileError, match=message):
        _build(inputs)
    _assert_no_output(inputs)


def test_crlf_arpa_gives_the_same_graph(inputs):
    lf = _build(inputs)
    text = (inputs / "lm.arpa").read_bytes()
    (inputs / "lm_crlf.arpa").write_bytes(text.replace(b"\n", b"\r\n"))
    crlf = pywfst.build_graph(inputs / "tokens.txt", inputs / "out_crlf", lexicon=inputs / "lexicon.txt",
                              lm=inputs / "lm_crlf.arpa", progress=False)
    assert crlf.info["lm"]["ngram_counts"] == lf.info["lm"]["ngram_counts"]
    for name in ("G.fst", "HCLG.fst"):
        assert (crlf.path / name).read_bytes() == (lf.path / name).read_bytes(), name


def test_gzipped_arpa_is_read(inputs):
    with open(inputs / "lm.arpa", "rb") as plain, gzip.open(inputs / "lm.arpa.gz", "wb") as packed:
        packed.write(plain.read())
    graph = _build(inputs, lm=inputs / "lm.arpa.gz")
    assert graph.info["lm"]["order"] == 3


@pytest.mark.parametrize("tokens_text, message", [
    ("<blk> 0\na 1\nb 1\n", "tokens.txt:3: duplicate id 1"),
    ("<blk> 0\na 1\na 2\n", "tokens.txt:3: duplicate symbol 'a'"),
    ("a 0\nb 1\n", "CTC needs the blank"),
    ("<blk> 0\na one\n", "tokens.txt:2: id 'one' is not an integer"),
    ("", "tokens.txt: symbol table is empty"),
    ("<blk> 0\na -1\n", "tokens.txt:2: negative id -1"),
    # input labels are id + 1 and stay below 2**28, where class-slot nonterminals begin
    (f"<blk> 0\na 1\nb {2**28 - 1}\n", f"tokens.txt:3: id {2**28 - 1} of 'b' is too large: the "
     f"largest token id is {2**28 - 2}"),
    ("<blk> 0\na 1\nb 2147483647\n", "tokens.txt:3: id 2147483647 of 'b' is too large"),
    (f"<blk> 0\na {2**32}\n", f"tokens.txt:2: id {2**32} of 'a' is too large"),
])
def test_bad_tokens(inputs, tokens_text, message):
    (inputs / "tokens.txt").write_text(tokens_text)
    with pytest.raises(pywfst.InputFileError, match=message):
        _build(inputs)
    _assert_no_output(inputs)


def test_largest_token_id_builds(inputs):
    """The last id below the limit of test_bad_tokens works (no LM: a small word loop)."""
    top = 2**28 - 2
    (inputs / "tokens.txt").write_text(f"<blk> 0\na 1\nb {top}\n")
    (inputs / "lexicon.txt").write_text("ab a b\nba b a\n")
    graph = _build(inputs, lm=None)
    assert graph.info["emission_columns"] == top + 1


def test_hmm_token_ids_leave_room_for_every_state(inputs):
    """With N HMM states, token t reads columns t*N .. t*N+N-1 (labels + 1, below 2**28)."""
    top = (2**28 - 1) // 3 - 1
    (inputs / "lexicon.txt").write_text("ab a b\n")
    (inputs / "tokens.txt").write_text(f"<blk> 0\na 1\nb {top + 1}\n")
    with pytest.raises(pywfst.InputFileError, match=f"tokens.txt:3: id {top + 1} of 'b' is too "
                       f"large: the largest token id with 3 HMM states per token is {top}"):
        _build(inputs, lm=None, topology="hmm", hmm_states=3)
    _assert_no_output(inputs)
    assert _build(inputs, lm=None, topology="hmm", hmm_states=1).info["emission_columns"] == top + 2


def test_word_ids_stay_below_class_words(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text(f"<eps> 0\na 1\nb {2**24 - 1}\n")
    assert read_words(path)["b"] == 2**24 - 1
    path.write_text(f"<eps> 0\na 1\nb {2**24}\n")
    with pytest.raises(pywfst.InputFileError, match=f"words.txt:3: id {2**24} of 'b' is too large: "
                       f"word ids must be below {2**24}"):
        read_words(path)


@pytest.mark.parametrize("name, line_no", [("tokens.txt", 3), ("lexicon.txt", 2), ("lm.arpa", 9)])
def test_non_utf8_input_names_file_and_line(inputs, name, line_no):
    lines = (inputs / name).read_bytes().split(b"\n")
    lines[line_no - 1] = b"ab\xff" + lines[line_no - 1]
    (inputs / name).write_bytes(b"\n".join(lines))
    with pytest.raises(pywfst.InputFileError,
                       match=f"{name}:{line_no}: not UTF-8 text: byte 0xff at column 3"):
        _build(inputs)
    _assert_no_output(inputs)


def test_binary_file_as_tokens(inputs):
    graph = _build(inputs, lm=None)
    with pytest.raises(pywfst.InputFileError, match=r"HCLG.fst:1: not UTF-8 text: .* \(is this a "
                       r"symbol table\?\)"):
        pywfst.build_graph(graph.path / "HCLG.fst", inputs / "out2", lexicon=inputs / "lexicon.txt",
                           progress=False)


def test_non_utf8_words_txt(tmp_path):
    (tmp_path / "words.txt").write_bytes("<eps> 0\ncafé 1\n".encode("latin-1"))
    with pytest.raises(pywfst.InputFileError, match="words.txt:2: not UTF-8 text: byte 0xe9 at "
                       "column 4"):
        read_words(tmp_path / "words.txt")


@pytest.mark.parametrize("probability", ["nan", "inf", "-0.5", "0", "0.0", "1.5", "-inf"])
def test_bad_lexiconp_probability(inputs, probability):
    words = [line.split()[0] for line in (inputs / "lexicon.txt").read_text().splitlines()]
    (inputs / "lexicon.txt").write_text(
        "".join(f"{w} {probability if i == 1 else '0.5'} {' '.join(w)}\n" for i, w in enumerate(words)))
    with pytest.raises(pywfst.InputFileError, match=f"lexicon.txt:2: invalid pronunciation "
                       f"probability '{probability}'"):
        _build(inputs)
    _assert_no_output(inputs)


def test_lexicon_of_digit_tokens_is_not_a_lexiconp(inputs):
    """Every second field a number, but a token: the file has no probability column."""
    (inputs / "tokens.txt").write_text("<blk> 0\n1 1\n2 2\n")
    (inputs / "lexicon.txt").write_text("12 1 2\n21 2 1\n")
    graph = _build(inputs, lm=None)
    assert graph.info["num_pronunciations"] == 2 and graph.info["num_words"] == 2


@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True])
def test_bad_hmm_states(inputs, value):
    with pytest.raises(ValueError, match=f"hmm_states: must be an integer >= 1, got {value!r}"):
        _build(inputs, topology="hmm", hmm_states=value)
    _assert_no_output(inputs)


def test_cli_rejects_hmm_states_zero(inputs):
    result = CliRunner().invoke(cli, ["build-graph", "--tokens", str(inputs / "tokens.txt"),
                                      "--lexicon", str(inputs / "lexicon.txt"), "--topo", "hmm",
                                      "--hmm-states", "0", "--out", str(inputs / "out"), "--quiet"])
    assert result.exit_code == 2
    assert "--hmm-states" in result.output
    _assert_no_output(inputs)


def test_empty_lexicon_and_missing_files(inputs):
    (inputs / "lexicon.txt").write_text("\n\n")
    with pytest.raises(pywfst.InputFileError, match="lexicon.txt: lexicon is empty"):
        _build(inputs)
    with pytest.raises(OSError, match="missing.txt"):
        _build(inputs, lexicon=inputs / "missing.txt")
    with pytest.raises(OSError, match="nope.arpa"):
        pywfst.build_graph(inputs / "tokens.txt", inputs / "out", spell=True, lm=inputs / "nope.arpa",
                           progress=False)
    _assert_no_output(inputs)


def test_existing_output_needs_force(inputs):
    _build(inputs)
    with pytest.raises(FileExistsError, match="already exists"):
        _build(inputs)
    graph = _build(inputs, force=True, topology="identity")
    assert graph.info["options"]["topology"] == "identity"


def test_argument_errors(inputs):
    with pytest.raises(ValueError, match="exactly one of"):
        _build(inputs, spell=True)
    with pytest.raises(ValueError, match="topology"):
        _build(inputs, topology="ctc-fancy")
    with pytest.raises(ValueError, match="word_boundary: '#' is not a token"):
        _build(inputs, word_boundary="#")
    with pytest.raises(TypeError, match="unknown option 'beam'"):
        _build(inputs, beam=3)
    _assert_no_output(inputs)


def test_cli_reports_error_and_exits_nonzero(inputs):
    _replace_line(inputs / "lexicon.txt", 3, "dog d o Q")
    result = CliRunner().invoke(cli, ["build-graph", "--tokens", str(inputs / "tokens.txt"),
                                      "--lexicon", str(inputs / "lexicon.txt"),
                                      "--out", str(inputs / "out"), "--quiet"])
    assert result.exit_code == 1
    assert "lexicon.txt:3: token 'Q' is not in" in result.output
    _assert_no_output(inputs)


def test_cli_builds_and_info_summarises(inputs):
    runner = CliRunner()
    result = runner.invoke(cli, ["build-graph", "--tokens", str(inputs / "tokens.txt"), "--spell",
                                 "--word-boundary", "|", "--lm", str(inputs / "lm.arpa"),
                                 "--topo", "ctc-compact", "--out", str(inputs / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    info = runner.invoke(cli, ["info", str(inputs / "out")])
    assert info.exit_code == 0
    assert "topology ctc-compact, lexicon mode spell" in info.output
    assert "word boundary '|' (mandatory)" in info.output  # the default of spelling graphs
    result = runner.invoke(cli, ["build-graph", "--tokens", str(inputs / "tokens.txt"), "--spell",
                                 "--word-boundary", "|", "--boundary-optional", "--lm",
                                 str(inputs / "lm.arpa"), "--out", str(inputs / "opt"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "word boundary '|' (optional)" in runner.invoke(cli, ["info", str(inputs / "opt")]).output


def test_disambiguation_rule():
    prons = [(1, 2), (1, 2), (1,), (3, 4, 5), (3, 4), (6,)]
    suffixes, highest = disambiguation_suffixes(prons)
    # homophones get #1, #2; a prefix of another pronunciation gets #1; unique ones get nothing
    assert suffixes == [1, 2, 1, 0, 1, 0]
    assert highest == 2


def test_input_file_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(pywfst.InputFileError("lm.arpa", 7, "bad line")))
    assert str(error) == "lm.arpa:7: bad line" and error.line == 7


def test_grammar_compiler_errors_cross_the_process_boundary(tmp_path):
    """kaldilm aborts its child process on this ARPA (no \\end\\): the caller gets an
    InputFileError with kaldilm's log. The abort runs in a subprocess whose stderr is captured,
    with faulthandler writing to it as pytest's does: no "Fatal Python error" traceback leaks."""
    (tmp_path / "words.txt").write_text("<eps> 0\na 1\n#0 2\n<s> 3\n</s> 4\n")
    (tmp_path / "lm.arpa").write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-0.5 a\n")  # no \end\
    script = textwrap.dedent("""
        import faulthandler, os
        faulthandler.enable(os.fdopen(os.dup(2), "w"))  # as pytest's faulthandler plugin
        import pywfst
        from pywfst.graph.grammar import GrammarCompilation
        try:
            with GrammarCompilation("lm.arpa", "words.txt", "G.fst") as job:
                job.wait()
        except pywfst.InputFileError as error:
            print(error)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("lm.arpa: kaldilm crashed compiling it:")
    assert "expecting \\end\\" in run.stdout  # kaldilm's own message, from its log
    assert "Fatal Python error" not in run.stderr + run.stdout
