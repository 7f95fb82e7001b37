#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include "base/error.h"
#include "engine/text_stream.h"

namespace moeinfer {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "length";
    case FinishReason::kStop: return "stop";
    case FinishReason::kContext: return "context";
    case FinishReason::kError: return "error";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kNone: break;
  }
  return "none";
}

namespace {
double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct Generator::Live {
  Live(int64_t i, int32_t s, const GenRequest& r)
      : index(i), seq(s), history(r.prompt), sampler(r.sampling), text(r.stop) {}
  int64_t index;                 // request / result index
  int32_t seq;                   // KV store sequence
  int64_t fed = 0;               // prompt tokens fed so far
  std::vector<int32_t> history;  // prompt + generated (repetition penalty)
  Sampler sampler;
  int32_t next = -1;             // sampled, not yet fed
  bool done = false;
  TextStream text;               // pieces -> whole characters, stop strings held back
};

Generator::Generator(BatchRunner& runner, const GeneratorOptions& o)
    : runner_(runner), o_(o), cache_(std::make_unique<PrefixCache>(runner.kv(), o.prefix_cache_blocks)) {
  o_.max_parallel = std::max<int64_t>(1, o_.max_parallel);
}

Generator::~Generator() {
  for (auto& l : live_) runner_.kv().remove_sequence(l->seq);
  cache_->clear();
}

Generator::Entry& Generator::entry(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) throw Error("", "generator", "no request " + std::to_string(id));
  return it->second;
}

const GenResult& Generator::result(int64_t id) const {
  auto it = entries_.find(id);
  if (it == entries_.end()) throw Error("", "generator", "no request " + std::to_string(id));
  return it->second.result;
}

int64_t Generator::add(GenRequest r) {
  const int64_t nv = runner_.n_vocab();
  if (r.prompt.empty()) throw Error("", "prompt", "expected at least one token");
  for (int32_t t : r.prompt)
    if (t < 0 || t >= nv)
      throw Error(runner_.model().path(), "tokens",
                  "token id " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(nv) + ")");
  if (static_cast<int64_t>(r.prompt.size()) > runner_.context())
    throw Error(runner_.model().path(), "context",
                std::to_string(r.prompt.size()) + " prompt tokens exceed the context length " +
                    std::to_string(runner_.context()) + " (raise it with --ctx)");
  std::sort(r.eog.begin(), r.eog.end());
  const int64_t id = next_id_++;
  entries_[id].request = std::move(r);
  queue_.push_back(id);
  return id;
}

void Generator::admit() {
  while (static_cast<int64_t>(live_.size()) < o_.max_parallel && !queue_.empty()) {
    const int64_t id = queue_.front();
    queue_.pop_front();
    Entry& e = entry(id);
    if (e.request.n_predict <= 0) {
      e.result.finish = FinishReason::kLength;
      if (e.request.on_finish) e.request.on_finish(e.result);
      continue;
    }
    auto [seq, cached] = cache_->start(e.request.prompt);
    live_.push_back(std::make_unique<Live>(id, seq >= 0 ? seq : runner_.kv().add_sequence(), e.request));
    live_.back()->fed = cached;
    e.result.cached_tokens = cached;
  }
}

void Generator::emit(Live& l, const std::string& text) {
  if (text.empty()) return;
  Entry& e = entry(l.index);
  e.result.text += text;
  if (e.request.on_text) e.request.on_text(text);
}

void Generator::finish(Live& l, FinishReason why, const std::string& error) {
  Entry& e = entry(l.index);
  e.result.finish = why;
  e.result.error = error;
  l.done = true;
  if (o_.tokenizer && why != FinishReason::kCancelled) emit(l, l.text.flush());  // "" after a stop string
  if (e.request.on_finish) e.request.on_finish(e.result);
}

void Generator::cancel(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.result.finish != FinishReason::kNone) return;
  for (auto q = queue_.begin(); q != queue_.end(); ++q)
    if (*q == id) {
      queue_.erase(q);
      it->second.result.finish = FinishReason::kCancelled;
      if (it->second.request.on_finish) it->second.request.on_finish(it->second.result);
      return;
    }
  for (auto& l : live_)
    if (l->index == id && !l->done) finish(*l, FinishReason::kCancelled);
  drop_done();
}

