#include "server/engine_loop.h"

#include <chrono>
#include <cstdio>

#include "base/error.h"

namespace moeinfer {

namespace {
double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void JobChannel::push(StreamEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool JobChannel::wait(std::vector<StreamEvent>* out, double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return !events_.empty(); });
  if (events_.empty()) return false;
  while (!events_.empty()) {
    out->push_back(std::move(events_.front()));
    events_.pop_front();
  }
  return true;
}

EngineLoop::EngineLoop(BatchRunner& runner, const Tokenizer* tokenizer, const Options& o, ServerMetrics* metrics)
    : runner_(runner),
      tok_(tokenizer),
      o_(o),
      metrics_(metrics),
      gen_(runner, GeneratorOptions{o.max_parallel, tokenizer, o.prefix_cache_blocks}) {
  thread_ = std::thread([this] { loop(); });
}

EngineLoop::~EngineLoop() { shutdown(); }

std::shared_ptr<JobChannel> EngineLoop::submit(ServeJob job) {
  auto ch = std::make_shared<JobChannel>();
  {
    // under the lock, so that a job is either refused or seen by the loop before it exits
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return nullptr;
    if (in_system_.fetch_add(1) >= o_.max_parallel + o_.max_queue) {
      in_system_.fetch_sub(1);
      return nullptr;
    }
    incoming_.push_back(Incoming{std::move(job), ch, now()});
  }
  cv_.notify_all();
  return ch;
}

void EngineLoop::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EngineLoop::start_job(ServeJob job, std::shared_ptr<JobChannel> ch, double arrival) {
  GenRequest r = std::move(job.request);
  const int64_t n_prompt = static_cast<int64_t>(r.prompt.size());
  // id is known after add(); the callbacks find their job through this shared slot
  auto id_slot = std::make_shared<int64_t>(-1);
  auto pending = std::make_shared<StreamEvent>();  // logprobs wait for their text
  const bool want_lp = job.logprobs;
  const int top = job.top_logprobs;
  const int64_t nv = runner_.n_vocab();
  const bool has_text = tok_ != nullptr;
  r.on_token = [this, want_lp, top, nv, pending, id_slot, ch, has_text](int32_t token, const float* logits) {
    Running& run = running_[*id_slot];
    if (run.first_token == 0) {
      run.first_token = now();
      metrics_->ttft.observe(run.first_token - run.arrival);
    }
    metrics_->generated_tokens.fetch_add(1);
    if (want_lp) pending->logprobs.push_back(token_logprob(logits, nv, token, top));
    pending->tokens.push_back(token);
    if (!has_text) {  // no text to wait for: each token is an event
      ch->push(std::move(*pending));
      *pending = StreamEvent();
    }
  };
  r.on_text = [ch, pending](const std::string& text) {
    StreamEvent e = std::move(*pending);
    *pending = StreamEvent();
    e.text = text;
    ch->push(std::move(e));
  };
  r.on_finish = [this, ch, pending, id_slot, n_prompt](const GenResult& res) {
    Running& run = running_[*id_slot];
    StreamEvent e = std::move(*pending);
    e.done = true;
    e.finish = run.timed_out ? FinishReason::kLength : res.finish;
    e.error = res.error;
    e.prompt_tokens = n_prompt;
    const int64_t n = static_cast<int64_t>(res.generated.size());
    e.completion_tokens = n;
    e.cached_tokens = res.cached_tokens;
    if (run.first_token > 0 && n > 1) metrics_->tpot.observe((now() - run.first_token) / static_cast<double>(n - 1));
    ch->push(std::move(e));
    finished_.push_back(*id_slot);
  };
  metrics_->prompt_tokens.fetch_add(static_cast<uint64_t>(n_prompt));
  int64_t id = -1;
  try {
    id = gen_.add(std::move(r));
  } catch (const std::exception& ex) {
    StreamEvent e;
    e.done = true;
    e.finish = FinishReason::kError;
    e.error = ex.what();
    ch->push(std::move(e));
    in_system_.fetch_sub(1);
    return;
  }
  *id_slot = id;
  Running& run = running_[id];
  run.channel = ch;
  run.arrival = arrival;
  run.deadline = job.timeout_s > 0 ? arrival + job.timeout_s : 0;
}

void EngineLoop::loop() {
  for (;;) {
    std::deque<Incoming> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !incoming_.empty() || !running_.empty(); });
      batch.swap(incoming_);
    }
    for (Incoming& in : batch) start_job(std::move(in.job), std::move(in.channel), in.arrival);
    if (stop_) {
      std::vector<int64_t> ids;
      for (auto& [id, run] : running_) ids.push_back(id);
      for (int64_t id : ids) gen_.cancel(id);
    } else {
      const double t = now();
      std::vector<int64_t> ids;
      for (auto& [id, run] : running_)
        if (run.channel->cancelled() || (run.deadline > 0 && t > run.deadline)) {
          run.timed_out = !run.channel->cancelled();
          ids.push_back(id);
        }
      for (int64_t id : ids) gen_.cancel(id);
      try {
        gen_.step();
      } catch (const std::exception& ex) {
        // a failed forward pass ends every job in it; the server goes on
        std::fprintf(stderr, "moeinfer: serve: %s\n", ex.what());
        std::vector<int64_t> all;
        for (auto& [id, run] : running_) all.push_back(id);
        for (int64_t id : all) {
          StreamEvent e;
          e.done = true;
          e.finish = FinishReason::kError;
          e.error = ex.what();
          running_[id].channel->push(std::move(e));
          gen_.cancel(id);
        }
      }
    }
    for (int64_t id : finished_) {
      if (running_.erase(id)) in_system_.fetch_sub(1);
      gen_.forget(id);
    }
    finished_.clear();
    metrics_->active.store(gen_.live());
    metrics_->prefix_cache_hits.store(gen_.prefix_cache().hits());
    metrics_->prefix_cache_tokens.store(gen_.prefix_cache().tokens_reused());
    {
      std::lock_guard<std::mutex> lock(mu_);
      metrics_->queued.store(gen_.waiting() + static_cast<int64_t>(incoming_.size()));
    }
    const KvStore& kv = runner_.kv();
    const int64_t used = static_cast<int64_t>(kv.bytes_in_use() / std::max<uint64_t>(1, kv.block_bytes()));
    metrics_->kv_blocks_used.store(used);
    metrics_->kv_blocks_free.store(kv.max_blocks() == INT64_MAX ? -1 : kv.max_blocks() - used);
    if (stop_ && running_.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (Incoming& in : incoming_) {
        StreamEvent e;
        e.done = true;
        e.finish = FinishReason::kCancelled;
        in.channel->push(std::move(e));
      }
      incoming_.clear();
      return;
    }
  }
}

}  // namespace moeinfer
