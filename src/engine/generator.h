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
// Requests can be added between steps (a server adds them as they arrive), cancelled (the
// sequence frees its blocks at the next step) and forgotten once read, so a long-running loop
// holds only what is live.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch_runner.h"
#include "engine/prefix_cache.h"
#include "engine/sampler.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

enum class FinishReason { kNone, kLength, kStop, kContext, kError, kCancelled };
const char* finish_reason_name(FinishReason r);

struct GenResult {
  std::vector<int32_t> generated;
  std::vector<float> step_logits;  // [generated][n_vocab] when requested
  std::string text;                // the emitted text (with a tokenizer): before any stop string
  FinishReason finish = FinishReason::kNone;
  std::string error;               // when finish == kError
  double prefill_end = 0.0;        // seconds (steady clock) when the first token was sampled
  int64_t cached_tokens = 0;       // prompt positions taken from the prefix cache
};

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
  // Each sampled token that is not an end-of-generation id, with the logits row it came from
  // (valid during the call only), before its text is streamed.
  std::function<void(int32_t token, const float* logits)> on_token;
  // Called once, when the request finishes (any reason), after its last text.
  std::function<void(const GenResult& result)> on_finish;
};


struct GeneratorOptions {
  int64_t max_parallel = 4;             // sequences live at once
  const Tokenizer* tokenizer = nullptr; // token pieces for text and stop strings (none: ids only)
  int64_t prefix_cache_blocks = 0;      // KV blocks of earlier prompts kept for reuse (0: off; engine/prefix_cache.h)
};

class Generator {
 public:
  Generator(BatchRunner& runner, const GeneratorOptions& o);
  ~Generator();

  // Queues a request; returns its id (0, 1, 2, ... in the order added).
  int64_t add(GenRequest r);
  // Runs one batch. Returns false when every request has finished.
  bool step();
  // Steps until every request has finished.
  void run();
  // Ends a request (waiting or live) with FinishReason::kCancelled; its sequence's blocks are
  // freed at once. No-op for an unknown or finished id.
  void cancel(int64_t id);
  // Drops a finished request's result (and its request). Throws for an unfinished one.
  void forget(int64_t id);
  const GenResult& result(int64_t id) const;
  int64_t size() const { return next_id_; }
  int64_t forwards() const { return forwards_; }
  int64_t live() const { return static_cast<int64_t>(live_.size()); }
  int64_t waiting() const { return static_cast<int64_t>(queue_.size()); }
  const PrefixCache& prefix_cache() const { return *cache_; }

 private:
  struct Live;
  void admit();
  void finish(Live& l, FinishReason why, const std::string& error = "");
  void emit(Live& l, const std::string& text);
  // After a forward pass: sample from `logits` for the sequence; decides whether it goes on.
  void on_logits(Live& l, const float* logits);

  struct Entry {
    GenRequest request;
    GenResult result;
  };
  Entry& entry(int64_t id);
  void drop_done();

  BatchRunner& runner_;
  GeneratorOptions o_;
  std::map<int64_t, Entry> entries_;  // requests not forgotten
  std::deque<int64_t> queue_;         // waiting, in order
  std::vector<std::unique_ptr<Live>> live_;
  std::unique_ptr<PrefixCache> cache_;
  int64_t next_id_ = 0;
  Batch batch_;
  std::vector<Live*> row_owner_;  // per logits row of the current batch
  int64_t forwards_ = 0;
};

}  // namespace moeinfer
