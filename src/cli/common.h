// What the subcommands share: opening a model with the run options, writing JSON output.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "cli/args.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "model/repack_weights.h"
#include "engine/batch_runner.h"
#include "engine/expert_cache.h"
#include "engine/placement.h"
#include "engine/generator.h"
#include "engine/loaded_model.h"
#include "engine/session.h"

namespace moeinfer {

struct Runtime {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;  // the model's vocabulary (engine/loaded_model.h); nullptr when none
  std::unique_ptr<Kernels> kernels;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ExpertCache> experts;  // routed experts of a model larger than the budget; else nullptr
  double load_seconds = 0.0;
  RepackReport repack;
  Placement placement;

  std::unique_ptr<Session> new_session(const Args& a, int64_t max_batch = 256, int64_t spare_slots = 0) const;
  // A runner for up to max_seqs sequences together (--ctx, --mla from the options).
  std::unique_ptr<BatchRunner> new_runner(const Args& a, int64_t max_batch, int64_t max_seqs) const;
};

// The shipped model (models/stories260K.gguf), searched next to the executable, then in the
// source tree it was built from. Throws Error when not found.
std::string default_model_path();

// Loads -m (or the shipped model when allow_default), selects kernels (--isa / MOEINFER_ISA),
// starts the thread pool (-t) and places the weights under the memory budget (--mem-budget,
// --expert-slots, --expert-policy, --prefetch). kv_positions: the positions the run's KV store
// is expected to reach (all sequences), for the budget; 0 = kv_sequences x (--ctx, else up to 4096).
Runtime open_runtime(const Args& a, bool allow_default, bool load_mtp = false, int64_t kv_positions = 0,
                     int64_t kv_sequences = 1);

// --mla absorbed|naive (default absorbed); throws UsageError on other values.
bool session_mla_absorbed(const Args& a);

// The prompt ids from --tokens (fed exactly) or --text (tokenized, BOS as the tokenizer says).
std::vector<int32_t> prompt_ids(const Args& a, const Model& m, const Tokenizer* tok);

// Writes json + "\n" to -o FILE, or to stdout. Throws Error when the file cannot be written.
void write_json_output(const Args& a, const std::string& json);

// Writes bytes to stdout immediately (streaming text); errors (a closed pipe) are ignored.
void stream_out(const std::string& s);

double now_seconds();

// Steps gen until every request has finished, or until Ctrl-C (SIGINT, caught only meanwhile),
// which cancels every request; returns true when interrupted.
bool run_until_interrupted(Generator& gen);

// A whole text file (throws Error naming it), and all of standard input.
std::string read_text_file(const std::string& path);
std::string read_stdin_text();

// The text the generated ids add after the prompt: their pieces in order, as `run` streams them
// and `serve` answers (a SentencePiece word piece keeps its leading space, where a decode of the
// ids alone would drop it). Special tokens appear as their text.
std::string continuation_text(const Tokenizer& tok, const std::vector<int32_t>& ids);

}  // namespace moeinfer
