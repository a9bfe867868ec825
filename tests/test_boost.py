"""Run-time phrase boosting: the automaton's accounting and its effect inside the search."""

import random

import numpy as np
import pytest

import pywfst
from pywfst import _core
from pywfst.synthetic import simulate_ctc_emissions


def cost(phrases, words):
    return _core.PhraseBoost(phrases).sequence_cost(words)


def test_completed_phrases_pay_their_weight_and_prefixes_nothing():
    phrase = [([1, 2], 4.0)]
    assert cost(phrase, [1, 2]) == pytest.approx(-4.0)
    assert cost(phrase, [1]) == pytest.approx(0.0)  # the pending half is taken back at the end
    assert cost(phrase, [1, 3]) == pytest.approx(0.0)
    assert cost(phrase, [3, 1, 2, 3]) == pytest.approx(-4.0)
    assert cost(phrase, [1, 2, 1, 2]) == pytest.approx(-8.0)
    assert cost(phrase, [1, 1, 2]) == pytest.approx(-4.0)  # the failed "1" restarts the match
    assert cost([([5], -3.0)], [5, 6, 5]) == pytest.approx(6.0)  # negative weights penalise


def test_failure_links_credit_the_suffix_phrase():
    phrases = [([1, 2, 3], 6.0), ([2], 1.0)]
    assert cost(phrases, [1, 2, 9]) == pytest.approx(-1.0)  # "1 2 3" abandoned, "2" completed
    assert cost(phrases, [1, 2, 3]) == pytest.approx(-6.0)  # the longer match wins
    phrases = [([1, 2, 3], 6.0), ([2, 3, 4], 3.0)]
    assert cost(phrases, [1, 2, 3, 4]) == pytest.approx(-9.0)  # overlapping occurrences both pay
    assert cost(phrases, [1, 2, 4]) == pytest.approx(0.0)
    assert cost(phrases, [7, 2, 3, 4]) == pytest.approx(-3.0)


def test_outcomes_bound_what_a_match_can_still_bring():
    # "1 2" and "2 3", 5 each: 2.5 credited per word, the rest on completion.
    boost = _core.PhraseBoost([([1, 2], 5.0), ([2, 3], 5.0)])
    assert boost.outcomes([]) == (0.0, 0.0)  # the root is in no match
    assert boost.outcomes([7]) == (0.0, 0.0)
    assert boost.outcomes([1]) == pytest.approx((-2.5, 2.5))  # "1 2" completed / taken back
    assert boost.outcomes([2]) == pytest.approx((-2.5, 2.5))
    # "1 2" is banked, and as no phrase extends it the path is at once in its suffix's match
    # ("2" credited, as the next word would credit it): completing "2 3" or taking "2" back.
    assert boost.outcomes([1, 2]) == pytest.approx((-2.5, 2.5))
    assert boost.sequence_cost([1, 2]) == pytest.approx(-5.0)
    assert boost.sequence_cost([1, 2, 3]) == pytest.approx(-10.0)
    assert boost.outcomes([1, 2, 3]) == pytest.approx((0.0, 0.0))
    penalty = _core.PhraseBoost([([4, 5], -3.0), ([4, 6], 1.0)])
    # "4" carries the penalty 1.5 credited by "4 5" (its first phrase). Best: "4 6" completed,
    # -1 in all, so -2.5 from here; worst: "4 5" completed, +1.5 more.
    assert penalty.outcomes([4]) == pytest.approx((-2.5, 1.5))


def test_outcomes_of_a_lone_phrase_are_completing_it_or_taking_it_back():
    # A phrase of k distinct words and weight w, d words read: taking the match back costs
    # w*d/k, completing it -w*(k-d)/k; they differ by what completing adds to the sequence.
    rng = random.Random(3)
    for _ in range(50):
        words = rng.sample(range(1, 9), rng.randint(2, 5))
        weight = rng.choice([-4.0, -1.0, 2.0, 6.0])
        boost = _core.PhraseBoost([(words, weight)])
        k = len(words)
        for d in range(1, k):
            taken_back, completed = weight * d / k, -weight * (k - d) / k
            assert completed - taken_back == pytest.approx(
                boost.sequence_cost(words) - boost.sequence_cost(words[:d]))
            expected = (min(taken_back, completed), max(taken_back, completed))
            assert boost.outcomes(words[:d]) == pytest.approx(expected, abs=1e-6)


