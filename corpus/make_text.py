#!/usr/bin/env python3
"""Select and split the corpus sentences; write the LM training text.

Sources: general English from Debian's wordnet-base (glosses and example sentences), the
medical and legal sentences written for this project (corpus/sentences/*.txt) and, for training
only, template sentences that put every domain term (corpus/sentences/*_terms.txt) in a short
carrier phrase, so that the acoustic model hears each term. Every sentence is normalised to
lowercase a-z, apostrophe and single spaces. Splits are by sentence, so no sentence
(nor an exact duplicate of it) is in two splits; the LM text holds no dev or test sentence.

Writes into --out (default corpus/work/text):
  {train,dev,test}.tsv   id <TAB> domain <TAB> sentence
  lm_text.txt            train sentences + every other WordNet sentence not in dev/test
  general_lm_text.txt    the same without the medical and legal sentences (for jargon tests)

    python corpus/make_text.py
"""
from __future__ import annotations

import argparse
import glob
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDNET = Path("/usr/share/wordnet")
NON_WORD = re.compile(r"[^a-z']+")
DOMAINS = ("medical", "legal")
# Carrier phrases for the domain terms ({} is the term); each term is spoken in
# --templates-per-term of them, chosen at random.
TERM_TEMPLATES = {
    "medical": ("the report mentions {}", "we discussed {} with the patient",
                "there is no evidence of {} today", "the next step is {}",
                "she was referred because of {}", "please document {} in the chart",
                "his history includes {}", "the team reviewed {} this morning"),
    "legal": ("the court considered {}", "counsel raised {} in the motion",
              "the question of {} remains open", "the brief discusses {} at length",
              "the judge ruled on {}", "the contract refers to {}",
              "the parties disputed {}", "the appeal turns on {}"),
}


def normalise(text: str) -> str:
    words = (w.strip("'") for w in NON_WORD.sub(" ", text.lower()).split())
    return " ".join(w for w in words if w)


def wordnet_sentences() -> list[str]:
    """Gloss pieces (split at ';' and at the quotes around examples), normalised, in file order."""
    files = sorted(glob.glob(str(WORDNET / "data.*")))
    if not files:
        raise SystemExit(f"no {WORDNET}/data.* files: apt-get install wordnet-base")
    sentences = []
    for name in files:
        with open(name, encoding="latin-1") as f:
            for line in f:
                _, sep, gloss = line.partition(" | ")
                if sep and not line.startswith("  "):
                    sentences.extend(s for s in map(normalise, re.split(r'[;"]', gloss)) if s)
    return sentences


def term_sentences(domain: str, per_term: int, rng: random.Random) -> list[str]:
    """Each term of the domain's term list in ``per_term`` different carrier phrases."""
    terms = (HERE / "sentences" / f"{domain}_terms.txt").read_text().splitlines()
    return [normalise(template.format(term)) for term in terms if normalise(term)
            for template in rng.sample(TERM_TEMPLATES[domain], per_term)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "work" / "text")
    parser.add_argument("--general-train", type=int, default=20000)
    parser.add_argument("--general-dev", type=int, default=150)
    parser.add_argument("--general-test", type=int, default=200)
    parser.add_argument("--domain-dev-share", type=float, default=0.15)
    parser.add_argument("--domain-test-share", type=float, default=0.2)
    parser.add_argument("--templates-per-term", type=int, default=2)
    parser.add_argument("--min-words", type=int, default=5)
    parser.add_argument("--max-words", type=int, default=18)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    all_general = wordnet_sentences()
    candidates = sorted({s for s in all_general
                         if args.min_words <= len(s.split()) <= args.max_words})
    rng.shuffle(candidates)
    splits = {"train": [], "dev": [], "test": []}
    ends = (args.general_test, args.general_test + args.general_dev,
            args.general_test + args.general_dev + args.general_train)
    for split, (begin, end) in zip(("test", "dev", "train"),
                                   zip((0,) + ends[:-1], ends)):
        splits[split] += [("general", s) for s in candidates[begin:end]]

    for domain in DOMAINS:
        source = HERE / "sentences" / f"{domain}.txt"
        sentences = sorted({normalise(line) for line in source.read_text().splitlines()} - {""})
        rng.shuffle(sentences)
        n_test = round(len(sentences) * args.domain_test_share)
        n_dev = round(len(sentences) * args.domain_dev_share)
        splits["test"] += [(domain, s) for s in sentences[:n_test]]
        splits["dev"] += [(domain, s) for s in sentences[n_test:n_test + n_dev]]
        splits["train"] += [(domain, s) for s in sentences[n_test + n_dev:]]

    # Drawn after every split, so the splits stay those of a run without templates; the LM
    # text leaves them out (they are there for the acoustic model only).
    domain_train = [s for domain, s in splits["train"] if domain != "general"]
    splits["train"] += [(domain, s) for domain in DOMAINS
                        for s in term_sentences(domain, args.templates_per_term, rng)]

    args.out.mkdir(parents=True, exist_ok=True)
    held_out = {s for split in ("dev", "test") for _, s in splits[split]}
    for split, rows in splits.items():
        with open(args.out / f"{split}.tsv", "w") as f:
            for index, (domain, sentence) in enumerate(rows):
                f.write(f"{split}-{domain}-{index:05d}\t{domain}\t{sentence}\n")
        print(f"{split}: {len(rows)} sentences "
              + ", ".join(f"{d} {sum(r[0] == d for r in rows)}" for d in ("general",) + DOMAINS))
    general_lm = [s for s in all_general if s not in held_out]
    (args.out / "general_lm_text.txt").write_text("\n".join(general_lm) + "\n")
    (args.out / "lm_text.txt").write_text("\n".join(general_lm + domain_train) + "\n")
    print(f"LM text: {len(general_lm)} WordNet sentences + {len(domain_train)} domain sentences")


if __name__ == "__main__":
    main()
