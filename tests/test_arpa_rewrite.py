"""write_arpa_with_unk: the <unk> rewrite of an ARPA that read_arpa_summary accepted is itself
accepted, whatever free text comes before \\data\\ and however the unigrams are normalized."""

import pytest

from pywfst.graph.grammar import read_arpa_summary, write_arpa_with_unk

BODY = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-0.5 <s> -0.3
-0.5 </s>
{cat} cat -0.2
{dog} dog -0.1

\\2-grams:
-0.2 <s> cat
-0.3 cat dog

\\end\\
"""


def rewrite(tmp_path, text):
    source = tmp_path / "lm.arpa"
    source.write_text(text)
    out = tmp_path / "unk.arpa"
    counts = write_arpa_with_unk(read_arpa_summary(source), {"cat", "dog"}, "<unk>", out)
    return counts, read_arpa_summary(out), out.read_text()


def test_preamble_with_section_headers_is_skipped(tmp_path):
    preamble = "written by hand\n\\1-grams:\nx\n\\2-grams:\n\\3-grams:\n"
    counts, summary, _ = rewrite(tmp_path, preamble + BODY.format(cat="-1.0", dog="-1.0"))
    # cat and dog merge into <unk>; both bigrams hold one of them
    assert counts == {1: 3, 2: 0}
    assert summary.vocabulary == {"<unk>"}


@pytest.mark.parametrize("cat, dog", [("-0.1", "-0.1"), ("0", "-0.000001")])
def test_unk_mass_above_one_is_capped(tmp_path, cat, dog):
    _, summary, text = rewrite(tmp_path, BODY.format(cat=cat, dog=dog))
    assert "<unk>" in summary.vocabulary
    unk_line = next(line for line in text.splitlines() if line.endswith("<unk>"))
    assert float(unk_line.split()[0]) == 0.0


def test_unk_mass_is_the_log10_sum(tmp_path):
    _, _, text = rewrite(tmp_path, BODY.format(cat="-1.0", dog="-1.0"))
    unk_line = next(line for line in text.splitlines() if line.endswith("<unk>"))
    assert float(unk_line.split()[0]) == pytest.approx(-0.69897, abs=1e-5)  # log10(0.2)