def test_random_sequences_without_a_phrase_cost_nothing():
    rng = random.Random(0)
    for _ in range(200):
        phrases = [([rng.randint(1, 6) for _ in range(rng.randint(1, 4))], rng.uniform(-5, 5))
                   for _ in range(rng.randint(1, 6))]
        words = [rng.randint(1, 6) for _ in range(rng.randint(0, 12))]
        contains = any(words[i:i + len(p)] == p for p, _ in phrases for i in range(len(words)))
        if not contains:
            assert cost(phrases, words) == pytest.approx(0.0, abs=1e-9), (phrases, words)


def reference_sequence_cost(phrases, words):
    """The accounting phrase_boost.h describes, step by step: a trie whose nodes credit the
    first phrase's per-word bonus, failure links to the longest suffix node, and a match that
    breaks taking its pending bonus back and crediting its suffix as if read from the root."""
    children, arrive, complete, depth_words = [{}], [0.0], [None], [()]
    for words_of, weight in phrases:
        node, arrived = 0, 0.0
        for word in words_of:
            if word not in children[node]:
                children[node][word] = len(children)
                children.append({})
                arrive.append(-weight / len(words_of))
                complete.append(None)
                depth_words.append(depth_words[node] + (word,))
            node = children[node][word]
            arrived += arrive[node]
        if complete[node] is None:  # completing pays the rest of the weight (a repeat: the first)
            complete[node] = -weight - arrived
    ends = [c is not None for c in complete]
    step = [a + (c or 0.0) for a, c in zip(arrive, complete)]

    def find(seq):
        node = 0
        for word in seq:
            node = children[node].get(word)
            if node is None:
                return None
        return node

    def path_and_pending(seq):  # cost of reading seq from the root along the trie
        path = pending = 0.0
        for i in range(1, len(seq) + 1):
            node = find(seq[:i])
            path += step[node]
            pending = 0.0 if ends[node] else pending + step[node]
        return path, pending

    def suffix(node):  # the longest proper suffix of node's words that is a trie node
        seq = depth_words[node]
        return next(find(seq[i:]) for i in range(1, len(seq) + 1) if find(seq[i:]) is not None)

    node, total = 0, 0.0
    for word in words:
        while node != 0 and word not in children[node]:
            total += path_and_pending(depth_words[suffix(node)])[0] - \
                path_and_pending(depth_words[node])[1]
            node = suffix(node)
        if word in children[node]:
            node = children[node][word]
            total += step[node]
    return total - path_and_pending(depth_words[node])[1]


def test_the_automaton_pays_as_its_description_says():
    # Small alphabets, so phrases nest, share prefixes and end inside each other; weights of both
    # signs and zero. Fails, e.g., when a completed phrase's path moves on to a suffix that has
    # banked a phrase of its own before the next word (that phrase would be paid twice).
    rng = random.Random(4)
    for _ in range(300):
        phrases = [([rng.randint(1, 4) for _ in range(rng.randint(1, 4))],
                    rng.choice([-3.0, 0.0, 1.0, 2.5, 6.0])) for _ in range(rng.randint(1, 6))]
        words = [rng.randint(1, 5) for _ in range(rng.randint(0, 10))]
        assert cost(phrases, words) == pytest.approx(
            reference_sequence_cost(phrases, words), abs=1e-5), (phrases, words)


def test_separated_occurrences_each_pay_once():
    rng = random.Random(1)
    phrases = [([10, 11], 2.0), ([12, 13, 14], 3.5), ([15], 1.25)]  # no phrase inside another
    for _ in range(100):
        words, expected = [], 0.0
        for _ in range(rng.randint(1, 6)):
            words += [rng.randint(1, 9) for _ in range(rng.randint(0, 3))]  # filler words
            if rng.random() < 0.7:
                phrase, weight = rng.choice(phrases)
                words += phrase
                expected -= weight
            elif rng.random() < 0.5:  # an abandoned prefix
                words += rng.choice(phrases[:2])[0][:1] + [rng.randint(1, 9)]
        assert cost(phrases, words) == pytest.approx(expected), words


