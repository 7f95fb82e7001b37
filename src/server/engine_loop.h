// The server's scheduler: one thread owns the Generator (engine/generator.h) and runs continuous
// batching over it. HTTP threads submit jobs and read each job's events from its channel; a new
// job joins the batch at the next step (prompts are prefilled in chunks next to running decodes,
// each job keeps its own sampler and seed), a cancelled job (client gone, time limit, shutdown)
// ends at the next step and frees its KV blocks.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/batch_runner.h"
#include "engine/generator.h"
#include "server/logprobs.h"
#include "server/metrics.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

struct StreamEvent {
  std::string text;                    // newly final text (may be empty)
  std::vector<TokenLogprob> logprobs;  // for the tokens behind it, when asked
  std::vector<int32_t> tokens;         // the token ids behind it
  bool done = false;
  FinishReason finish = FinishReason::kNone;  // when done
  int64_t prompt_tokens = 0, completion_tokens = 0;  // when done
  int64_t cached_tokens = 0;           // when done: prompt tokens taken from the prefix cache
  std::string error;                   // when done with an error
};

// One job's events, from the engine thread to the HTTP thread that waits for them.
class JobChannel {
 public:
  void push(StreamEvent e);
  // Waits up to timeout_s for events and moves them all to out; false when none came.
  bool wait(std::vector<StreamEvent>* out, double timeout_s);
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;
  std::atomic<bool> cancelled_{false};
};

struct ServeJob {
  GenRequest request;    // prompt, n_predict, sampling, stops (callbacks are set by the loop)
  bool logprobs = false;
  int top_logprobs = 0;
  double timeout_s = 0;  // 0: none; past it the job ends with finish "length"
};

class EngineLoop {
 public:
  struct Options {
    int64_t max_parallel = 4;  // sequences decoding at once
    int64_t max_queue = 64;    // jobs waiting beyond those
    int64_t prefix_cache_blocks = 0;  // KV blocks of earlier prompts kept for reuse
  };
  EngineLoop(BatchRunner& runner, const Tokenizer* tokenizer, const Options& o, ServerMetrics* metrics);
  ~EngineLoop();

  // Queues a job; nullptr when max_parallel + max_queue jobs are already in the system.
  std::shared_ptr<JobChannel> submit(ServeJob job);
  // Ends every job (their channels get a done event with FinishReason::kCancelled) and stops the
  // thread. Submissions after it are refused.
  void shutdown();
  bool stopping() const { return stop_; }

 private:
  struct Running {
    std::shared_ptr<JobChannel> channel;
    double arrival = 0, first_token = 0, deadline = 0;
    bool timed_out = false;
  };
  void loop();
  void start_job(ServeJob job, std::shared_ptr<JobChannel> ch, double arrival);

  BatchRunner& runner_;
  const Tokenizer* tok_;
  Options o_;
  ServerMetrics* metrics_;
  Generator gen_;
  std::mutex mu_;
  std::condition_variable cv_;
  struct Incoming {
    ServeJob job;
    std::shared_ptr<JobChannel> channel;
    double arrival;
  };
  std::deque<Incoming> incoming_;
  std::atomic<int64_t> in_system_{0};
  std::atomic<bool> stop_{false};
  std::map<int64_t, Running> running_;  // engine thread only
  std::vector<int64_t> finished_;       // engine thread only
  std::thread thread_;
};

}  // namespace moeinfer
