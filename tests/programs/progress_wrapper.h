// A lock and condition wrapper of the kind real code bases keep in a
// header (one-line methods over the standard library, inlined into every
// caller), for tests/programs/progress_program.cc: a verdict must point at
// the caller's line, not at the wrapper's.
#pragma once

#include <condition_variable>
#include <mutex>

namespace progress {

class Mutex {
 public:
  void Lock() { mu_.lock(); }
  void Unlock() { mu_.unlock(); }
  std::mutex* native() { return &mu_; }

 private:
  std::mutex mu_;
};

class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  // The caller holds mu.
  void Wait() {
    std::unique_lock<std::mutex> lock(*mu_->native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  void Signal() { cv_.notify_one(); }

 private:
  Mutex* mu_;
  std::condition_variable cv_;
};

}  // namespace progress
