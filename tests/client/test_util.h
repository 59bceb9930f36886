// Helpers shared by the client tests.
#ifndef INDELIBLE_TESTS_CLIENT_TEST_UTIL_H_
#define INDELIBLE_TESTS_CLIENT_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "indelible/v1/indelible.pb.h"

namespace indelible::testing {

inline v1::Event MakeEvent(const std::string& tenant, const std::string& id,
                           const std::string& action = "customer.read") {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id("alice");
  e.set_action(action);
  return e;
}

// Collects the answers of BatchingAppender callbacks and lets a test wait for
// them with a bound instead of sleeping.
class Answers {
 public:
  // A callback that stores its answer at `index`.
  std::function<void(absl::StatusOr<v1::Receipt>)> At(size_t index) {
    return [this, index](absl::StatusOr<v1::Receipt> r) {
      std::lock_guard<std::mutex> l(mu_);
      if (results_.size() <= index) results_.resize(index + 1, Unset());
      results_[index] = std::move(r);
      ++count_;
      cv_.notify_all();
    };
  }

  // True once `n` answers have arrived (within 10 s).
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10),
                        [&] { return count_ >= n; });
  }

  size_t count() {
    std::lock_guard<std::mutex> l(mu_);
    return count_;
  }

  absl::StatusOr<v1::Receipt> Get(size_t index) {
    std::lock_guard<std::mutex> l(mu_);
    return index < results_.size() ? results_[index] : Unset();
  }

 private:
  static absl::StatusOr<v1::Receipt> Unset() {
    return absl::UnknownError("no answer");
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<absl::StatusOr<v1::Receipt>> results_;
  size_t count_ = 0;
};

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_CLIENT_TEST_UTIL_H_
