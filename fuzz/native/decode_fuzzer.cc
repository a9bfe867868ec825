// libFuzzer harness for the decode entry point: bytes -> options, a small graph, a score matrix
// (optionally misaligned or column-major, with priors), optional phrase boosting and an optional
// class slot -> BeamSearch::Decode, optionally run twice on the same search object.
//
// InputError is the answer to bad input (a label beyond the scores' columns, a NaN score, an
// invalid option or class); any other exception, a sanitizer report, a crash, a hang, a broken
// result invariant or two decodes of the same input that disagree is a finding.
//
// Input format (little-endian; reads past the end give zeros, so every prefix is an input).
// fuzz/make_seeds.py writes it from real graphs and emissions; keep the two in step.
//   header (10 x u8): flags (1 log-softmax, 2 priors, 4 column-major scores, 8 boost,
//            16 class slot, 32 decode twice), byte offset of the scores (& 3), nbest, max_active, min_active, beam,
//            lattice_beam, beam_delta, boost_nodes_per_state, acoustic_scale
//   graph:   u16 states - 1, u16 start, per state: u8 final (weight code), u8 arcs,
//            per arc: u16 ilabel (label code), u16 olabel (word code), u8 weight code, u16 next
//   scores:  u8 T - 1 (% 128), u8 V - 1 (% 64), T x V u8 score codes (row-major), [V u8 prior codes]
//   [boost]: u8 phrases (& 7), per phrase: u8 length - 1 (& 3), length x u16 word codes,
//            u8 weight code (bonus = code / 16 - 4)
//   [class]: topology graph (as above, at most 64 states, u8 olabels), u8 contexts,
//            contexts x u16, u16 optional token (0xffff: none), u8 words (& 7), per word:
//            u16 word code, u8 pronunciations - 1 (% 3), per pronunciation: u8 length - 1 (& 7),
//            length x u8 tokens; u8 entries (& 7), per entry: u8 words - 1 (& 3), words x u8
//            indices, u8 weight code (the entry's cost)
//   weights: u8 lm_weight code (0: 1, else code / 32), u8 word insertion penalty code (0: 0,
//            else (code - 128) / 16): read last, so that inputs without them keep the defaults
// Codes: weight/score: 255 +inf, 254 NaN, 253 -inf, else weight (code - 32) / 8, score -code / 8;
// label: 0 epsilon, < 0xf000 a token label, 0xfXcc a nonterminal (X = 0: return, else enter
// class X - 1; cc: context); word: < 0x8000 itself, else a word of class ((code >> 12) & 7) + 1
// (code & 0xfff).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "common/errors.h"
#include "decoder/beam_search.h"
#include "decoder/class_graph.h"
#include "decoder/phrase_boost.h"
#include "fst/csr_graph.h"
#include "fst/nonterminal.h"

namespace pywfst {
namespace {

constexpr int32_t kMaxStates = 1024;
constexpr int32_t kMaxTopologyStates = 64;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

float Weight(uint8_t code) {
  switch (code) {
    case 255: return std::numeric_limits<float>::infinity();
    case 254: return std::numeric_limits<float>::quiet_NaN();
    case 253: return -std::numeric_limits<float>::infinity();
    default: return (static_cast<float>(code) - 32.0f) / 8.0f;
  }
}

float Score(uint8_t code) { return code >= 253 ? Weight(code) : -static_cast<float>(code) / 8.0f; }

Label InputLabel(uint16_t code) {
  if (code < 0xf000) return code;
  const int32_t kind = (code >> 8) & 15, context = code & 255;
  return kind == 0 ? ReturnLabel(context) : EnterLabel(kind - 1, context);
}

Label Word(uint16_t code) {
  if (code < 0x8000) return code;
  return (((code >> 12) & 7) + 1) * kClassWordStride + (code & 0xfff);
}

std::shared_ptr<const CsrGraph> ReadGraph(Bytes* in, int32_t max_states, bool byte_olabels) {
  const int32_t n = 1 + in->U16() % max_states;
  const StateId start = in->U16() % n;
  std::vector<float> finals(n);
  std::vector<std::vector<GraphArc>> arcs(n);
  for (StateId s = 0; s < n; ++s) {
    finals[s] = Weight(in->U8());
    arcs[s].resize(in->U8());
    for (GraphArc& arc : arcs[s]) {
      arc.ilabel = InputLabel(in->U16());
      arc.olabel = byte_olabels ? in->U8() : Word(in->U16());
      arc.weight = Weight(in->U8());
      arc.nextstate = in->U16() % n;
    }
  }
  return std::make_shared<const CsrGraph>(start, std::move(finals), arcs, "fuzz graph");
}

std::unique_ptr<PhraseBoost> ReadBoost(Bytes* in) {
  std::vector<BoostPhrase> phrases(in->U8() & 7);
  for (BoostPhrase& phrase : phrases) {
    phrase.words.resize(1 + (in->U8() & 3));
    for (Label& word : phrase.words) word = Word(in->U16());
    phrase.weight = in->U8() / 16.0f - 4.0f;
  }
  return std::make_unique<PhraseBoost>(phrases);
}

std::shared_ptr<const ClassGraph> ReadClass(Bytes* in) {
  const std::shared_ptr<const CsrGraph> topology = ReadGraph(in, kMaxTopologyStates, true);
  std::vector<int32_t> contexts(in->U8());
  for (int32_t& context : contexts) context = in->U16();
  const uint16_t optional = in->U16();
  const ClassCompiler compiler(*topology, contexts, optional == 0xffff ? -1 : optional);
  std::vector<ClassWord> words(in->U8() & 7);
  for (ClassWord& word : words) {
    word.label = Word(in->U16());
    word.pronunciations.resize(1 + in->U8() % 3);
    for (std::vector<Label>& tokens : word.pronunciations) {
      tokens.resize(1 + (in->U8() & 7));
      for (Label& token : tokens) token = in->U8();
    }
  }
  std::vector<ClassEntry> entries(in->U8() & 7);
  for (ClassEntry& entry : entries) {
    entry.words.resize(1 + (in->U8() & 3));
    for (int32_t& word : entry.words) word = in->U8();
    entry.cost = Weight(in->U8());
  }
  return compiler.Compile(words, entries);
}

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "decode_fuzzer: broken invariant: %s\n", what);
    std::abort();
  }
}