@pytest.mark.parametrize("phrases, message", [([([], 1.0)], "no words"),
                                              ([([0], 1.0)], r"word id 0 is not in \[1, "),
                                              ([([1 << 24], 1.0)], "is not in"),
                                              ([([1], float("nan"))], "finite")])
def test_bad_phrases_raise(phrases, message):
    with pytest.raises(ValueError, match=message):
        _core.PhraseBoost(phrases)


@pytest.fixture(scope="module")
def spelled_graph(char_setup, tmp_path_factory):
    return pywfst.build_graph(char_setup["tokens"], tmp_path_factory.mktemp("boost") / "g",
                              spell=True, word_boundary="|", lm=char_setup["lm"], progress=False)


def emissions_for(graph, sentence, seed=0, confusion=0.0):
    ids = []
    for index, word in enumerate(sentence.split()):
        if index:
            ids.append(graph.tokens["|"])
        ids.extend(graph.tokens[c] for c in word)
    return simulate_ctc_emissions(ids, len(graph.tokens), np.random.default_rng(seed), peak=4.0,
                                  noise=0.5, confusion=confusion)


def test_boost_changes_the_best_path_and_accounts_for_it(spelled_graph):
    decoder = pywfst.Decoder(spelled_graph)
    emissions = emissions_for(spelled_graph, "the cat sat on the mat")
    plain = decoder.decode(emissions)
    assert plain.words == "the cat sat on the mat".split() and plain.boost_cost == 0.0
    boosted = decoder.decode(emissions, boost={"cats sat": 10.0})
    assert boosted.words == "the cats sat on the mat".split()
    assert boosted.boost_cost == pytest.approx(-10.0)
    assert boosted.cost == pytest.approx(boosted.acoustic_cost + boosted.graph_cost - 10.0)
    assert boosted.cost < plain.cost


def test_abandoned_prefix_gets_nothing(spelled_graph):
    decoder = pywfst.Decoder(spelled_graph)
    emissions = emissions_for(spelled_graph, "the cat sat on the mat", seed=3)
    plain = decoder.decode(emissions)
    boosted = decoder.decode(emissions, boost=[("the dog", 6.0), ("mat is", 6.0)])
    assert boosted.words == plain.words
    assert boosted.boost_cost == 0.0 and boosted.cost == pytest.approx(plain.cost)


def test_penalty_and_prepared_boost_in_batches(spelled_graph):
    decoder = pywfst.Decoder(spelled_graph)
    sentences = ["the cat sat on the mat", "a dog ran away", "the judge saw the doctor"]
    batch = [emissions_for(spelled_graph, s, seed=i) for i, s in enumerate(sentences)]
    prepared = pywfst.PhraseBoost(spelled_graph, {"dog": -2.5, "the judge": 3.0})
    assert prepared.num_phrases == 2
    one_by_one = [decoder.decode(e, boost=prepared) for e in batch]
    together = decoder.decode_batch(batch, boost=prepared)
    assert [r.words for r in one_by_one] == [r.words for r in together]
    assert [r.cost for r in one_by_one] == [r.cost for r in together]
    assert one_by_one[1].boost_cost == pytest.approx(2.5)  # "dog" still wins, but pays
    assert one_by_one[2].boost_cost == pytest.approx(-3.0)


def test_boost_nodes_per_state(spelled_graph):
    emissions = emissions_for(spelled_graph, "the cat sat on the mat", seed=5)
    boost = pywfst.PhraseBoost(spelled_graph, {"cats sat": 10.0, "the dog": 6.0})
    results = [pywfst.Decoder(spelled_graph, boost_nodes_per_state=n).decode(emissions, boost=boost)
               for n in (1, 4)]
    assert results[0].words == results[1].words == "the cats sat on the mat".split()
    with pytest.raises(ValueError, match="boost_nodes_per_state"):
        pywfst.Decoder(spelled_graph, boost_nodes_per_state=0)


