// The neighbour gather of the peer signal: for each agent, the share of its neighbours whose
// bit is set in the bitset of seen agents, over a CSR Network (agents/network.hpp) with
// k = 10 neighbours per agent. The loop body is what Peers::fraction (sim/signals.hpp) did
// on every tick until the peer term became pushed (each revealed decision adds to its
// watchers' counts once, so the engine no longer gathers); kept as the measure of what the
// push saves.
//
// The rows visited are fixed (kRows agents, 1e6 neighbour slots read in order); each
// neighbour is drawn uniformly from a table of range(0) agents, so the bitset lookups are
// random reads in 12.5 KB (1e5 agents), 1.25 MB (1e7) or 12.5 MB (1e8): the cache effect,
// without the memory of a full 1e7- or 1e8-agent network.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "agents/network.hpp"
#include "agents/rng.hpp"

namespace bankrun {
namespace {

constexpr std::uint32_t kRows = 100000;
constexpr std::uint32_t kDegree = 10;
constexpr std::uint64_t kSeed = 42;

// A uniform draw in [0, n) from one 32-bit word (multiply-shift; the bias is irrelevant here).
std::uint32_t below(std::uint32_t word, std::uint32_t n) {
  return static_cast<std::uint32_t>((std::uint64_t{word} * n) >> 32);
}

// kRows rows of kDegree neighbours each, drawn uniformly from [0, table).
Network uniform_rows(std::uint32_t table) {
  std::vector<std::uint64_t> offsets(kRows + 1);
  std::vector<std::uint32_t> neighbours(std::size_t{kRows} * kDegree);
  for (std::uint32_t i = 0; i <= kRows; ++i) offsets[i] = std::uint64_t{i} * kDegree;
  for (std::size_t s = 0; s < neighbours.size(); ++s) {
    const auto word =
        CounterRng::block_at(kSeed, Stream::kNetwork, 0, static_cast<std::uint32_t>(s))[0];
    neighbours[s] = below(word, table);
  }
  return Network(std::move(offsets), std::move(neighbours));
}

// About 30 % of the table's agents seen.
std::vector<std::uint64_t> seen_bitset(std::uint32_t table) {
  std::vector<std::uint64_t> seen((std::size_t{table} + 63) / 64);
  for (std::uint32_t j = 0; j < table; ++j)
    if (below(CounterRng::block_at(kSeed, Stream::kHazard, 0, j)[0], 10) < 3)
      seen[j >> 6] |= std::uint64_t{1} << (j & 63);
  return seen;
}

// As Peers::fraction in its counted mode did before the push.
double seen_fraction(std::uint32_t i, const Network& network,
                     const std::vector<std::uint64_t>& seen) {
  const auto nbrs = network.neighbours_of(i);
  std::uint32_t count = 0;
  for (const std::uint32_t j : nbrs) count += (seen[j >> 6] >> (j & 63)) & 1u;
  return nbrs.empty() ? 0.0 : static_cast<double>(count) / static_cast<double>(nbrs.size());
}

void BM_NeighbourGather(benchmark::State& state) {
  const auto table = static_cast<std::uint32_t>(state.range(0));
  const Network network = uniform_rows(table);
  const std::vector<std::uint64_t> seen = seen_bitset(table);
  for (auto _ : state) {
    double sum = 0.0;
    for (std::uint32_t i = 0; i < kRows; ++i) sum += seen_fraction(i, network, seen);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.counters["neighbours"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRows * kDegree, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_NeighbourGather)->Arg(100000)->Arg(10000000)->Arg(100000000);

}  // namespace
}  // namespace bankrun
