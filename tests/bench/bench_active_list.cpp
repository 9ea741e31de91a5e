// Compaction of the active list (sim/active_list.hpp) at the end of the decide phase: each
// block's staging slots are gathered, in block order and in parallel (oneTBB), into the next
// active list and the withdrawers.
//
// The staging is filled once, as the decide phase would: every agent stays, and 1 in 100 is
// also listed as a withdrawer. compact() only copies ids, so the list keeps its length from
// one iteration to the next and every iteration does the same work: n ids into the next
// list and n / 100 into the withdrawers.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "sim/active_list.hpp"

namespace bankrun {
namespace {

constexpr std::uint32_t kWithdrawEvery = 100;

std::vector<ActiveList::BlockCounts> fill_staging(ActiveList& list) {
  std::vector<ActiveList::BlockCounts> counts(list.blocks());
  for (std::uint32_t b = 0; b < list.blocks(); ++b) {
    std::uint32_t* stay = list.stay_slots(b);
    std::uint32_t* withdraw = list.withdraw_slots(b);
    ActiveList::BlockCounts& c = counts[b];
    for (std::uint32_t k = list.block_begin(b); k < list.block_end(b); ++k) {
      const std::uint32_t i = list.ids()[k];
      stay[c.stay++] = i;
      if (i % kWithdrawEvery == 0) withdraw[c.withdraw++] = i;
    }
  }
  return counts;
}

void BM_Compaction(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  ActiveList list(n);
  const std::uint32_t nblocks = list.blocks();
  const std::vector<ActiveList::BlockCounts> counts = fill_staging(list);
  for (auto _ : state) {
    // compact() turns the block counts into output offsets: report them again.
    for (std::uint32_t b = 0; b < nblocks; ++b) list.set_block(b, counts[b]);
    list.compact(nblocks);
    benchmark::DoNotOptimize(list.withdrawers().data());
  }
  if (list.count() != n) state.SkipWithError("the active list changed length");
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Compaction)->Arg(100000)->Arg(1000000)->UseRealTime();

}  // namespace
}  // namespace bankrun
