#pragma once
// The decision noise's normal deviate without building Boost's distribution per draw:
// Boost's ziggurat (boost/random/normal_distribution.hpp, unit_normal_distribution) on a
// 64-bit generator takes its first draw u as an 8-bit box index (u & 0xff: the sign and
// box i) and a mantissa r = ((u with bit 11 cleared) >> 8) / 2^56, and accepts
// x = r * table_x[i] at once when x < table_x[i + 1] (about 99% of draws). That first try is
// repeated here from the first block of the agent's generator; when it is not accepted the
// caller draws with Boost itself from the same coordinate, which redoes the first try and
// goes on. The unit test compares both over millions of coordinates.
#include <boost/random/normal_distribution.hpp>
#include <cstdint>

#include "rng.hpp"

namespace bankrun {

// The generator's first 64-bit draw: words 2 and 3 of its first block (rng.hpp).
constexpr std::uint64_t first_draw(const Philox4x32::Counter& block) {
  return (std::uint64_t{block[2]} << 32) | block[3];
}

// Boost's normal_distribution<double>(0, sd) on the generator whose first draw is u, if its
// first try is accepted: returns true and sets `value`; false: draw with Boost.
inline bool normal_first_try(std::uint64_t u, double sd, double& value) {
  const double* const table_x = boost::random::detail::normal_table<double>::table_x;
  int i = static_cast<int>(u & 0xff);
  const int sign = (i & 1) * 2 - 1;
  i >>= 1;
  const double r = static_cast<double>((u & ~(std::uint64_t{1} << 11)) >> 8) * 0x1.0p-56;
  const double x = r * table_x[i];
  if (!(x < table_x[i + 1])) return false;
  value = x * sign * sd + 0.0;  // normal_distribution: unit * sigma + mean
  return true;
}

}  // namespace bankrun
