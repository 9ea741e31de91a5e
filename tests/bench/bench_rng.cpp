// The counter-based generator (agents/rng.hpp): one raw Philox4x32-10 block (the news-reach
// draws use its words one at a time), a uniform from a fresh CounterRng (the hazard and
// re-deposit draws), and the decide phase's noise: a CounterRng built for (seed, stream,
// tick, i) and one Boost normal deviate drawn from it, as decide_agent does per agent; and
// the batched first blocks of the decide phase (first_blocks).
#include <benchmark/benchmark.h>

#include <boost/random/normal_distribution.hpp>
#include <cstdint>

#include "agents/rng.hpp"

namespace bankrun {
namespace {

constexpr std::uint64_t kSeed = 42;
constexpr std::uint32_t kTick = 7;

void BM_PhiloxBlock(benchmark::State& state) {
  std::uint32_t id = 0;
  for (auto _ : state) {
    auto block = CounterRng::block_at(kSeed, Stream::kNewsReach, kTick, id++);
    benchmark::DoNotOptimize(block);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhiloxBlock);

void BM_PhiloxUniform(benchmark::State& state) {
  std::uint32_t id = 0;
  for (auto _ : state) {
    double u = CounterRng(kSeed, Stream::kHazard, kTick, id++).uniform01();
    benchmark::DoNotOptimize(u);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhiloxUniform);

void BM_PhiloxNormal(benchmark::State& state) {
  std::uint32_t id = 0;
  for (auto _ : state) {
    CounterRng rng(kSeed, Stream::kDecisionNoise, kTick, id++);
    double eps = boost::random::normal_distribution<double>(0.0, 0.05)(rng);
    benchmark::DoNotOptimize(eps);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhiloxNormal);

// The decide phase's batched first blocks (first_blocks, vectorised across lanes): items are
// blocks, so the rate compares with BM_PhiloxBlock.
void BM_PhiloxBatch(benchmark::State& state) {
  static BlockWords out;
  std::uint32_t ids[kBatchLanes];
  std::uint32_t next = 0;
  for (auto _ : state) {
    for (std::uint32_t& id : ids) id = next++;
    first_blocks(kSeed, Stream::kHazard, kTick, ids, kBatchLanes, out);
    benchmark::DoNotOptimize(out.w0[0]);
  }
  state.SetItemsProcessed(state.iterations() * kBatchLanes);
}
BENCHMARK(BM_PhiloxBatch);

}  // namespace
}  // namespace bankrun
