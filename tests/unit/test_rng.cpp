// The counter-based generator: known-answer vectors and the purity that makes runs
// independent of the thread count.
#include <doctest/doctest.h>

#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "agents/normal.hpp"
#include "agents/rng.hpp"

using bankrun::CounterRng;
using bankrun::Philox4x32;
using bankrun::Stream;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  CHECK(Philox4x32::block({0, 0, 0, 0}, {0, 0}) ==
        Philox4x32::Counter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(Philox4x32::block({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                          {0xffffffff, 0xffffffff}) ==
        Philox4x32::Counter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(Philox4x32::block({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                          {0xa4093822, 0x299f31d0}) ==
        Philox4x32::Counter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("a draw is a pure function of (seed, stream, slot, id)") {
  CounterRng a(42, Stream::kDecisionNoise, 7, 123);
  CounterRng b(42, Stream::kDecisionNoise, 7, 123);
  for (int k = 0; k < 10; ++k) CHECK(a() == b());

  // Changing any coordinate changes the sequence.
  const auto first = [](std::uint64_t seed, Stream s, std::uint32_t slot, std::uint32_t id) {
    return CounterRng(seed, s, slot, id)();
  };
  const auto base = first(42, Stream::kDecisionNoise, 7, 123);
  CHECK(first(43, Stream::kDecisionNoise, 7, 123) != base);
  CHECK(first(42, Stream::kNewsReach, 7, 123) != base);
  CHECK(first(42, Stream::kDecisionNoise, 8, 123) != base);
  CHECK(first(42, Stream::kDecisionNoise, 7, 124) != base);
  CHECK(first(42ull | (1ull << 40), Stream::kDecisionNoise, 7, 123) != base);  // high seed bits
}

TEST_CASE(
    "uniform01 lies in the unit interval with mean 1/2 and variance 1/12 within standard errors") {
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u =
        CounterRng(1, Stream::kNewsReach, 0, static_cast<std::uint32_t>(i)).uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum_sq += u * u;
  }
  const double mean = sum / n, var = sum_sq / n - mean * mean;
  // SE of the mean: sqrt(1/12 / n); SE of the variance: sqrt((1/80 - 1/144) / n).
  CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(var - 1.0 / 12) < 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
}

TEST_CASE("Boost normal draws from per-agent generators have the right moments") {
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    CounterRng rng(9, Stream::kDecisionNoise, 3, static_cast<std::uint32_t>(i));
    const double x = boost::random::normal_distribution<double>(1.0, 2.0)(rng);
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n, var = sum_sq / n - mean * mean;
  CHECK(std::abs(mean - 1.0) < 5 * 2.0 / std::sqrt(n));             // SE = sigma / sqrt(n)
  CHECK(std::abs(var - 4.0) < 5 * 4.0 * std::sqrt(2.0 / (n - 1)));  // SE = sigma^2 sqrt(2/(n-1))
}

TEST_CASE("neighbouring coordinates give distinct streams (no collisions in 10^5 first draws)") {
  std::set<std::uint64_t> seen;
  for (std::uint32_t id = 0; id < 1000; ++id)
    for (std::uint32_t tick = 0; tick < 100; ++tick)
      seen.insert(CounterRng(5, Stream::kDecisionNoise, tick, id)());
  CHECK(seen.size() == 100000);
}

TEST_CASE("block_at is the first Philox block of a coordinate, as the generator draws it") {
  const std::uint64_t seed = 0x0123456789abcdefULL;
  for (std::uint32_t id : {0u, 7u, 123456u})
    for (std::uint32_t slot : {0u, 3u, 1000u}) {
      const Philox4x32::Counter w = CounterRng::block_at(seed, Stream::kNewsReach, slot, id);
      // The counter layout (id, slot, stream, draw) under the key (low, high word of seed).
      CHECK(w == Philox4x32::block({id, slot, static_cast<std::uint32_t>(Stream::kNewsReach), 0},
                                   {0x89abcdefu, 0x01234567u}));
      CounterRng rng(seed, Stream::kNewsReach, slot, id);
      CHECK(rng() == ((std::uint64_t{w[2]} << 32) | w[3]));
      CHECK(rng() == ((std::uint64_t{w[0]} << 32) | w[1]));
    }
}

TEST_CASE("first_blocks computes block_at lane by lane; a generator given it draws the same") {
  const std::uint64_t seed = 0xfedcba9876543210ULL;
  std::vector<std::uint32_t> ids(bankrun::kBatchLanes);
  for (std::uint32_t a = 0; a < ids.size(); ++a) ids[a] = a * 2654435761u;  // scattered ids
  static bankrun::BlockWords out;
  using bankrun::BlockPath;
  std::vector<BlockPath> paths{BlockPath::kScalar};  // every path this processor can run
  if (bankrun::fastest_block_path() != BlockPath::kScalar) paths.push_back(BlockPath::kAvx2);
  if (bankrun::fastest_block_path() == BlockPath::kAvx512) paths.push_back(BlockPath::kAvx512);
  for (const BlockPath path : paths)
    for (std::uint32_t count : {1u, 7u, 13u, 64u, bankrun::kBatchLanes}) {
      CAPTURE(static_cast<int>(path));
      CAPTURE(count);
      bankrun::first_blocks(seed, Stream::kDecisionNoise, 42, ids.data(), count, out, path);
      for (std::uint32_t a = 0; a < count; ++a)
        REQUIRE(out.lane(a) == CounterRng::block_at(seed, Stream::kDecisionNoise, 42, ids[a]));
    }
  bankrun::first_blocks(seed, Stream::kHazard, 9, ids.data(), bankrun::kBatchLanes, out);
  for (std::uint32_t a = 0; a < bankrun::kBatchLanes; ++a) {
    CounterRng fresh(seed, Stream::kHazard, 9, ids[a]);
    CounterRng given(seed, Stream::kHazard, 9, ids[a], out.lane(a));
    for (int draw = 0; draw < 6; ++draw) REQUIRE(fresh() == given());  // past the first block
  }
}

TEST_CASE("normal_first_try is Boost's normal deviate whenever its first ziggurat try accepts") {
  const std::uint64_t seed = 20221108;
  std::uint32_t accepted = 0;
  const std::uint32_t n = 2000000;
  for (std::uint32_t id = 0; id < n; ++id) {
    const double sd = 0.05 + 0.001 * (id % 97);
    const auto block = CounterRng::block_at(seed, Stream::kDecisionNoise, 3, id);
    CounterRng rng(seed, Stream::kDecisionNoise, 3, id);
    const double boost_value = boost::random::normal_distribution<double>(0.0, sd)(rng);
    double value = 0.0;
    if (bankrun::normal_first_try(bankrun::first_draw(block), sd, value)) {
      ++accepted;
      REQUIRE(value == boost_value);
    }
  }
  // Boost's 128 boxes accept about 98.8% of first tries; far from all, far from none.
  CHECK(accepted > 0.95 * n);
  CHECK(accepted < n);
}
