#pragma once
// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11). A generator is built inside the loop for one
// (seed, stream, slot, id) and yields the sequence block(0), block(1), ... of that key, so
// every draw is a pure function of its coordinates and independent of thread scheduling.
// It models UniformRandomBitGenerator, so Boost.Random distributions can draw from it.
#include <array>
#include <cstdint>

#include "streams.hpp"

namespace bankrun {

class Philox4x32 {
 public:
  using Counter = std::array<std::uint32_t, 4>;
  using Key = std::array<std::uint32_t, 2>;

  // Ten rounds of the Philox bijection of `counter` under `key`.
  static constexpr Counter block(Counter c, Key k) {
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        k[0] += kWeyl0;
        k[1] += kWeyl1;
      }
      const std::uint64_t p0 = std::uint64_t{kMul0} * c[0];
      const std::uint64_t p1 = std::uint64_t{kMul1} * c[2];
      c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
    }
    return c;
  }

  static constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  static constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
};

// The first Philox blocks of up to kBatchLanes coordinates, as four word arrays (lane a
// holds the block of ids[a]).
inline constexpr std::uint32_t kBatchLanes = 256;
struct BlockWords {
  alignas(64) std::uint32_t w0[kBatchLanes], w1[kBatchLanes], w2[kBatchLanes], w3[kBatchLanes];
  Philox4x32::Counter lane(std::uint32_t a) const { return {w0[a], w1[a], w2[a], w3[a]}; }
  // Lane a's generator's first 64-bit draw: words 2 and 3 (CounterRng's order).
  std::uint64_t first_draw(std::uint32_t a) const { return (std::uint64_t{w2[a]} << 32) | w3[a]; }
};

// out.lane(a) = CounterRng::block_at(seed, stream, slot, ids[a]) for a < count
// (count <= kBatchLanes), computed 8 or 4 lanes at a time where the processor can (rng.cpp).
void first_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                  std::uint32_t count, BlockWords& out);
// The same through a chosen instruction set (tests; a path the processor lacks must not be
// chosen): the fastest the processor has is the one first_blocks uses.
enum class BlockPath { kScalar, kAvx2, kAvx512 };
BlockPath fastest_block_path();
void first_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                  std::uint32_t count, BlockWords& out, BlockPath path);

// A double uniform on [0, 1) from the top 53 bits of a 64-bit draw (CounterRng::uniform01).
constexpr double uniform01_of(std::uint64_t draw) {
  return static_cast<double>(draw >> 11) * 0x1.0p-53;
}

// The generator for one coordinate (seed, stream, slot, id). `slot` is the tick for
// per-tick draws, an event index for per-event draws, 0 for set-up draws.
class CounterRng {
 public:
  using result_type = std::uint64_t;

  constexpr CounterRng(std::uint64_t seed, Stream stream, std::uint32_t slot, std::uint32_t id)
      : key_{key_of(seed)}, counter_{id, slot, static_cast<std::uint32_t>(stream), 0} {}

  // The first Philox block of (seed, stream, slot, id) as four 32-bit words (the
  // generator's first two draws are words 2-3, then 0-1), for draw sites that use the
  // words one at a time.
  static constexpr Philox4x32::Counter block_at(std::uint64_t seed, Stream stream,
                                                std::uint32_t slot, std::uint32_t id) {
    return Philox4x32::block({id, slot, static_cast<std::uint32_t>(stream), 0}, key_of(seed));
  }

  // The same generator when its first block, block_at(seed, stream, slot, id), has already
  // been computed (first_blocks()): the draws are the same, from the second block on too.
  constexpr CounterRng(std::uint64_t seed, Stream stream, std::uint32_t slot, std::uint32_t id,
                       const Philox4x32::Counter& first_block)
      : key_{key_of(seed)},
        counter_{id, slot, static_cast<std::uint32_t>(stream), 1},
        buffer_{(std::uint64_t{first_block[0]} << 32) | first_block[1],
                (std::uint64_t{first_block[2]} << 32) | first_block[3]},
        buffered_{2} {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  constexpr result_type operator()() {
    if (buffered_ == 0) refill();
    --buffered_;
    return buffer_[buffered_];
  }

  // A double uniform on [0, 1) from the top 53 bits of one draw (cheaper than a
  // Boost distribution where only a Bernoulli comparison is needed).
  constexpr double uniform01() { return uniform01_of((*this)()); }

 private:
  static constexpr Philox4x32::Key key_of(std::uint64_t seed) {
    return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  }

  constexpr void refill() {
    const auto out = Philox4x32::block(counter_, key_);
    ++counter_[3];
    buffer_[0] = (std::uint64_t{out[0]} << 32) | out[1];
    buffer_[1] = (std::uint64_t{out[2]} << 32) | out[3];
    buffered_ = 2;
  }

  Philox4x32::Key key_;
  Philox4x32::Counter counter_;
  std::array<std::uint64_t, 2> buffer_{};
  int buffered_ = 0;
};

}  // namespace bankrun