void Generator::forget(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.result.finish == FinishReason::kNone)
    throw Error("", "generator", "request " + std::to_string(id) + " has not finished");
  entries_.erase(it);
}

void Generator::drop_done() {
  for (size_t i = 0; i < live_.size();) {
    if (live_[i]->done) {
      runner_.kv().remove_sequence(live_[i]->seq);
      live_.erase(live_.begin() + static_cast<int64_t>(i));
    } else {
      ++i;
    }
  }
}

void Generator::on_logits(Live& l, const float* logits) {
  Entry& e = entry(l.index);
  const GenRequest& q = e.request;
  GenResult& r = e.result;
  const int64_t nv = runner_.n_vocab();
  if (q.step_logits) r.step_logits.insert(r.step_logits.end(), logits, logits + nv);
  const int32_t tok = l.sampler.sample(logits, nv, l.history);
  r.generated.push_back(tok);
  l.history.push_back(tok);
  if (r.generated.size() == 1) r.prefill_end = now();
  const bool eog = q.stop_at_eog && std::binary_search(q.eog.begin(), q.eog.end(), tok);
  bool stopped = false;
  if (!eog && q.on_token) q.on_token(tok, logits);
  if (!eog && o_.tokenizer) emit(l, l.text.push(o_.tokenizer->token_to_piece(tok), &stopped));
  if (eog || stopped) finish(l, FinishReason::kStop);
  else if (static_cast<int64_t>(r.generated.size()) >= q.n_predict) finish(l, FinishReason::kLength);
  else if (runner_.kv().length(l.seq) >= runner_.context()) finish(l, FinishReason::kContext);
  else l.next = tok;
}

bool Generator::step() {
  admit();
  if (live_.empty()) return false;
  batch_.clear();
  row_owner_.clear();
  int64_t budget = runner_.max_batch();
  // Decode rows first (one per generating sequence), then prompt chunks in admission order.
  for (auto& l : live_) {
    if (budget == 0) break;
    if (l->next < 0) continue;
    batch_.add(l->next, runner_.kv().length(l->seq), l->seq, true);
    row_owner_.push_back(l.get());
    --budget;
  }
  std::vector<std::pair<Live*, int64_t>> chunks;  // (sequence, prompt tokens in this batch)
  for (auto& l : live_) {
    const std::vector<int32_t>& prompt = entry(l->index).request.prompt;
    const int64_t left = static_cast<int64_t>(prompt.size()) - l->fed;
    if (budget == 0) break;
    if (left <= 0) continue;
    const int64_t take = std::min(budget, left);
    for (int64_t i = 0; i < take; ++i) {
      const bool last = i + 1 == take && take == left;
      batch_.add(prompt[static_cast<size_t>(l->fed + i)], l->fed + i, l->seq, last);
      if (last) row_owner_.push_back(l.get());
    }
    chunks.emplace_back(l.get(), take);
    budget -= take;
  }
  const float* logits = nullptr;
  bool ran = false;
  for (;;) {
    try {
      logits = runner_.run(batch_);
      ran = true;
    } catch (const KvFullError& e) {
      if (cache_->evict_one()) continue;  // cached prefixes give way to live sequences
      // that sequence ends with the error; the others go on
      for (auto& l : live_)
        if (l->seq == e.seq) finish(*l, FinishReason::kError, e.what());
    }
    break;
  }
  if (ran) {
    ++forwards_;
    for (auto& [l, take] : chunks) {
      l->fed += take;
      const std::vector<int32_t>& prompt = entry(l->index).request.prompt;
      if (l->fed == static_cast<int64_t>(prompt.size())) cache_->insert(l->seq, prompt);
    }
    for (Live* l : row_owner_) l->next = -1;
    // row_owner_ follows the batch's logits rows in order: decode rows, then prompt ends
    for (size_t i = 0; i < row_owner_.size(); ++i)
      on_logits(*row_owner_[i], logits + static_cast<int64_t>(i) * runner_.n_vocab());
  }
  drop_done();
  admit();
  return !live_.empty();
}

void Generator::run() {
  while (step()) {
  }
}

}  // namespace moeinfer
