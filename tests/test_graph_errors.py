"""Bad input to the graph compiler: a clear error naming file and line, no output directory."""

import gzip
import shutil

import pytest
from click.testing import CliRunner

import pywfst
from pywfst.cli import cli
from pywfst.graph.lexicon import disambiguation_suffixes


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
])
def test_bad_arpa(inputs, make_bad, message):
    lines = (inputs / "lm.arpa").read_text().splitlines()
    make_bad(lines)
    (inputs / "lm.arpa").write_text("\n".join(lines) + "\n")
    with pytest.raises(pywfst.InputFileError, match=message):
        _build(inputs)
    _assert_no_output(inputs)


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
])
def test_bad_tokens(inputs, tokens_text, message):
    (inputs / "tokens.txt").write_text(tokens_text)
    with pytest.raises(pywfst.InputFileError, match=message):
        _build(inputs)
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
    assert "word boundary '|' (optional)" in info.output


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
    from pywfst.graph.grammar import GrammarCompilation

    (tmp_path / "words.txt").write_text("<eps> 0\na 1\n#0 2\n<s> 3\n</s> 4\n")
    (tmp_path / "lm.arpa").write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-0.5 a\n")  # no \end\
    with pytest.raises(pywfst.InputFileError, match="lm.arpa"):
        with GrammarCompilation(tmp_path / "lm.arpa", tmp_path / "words.txt",
                                tmp_path / "G.fst") as job:
            job.wait()
