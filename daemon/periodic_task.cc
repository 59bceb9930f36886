#include "daemon/periodic_task.h"

#include <utility>

namespace indelible {

PeriodicTask::PeriodicTask(Options options, std::function<void()> run)
    : options_(std::move(options)), run_(std::move(run)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
    stopping_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return false;
  thread_.join();
  return true;
}

void PeriodicTask::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  if (options_.run_at_start) {
    l.unlock();
    run_();
    l.lock();
  }
  while (!stopping_) {
    cv_.wait_for(l, options_.interval, [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) break;
    l.unlock();
    run_();
    l.lock();
  }
  // Started after Stop was called, even when Stop came during a run.
  if (options_.run_at_stop) {
    l.unlock();
    run_();
  }
}

}  // namespace indelible
