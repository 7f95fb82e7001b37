// The one generation loop: prompts in, tokens and text out, for any number of sequences at once.
// `run`, `generate` (one prompt or --jsonl) and later the server use it.
//
// Each request is a sequence of the BatchRunner's KV store. Every step builds one batch: a decode
// row for each sequence that is generating, then prefill chunks of sequences still reading their
// prompt, up to the runner's batch size; at most `max_parallel` sequences are live at once and the
// rest wait in order. After each forward pass every sequence whose logits came back samples its
// next token (its own Sampler: the same seed gives the same text as a run of that prompt alone)
// and checks its stop conditions, in this order:
//   - the token limit (n_predict tokens generated),
//   - an end-of-generation id (request.eog, when stop_at_eog) — the id is kept in `generated`
//     but not streamed,
//   - a stop string (request.stop) completed in the text, matched across token boundaries; it
//     and anything after it are never emitted,
//   - the context end (the sequence's next position would reach the runner's context).
// Text is streamed through a TextStream (engine/text_stream.h): pieces never split a UTF-8
// character, and text that may still become a stop string is held back until it cannot.
// A sequence that cannot get KV blocks finishes with an error; the others go on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch_runner.h"
#include "engine/sampler.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

enum class FinishReason { kNone, kLength, kStop, kContext, kError };
const char* finish_reason_name(FinishReason r);

struct GenRequest {
  std::vector<int32_t> prompt;   // fed exactly as given
  int64_t n_predict = 16;        // most tokens to generate
  SamplerOptions sampling;
  bool stop_at_eog = false;
  std::vector<int32_t> eog;      // ids that end generation when stop_at_eog
  std::vector<std::string> stop;  // stop strings (need GeneratorOptions::tokenizer)
  bool step_logits = false;      // keep the logits row that chose each token
  // Streams generated text as it becomes final (needs GeneratorOptions::tokenizer).
  std::function<void(const std::string& text)> on_text;
};

struct GenResult {
  std::vector<int32_t> generated;
  std::vector<float> step_logits;  // [generated][n_vocab] when requested
  std::string text;                // the emitted text (with a tokenizer): before any stop string
  FinishReason finish = FinishReason::kNone;
  std::string error;               // when finish == kError
  double prefill_end = 0.0;        // seconds (steady clock) when the first token was sampled
};

struct GeneratorOptions {
  int64_t max_parallel = 4;             // sequences live at once
  const Tokenizer* tokenizer = nullptr; // token pieces for text and stop strings (none: ids only)
};

class Generator {
 public:
  Generator(BatchRunner& runner, const GeneratorOptions& o);
  ~Generator();

  // Queues a request; returns its index (results are kept in this order).
  int64_t add(GenRequest r);
  // Runs one batch. Returns false when every request has finished.
  bool step();
  // Steps until every request has finished.
  void run();
  const GenResult& result(int64_t i) const { return results_.at(static_cast<size_t>(i)); }
  int64_t size() const { return static_cast<int64_t>(results_.size()); }
  int64_t forwards() const { return forwards_; }

 private:
  struct Live;
  void admit();
  void finish(Live& l, FinishReason why, const std::string& error = "");
  void emit(Live& l, const std::string& text);
  // After a forward pass: sample from `logits` for the sequence; decides whether it goes on.
  void on_logits(Live& l, const float* logits);

  BatchRunner& runner_;
  GeneratorOptions o_;
  std::vector<GenRequest> requests_;
  std::vector<GenResult> results_;
  std::vector<std::unique_ptr<Live>> live_;
  size_t next_ = 0;  // next request to admit
  Batch batch_;
  std::vector<Live*> row_owner_;  // per logits row of the current batch
  int64_t forwards_ = 0;
};

}  // namespace moeinfer
