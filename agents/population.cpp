#include "population.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace bankrun {

std::vector<std::uint32_t> class_counts(const PopulationSpec& spec) {
  const std::size_t c = spec.classes.size();
  double total_share = 0.0;
  for (const auto& cls : spec.classes) total_share += cls.share;
  std::vector<std::uint32_t> counts(c, 0);
  std::vector<std::pair<double, std::size_t>> remainders;
  std::uint64_t assigned = 0;
  for (std::size_t k = 0; k < c; ++k) {
    const double exact = spec.agents * spec.classes[k].share / total_share;
    counts[k] = static_cast<std::uint32_t>(std::floor(exact));
    assigned += counts[k];
    remainders.emplace_back(exact - counts[k], k);
  }
  // Largest remainders first; ties go to the earlier class.
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t r = 0; assigned < spec.agents; ++r, ++assigned) ++counts[remainders[r].second];
  return counts;
}

Population create_population(const PopulationSpec& spec, std::uint64_t seed) {
  if (spec.classes.empty()) throw std::invalid_argument("population needs at least one class");
  if (spec.classes.size() > 255) throw std::invalid_argument("at most 255 investor classes");
  const std::uint32_t n = spec.agents;
  Population pop;
  pop.threshold.resize(n);
  pop.class_id.resize(n);
  pop.claim.resize(n);
  pop.stress.assign(n, 0.0);
  pop.decided_at.assign(n, kNever);

  const auto counts = class_counts(spec);
  pop.class_begin.assign(1, 0);
  for (const auto count : counts) pop.class_begin.push_back(pop.class_begin.back() + count);

  std::vector<double> balance_usd(n);
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const InvestorClass& cls = spec.classes[c];
    tbb::parallel_for(tbb::blocked_range<std::uint32_t>(pop.class_begin[c], pop.class_begin[c + 1]),
                      [&](const tbb::blocked_range<std::uint32_t>& r) {
                        for (std::uint32_t i = r.begin(); i != r.end(); ++i) {
                          CounterRng brng(seed, Stream::kClassBalance, 0, i);
                          CounterRng trng(seed, Stream::kClassThreshold, 0, i);
                          pop.class_id[i] = static_cast<std::uint8_t>(c);
                          balance_usd[i] = std::max(0.0, cls.balance_usd.sample(brng));
                          pop.threshold[i] = cls.threshold.sample(trng);
                        }
                      });
  }

  double scale = 1.0;
  if (spec.total_balance_usd) {
    // Sequential sum: a parallel floating-point sum would depend on the thread count.
    const double drawn = std::accumulate(balance_usd.begin(), balance_usd.end(), 0.0);
    if (drawn <= 0.0) throw std::invalid_argument("population: drawn balances sum to zero");
    scale = *spec.total_balance_usd / drawn;
  }
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, n),
                    [&](const tbb::blocked_range<std::uint32_t>& r) {
                      for (std::uint32_t i = r.begin(); i != r.end(); ++i)
                        pop.claim[i] = usd_to_cents(balance_usd[i] * scale);
                    });
  pop.issued = std::accumulate(pop.claim.begin(), pop.claim.end(), Money{0});
  return pop;
}

}  // namespace bankrun
