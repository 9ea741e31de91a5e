#pragma once
// Wall-clock helpers shared by the run pipeline, the CLI and the sweep code.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace bankrun {

inline std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2022-11-06T00:00:00Z".
inline std::string utc_iso(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string utc_now() {
  return utc_iso(now_unix());
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bankrun