def test_boosted_search_ends_no_worse_than_the_plain_path_boosted(spelled_graph, char_setup):
    # Tokens of several boost nodes share a state, so a partial match that is later taken back
    # does not crowd out the path that wins in the end: the boosted search never ends above the
    # plain search's own path with its boost added (that path was offered to it; the beam is
    # wide). Fails when a state keeps only its cheapest token whatever its boost node.
    rng = random.Random(7)
    sentences = [" ".join(s) for s in char_setup["sentences"][:40]]
    words = sorted({w for s in sentences for w in s.split()})
    phrases = {}
    while len(phrases) < 300:  # pieces of the sentences (they complete) and random word pairs
        if len(phrases) % 2:
            ref = rng.choice(sentences).split()
            start = rng.randrange(len(ref))
            phrase = " ".join(ref[start:start + rng.randint(1, 3)])
        else:
            phrase = " ".join(rng.sample(words, rng.randint(2, 3)))
        phrases[phrase] = rng.choice([-2.0, 1.0, 3.0, 6.0])
    boost = pywfst.PhraseBoost(spelled_graph, phrases)
    decoder = pywfst.Decoder(spelled_graph, beam=24.0, min_active=400)
    changed = 0
    for i, sentence in enumerate(sentences):
        emissions = emissions_for(spelled_graph, sentence, seed=i, confusion=0.3)
        plain = decoder.decode(emissions)
        boosted = decoder.decode(emissions, boost=boost)
        plain_boosted = plain.cost + boost.native.sequence_cost(plain.word_ids)
        assert boosted.cost <= plain_boosted + 1e-4, (sentence, plain.words, boosted.words)
        changed += boosted.words != plain.words
    assert changed > 0  # the boost did move some results


def test_the_boosted_fast_path_keeps_the_tokens_the_general_path_keeps(spelled_graph, char_setup):
    # Without n-best, lattice or filled class slots the search relaxes arcs through a shorter
    # path (RelaxSimple); a lattice takes the general one (Relax). Both must keep the same tokens
    # per boost node, so the results are equal to the last bit, at 1 and 4 nodes per state.
    rng = random.Random(11)
    sentences = [" ".join(s) for s in char_setup["sentences"][:30]]
    words = sorted({w for s in sentences for w in s.split()})
    phrases = {" ".join(rng.sample(words, rng.randint(1, 3))): rng.choice([-2.0, 2.0, 5.0])
               for _ in range(200)}
    boost = pywfst.PhraseBoost(spelled_graph, phrases)
    for nodes in (1, 4):
        fast = pywfst.Decoder(spelled_graph, boost_nodes_per_state=nodes)
        general = pywfst.Decoder(spelled_graph, boost_nodes_per_state=nodes, lattice=True)
        for i, sentence in enumerate(sentences):
            emissions = emissions_for(spelled_graph, sentence, seed=i, confusion=0.3)
            a, b = fast.decode(emissions, boost=boost), general.decode(emissions, boost=boost)
            assert (a.word_ids, a.cost, a.alignment) == (b.word_ids, b.cost, b.alignment), sentence


def test_boost_input_errors(spelled_graph, char_setup, tmp_path):
    decoder = pywfst.Decoder(spelled_graph)
    emissions = emissions_for(spelled_graph, "a dog")
    with pytest.raises(ValueError, match="'zebra' is not a word"):
        decoder.decode(emissions, boost=["the zebra"])
    with pytest.raises(ValueError, match="phrase 0 is empty"):
        decoder.decode(emissions, boost={"  ": 1.0})
    with pytest.raises(ValueError, match="must be finite"):
        decoder.decode(emissions, boost={"dog": float("inf")})
    with pytest.raises(TypeError, match="not a string"):
        decoder.decode(emissions, boost="dog")
    other = pywfst.build_graph(char_setup["tokens"], tmp_path / "other", spell=True,
                               lm=char_setup["lm"], progress=False)
    with pytest.raises(ValueError, match="made for the graph"):
        decoder.decode(emissions, boost=pywfst.PhraseBoost(other, ["dog"]))