bool SameHypothesis(const Hypothesis& a, const Hypothesis& b) {
  if (a.words.size() != b.words.size()) return false;
  for (size_t i = 0; i < a.words.size(); ++i)
    if (a.words[i].word != b.words[i].word || a.words[i].frame != b.words[i].frame) return false;
  return a.alignment == b.alignment && a.continues_token == b.continues_token &&
         std::memcmp(&a.total_cost, &b.total_cost, sizeof(double)) == 0 &&
         std::memcmp(&a.acoustic_cost, &b.acoustic_cost, sizeof(double)) == 0;
}

void CheckResult(const DecodeResult& result, const DecoderOptions& options, int64_t num_frames,
                 int64_t num_columns) {
  Require(result.num_frames == num_frames, "num_frames is T");
  Require(result.hypotheses.size() <= static_cast<size_t>(options.nbest), "at most nbest paths");
  for (const Hypothesis& h : result.hypotheses) {
    Require(static_cast<int64_t>(h.alignment.size()) == num_frames, "one label per frame");
    Require(h.continues_token.size() == h.alignment.size(), "one continuation flag per frame");
    for (Label label : h.alignment) Require(label >= 1 && label <= num_columns, "frame labels");
    int32_t previous_frame = 0;
    for (const DecodedWord& word : h.words) {
      Require(word.word > 0, "word labels are > 0");
      Require(word.frame >= previous_frame && word.frame <= num_frames, "word frames");
      previous_frame = word.frame;
    }
    Require(!std::isnan(h.total_cost) && !std::isnan(h.acoustic_cost), "costs are numbers");
  }
}

void Run(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const uint8_t flags = in.U8();
  const size_t byte_offset = in.U8() & 3;
  DecoderOptions options;
  options.nbest = 1 + in.U8() % 8;
  options.max_active = 1 + in.U8();
  options.min_active = in.U8() % (options.max_active + 1);
  options.beam = 0.25f + in.U8() / 8.0f;
  options.lattice_beam = 0.25f + in.U8() / 16.0f;
  options.beam_delta = in.U8() / 32.0f;
  options.boost_nodes_per_state = 1 + in.U8() % 8;
  const float acoustic_scale = (1 + in.U8()) / 32.0f;

  const std::shared_ptr<const CsrGraph> graph = ReadGraph(&in, kMaxStates, false);

  // Bounded so that an input decodes in milliseconds under the sanitizers.
  const int64_t num_frames = 1 + in.U8() % 128, num_columns = 1 + in.U8() % 64;
  const bool column_major = flags & 4;
  // The matrix starts byte_offset bytes into its buffer: numpy views need not be aligned.
  std::vector<uint8_t> buffer(byte_offset + sizeof(float) * num_frames * num_columns);
  for (int64_t t = 0; t < num_frames; ++t) {
    for (int64_t j = 0; j < num_columns; ++j) {
      const float value = Score(in.U8());
      const int64_t index = column_major ? j * num_frames + t : t * num_columns + j;
      std::memcpy(buffer.data() + byte_offset + sizeof(float) * index, &value, sizeof(float));
    }
  }
  ScoreMatrix matrix;
  matrix.data = reinterpret_cast<const float*>(buffer.data() + byte_offset);
  matrix.num_frames = num_frames;
  matrix.num_columns = num_columns;
  matrix.frame_stride = column_major ? 1 : num_columns;
  matrix.column_stride = column_major ? num_frames : 1;
  std::vector<float> priors;
  ScoreTransform transform;
  transform.log_softmax = flags & 1;
  transform.acoustic_scale = acoustic_scale;
  if (flags & 2) {
    for (int64_t j = 0; j < num_columns; ++j) priors.push_back(Score(in.U8()));
    transform.log_priors = priors.data();
  }

  const std::unique_ptr<PhraseBoost> boost = (flags & 8) ? ReadBoost(&in) : nullptr;
  ClassGraphs classes;
  if (flags & 16) classes.push_back(ReadClass(&in));
  const uint8_t lm_weight = in.U8(), penalty = in.U8();
  if (lm_weight != 0) options.lm_weight = lm_weight / 32.0f;
  if (penalty != 0) options.word_insertion_penalty = (penalty - 128) / 16.0f;

  options.Check();
  const FrameScores scores(matrix, transform, "fuzz scores");
  BeamSearch search(graph, options);
  const DecodeResult first = search.Decode(scores, boost.get(), classes.empty() ? nullptr : &classes);
  CheckResult(first, options, num_frames, num_columns);
  if (!(flags & 32)) return;
  // The same search object again: nothing of the first utterance may leak into the second.
  const DecodeResult second = search.Decode(scores, boost.get(), classes.empty() ? nullptr : &classes);
  Require(first.hypotheses.size() == second.hypotheses.size() &&
              first.reached_final == second.reached_final,
          "a second decode finds as many paths");
  for (size_t i = 0; i < first.hypotheses.size(); ++i)
    Require(SameHypothesis(first.hypotheses[i], second.hypotheses[i]),
            "a second decode finds the same paths");
}

}  // namespace
}  // namespace pywfst

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    pywfst::Run(data, size);
  } catch (const pywfst::InputError&) {
  }
  return 0;
}
