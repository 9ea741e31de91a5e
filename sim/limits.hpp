#pragma once
// The engine's fixed limits, in one place (the loader checks scenarios against them).
#include <cstddef>
#include <cstdint>
#include <limits>

namespace bankrun {

// Ticks are int32: kForever means "never" (a policy that has not fired, an event without
// end), so the last tick a scenario may name is one before it.
inline constexpr std::int32_t kForever = std::numeric_limits<std::int32_t>::max();
inline constexpr std::int32_t kLastTick = kForever - 1;

// 100 trillion USD, the largest amount a scenario may give: keeps amounts in cents, even
// the deposits times the three reserve fractions (each <= 100: at most 3e18 cents
// together), in int64.
inline constexpr double kMaxUsd = 1.0e14;

// At most 254 institutions: an agent's account and destination are 8-bit indices, and 255
// is the self-custody destination (kSelfCustody in agents/population.hpp).
inline constexpr std::size_t kMaxInstitutions = 254;

// Claim currencies, USD included: a request is split into at most this many parts
// (on-stack arrays in the submit phase), and an agent's unpaid parts fit in 8 bits.
inline constexpr std::size_t kMaxCurrencies = 33;

// Investor classes have 8-bit ids (create_population, agents/population.cpp, allows at
// most 255 classes): arrays indexed by a class id have this many entries (the decide
// phase's per-block, per-class sums live in on-stack arrays).
inline constexpr std::size_t kClassIds = 256;

}  // namespace bankrun
