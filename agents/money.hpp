#pragma once
// Money is held as integer base units (US cents) so every ledger identity holds exactly.
#include <cmath>
#include <cstdint>

namespace bankrun {

using Money = std::int64_t;
inline constexpr Money kCentsPerUsd = 100;

inline Money usd_to_cents(double usd) {
  return static_cast<Money>(std::llround(usd * kCentsPerUsd));
}
inline double cents_to_usd(Money cents) {
  return static_cast<double>(cents) / kCentsPerUsd;
}

}  // namespace bankrun
