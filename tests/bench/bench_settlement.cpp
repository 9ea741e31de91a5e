// Queue settlement (sim/institution.hpp): n requests pushed onto a FIFO WithdrawalQueue and
// paid in full from the head; and the same through an Institution (submit, then settle():
// cold-to-hot check, fire-sale check, the cash queue paid, halt evaluated), its hot reserves
// and claims restored after each tick by a re-deposit of what it paid.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "sim/institution.hpp"

namespace bankrun {
namespace {

constexpr Money kRequestCents = 10000;  // $100 each

void BM_QueueSettlement(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  WithdrawalQueue queue(n);
  for (auto _ : state) {
    for (std::uint32_t i = 0; i < n; ++i) queue.push(i, 0, kRequestCents);
    std::uint32_t paid_in_full = 0;
    const Money paid = queue.pay(kRequestCents * n,
                                 [&](std::uint32_t, Money, bool done) { paid_in_full += done; });
    benchmark::DoNotOptimize(paid);
    benchmark::DoNotOptimize(paid_in_full);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_QueueSettlement)->Arg(1000)->Arg(100000);

void BM_InstitutionSettle(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  Institution bank(InstitutionSpec{}, kRequestCents * n, n);  // all hot, no payout limit
  std::int32_t tick = 0;
  for (auto _ : state) {
    for (std::uint32_t i = 0; i < n; ++i) bank.submit(i, tick, kRequestCents);
    std::uint32_t paid_in_full = 0;
    const Money paid =
        bank.settle(tick, [&](std::uint32_t, Money, bool done) { paid_in_full += done; });
    bank.deposit(paid);  // the funds come back: the next tick starts from the same reserves
    benchmark::DoNotOptimize(paid_in_full);
    ++tick;
  }
  if (bank.queue_count() != 0 || bank.halted()) state.SkipWithError("the queue was not paid");
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_InstitutionSettle)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace bankrun
