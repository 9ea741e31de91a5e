// Phase 2 of the tick, decide: every agent of the active list computes S_i(t) and applies
// the decision rule, in parallel over the list's fixed blocks; per-class stress (means and
// quantiles) is combined in block order, so nothing depends on the thread count.
#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <cmath>

#include "agents/normal.hpp"
#include "agents/parallel.hpp"
#include "agents/rng.hpp"
#include "simulation.hpp"

namespace bankrun {
// The draws and the news term of a batch of active agents, computed before their decisions:
// the first Philox blocks of the noise and hazard streams, several lanes at a time
// (first_blocks), and N_i(t) event by event over the batch (NewsBoard::sum_news). Each
// agent's value is the one decide_agent would have computed alone.
void Simulation::prepare_batch(const std::uint32_t* ids, std::uint32_t count, std::int32_t t,
                               DecideBatch& batch) const {
  const auto tick = static_cast<std::uint32_t>(t);
  if (news_.any_live()) news_.sum_news(ids, count, population_, batch.news);
  if (any_noise_)
    first_blocks(scenario_.seed, Stream::kDecisionNoise, tick, ids, count, batch.noise);
  if (scenario_.decision.rule == DecisionSpec::Rule::kHazard)
    first_blocks(scenario_.seed, Stream::kHazard, tick, ids, count, batch.hazard);
}

// S_i(t) = b_news N_i(t) + b_peer P_i(t-L) + b_flow G_k(t-1) + b_queue Q_k(t-1)
//          + b_price X_k(t-1) + carry S_i(t-1) + eps_i(t),  eps_i(t) ~ Normal(0, sigma_i)
// keyed by (t, i), where k is i's account institution (PublicSignals::term(k, c)
// holds the G, Q, X terms, the same for all its depositors of class c).
// Threshold rule: withdraw iff S_i > theta_i. Hazard rule: withdraw with probability
// h0 * Phi((S_i - theta_i) / T), U ~ (seed, kHazard, t, i). Only an agent with a claim
// can withdraw. An agent with funds outside re-deposits, if its class allows it, with
// probability redeposit_rate when S_i < calm_threshold, U ~ (seed, kRedeposit, t, i).
// Lane a of `batch` holds agent i's news term and first blocks (prepare_batch).
Simulation::Outcome Simulation::decide_agent(std::uint32_t i, std::int32_t t, double public_term,
                                             const DecideBatch& batch, std::uint32_t a,
                                             double& stress) {
  const StressSpec& w = scenario_.stress;
  const auto tick = static_cast<std::uint32_t>(t);
  double s = public_term + w.carry * population_.stress[i];
  if (news_.any_live()) s += w.news_weight * batch.news[a];
  if (w.peer_weight != 0.0) s += w.peer_weight * peers_.fraction(i, network_, population_);
  if (const float sd = population_.noise_sd_of(i); sd > 0.0f) {
    // Boost's normal deviate; its first ziggurat try (~97%) without Boost (agents/normal.hpp).
    const Philox4x32::Counter block = batch.noise.lane(a);
    double eps;
    if (!normal_first_try(first_draw(block), sd, eps)) {
      CounterRng rng(scenario_.seed, Stream::kDecisionNoise, tick, i, block);
      eps = boost::random::normal_distribution<double>(0.0, sd)(rng);
    }
    s += eps;
  }
  if (policies_.insured(i, population_)) s *= policies_.insured_scale(i, population_);
  population_.stress[i] = s;
  stress = s;

  const double theta = population_.threshold[i];
  const bool gated = policies_.gated(i, population_, t);
  if (population_.claim[i] > 0 && !gated) {
    const DecisionSpec& d = scenario_.decision;
    if (d.rule == DecisionSpec::Rule::kThreshold) {
      if (s > theta) return Outcome::kWithdraw;
    } else {
      // U < h0 Phi(z): since h0 Phi(z) <= h0 (also in floating point, Phi <= 1), U >= h0
      // decides "no" at once; else the table of hazard.hpp decides, mostly without Phi.
      const double u =
          CounterRng(scenario_.seed, Stream::kHazard, tick, i, batch.hazard.lane(a)).uniform01();
      if (u < d.hazard_rate && hazard_.below(u, (s - theta) / d.temperature))
        return Outcome::kWithdraw;
    }
  }
  if (any_redeposit_ && population_.outside[i] > 0 && can_redeposit(i)) {
    const InvestorClass& cls = scenario_.population.classes[population_.class_id[i]];
    if (s < cls.calm_threshold &&
        CounterRng(scenario_.seed, Stream::kRedeposit, tick, i).uniform01() < cls.redeposit_rate)
      return Outcome::kRedeposit;
  }
  return Outcome::kStay;
}

void Simulation::decide(std::int32_t t) {
  const std::uint32_t nblocks = active_.blocks();
  for_blocks(nblocks, [&](std::uint32_t b) {
    const std::uint32_t lo = active_.block_begin(b), hi = active_.block_end(b);
    const std::uint32_t* ids = active_.ids();
    std::uint32_t* stay = active_.stay_slots(b);
    std::uint32_t* withdraw = active_.withdraw_slots(b);
    std::uint32_t* redeposit = active_.redeposit_slots(b);
    // Per-class sums in local arrays: they cannot alias the agents' state, so the compiler
    // keeps them out of the store-to-load chains of the per-agent writes.
    double class_stress[kClassIds] = {};
    std::uint32_t class_acting[kClassIds] = {};
    ActiveList::BlockCounts counts;
    // One institution and USD-only claims (the common case): one public term for all.
    const bool uniform = public_signals_.uniform();
    const double uniform_term = public_signals_.term(0, 0);
    DecideBatch batch;
    for (std::uint32_t first = lo; first < hi; first += kBatchLanes) {
      const std::uint32_t count = std::min(kBatchLanes, hi - first);
      prepare_batch(ids + first, count, t, batch);
      for (std::uint32_t a = 0; a < count; ++a) {
        // ids[first + a] is read before any stayer is written at or after it (stay_slots).
        const std::uint32_t i = ids[first + a];
        const std::uint8_t c = population_.class_id[i];
        const double public_term =
            uniform ? uniform_term : public_signals_.term(population_.account[i], c);
        double stress;
        const Outcome outcome = decide_agent(i, t, public_term, batch, a, stress);
        class_stress[c] += stress;
        ++class_acting[c];
        if (outcome == Outcome::kWithdraw) {
          withdraw[counts.withdraw++] = i;
          continue;
        }
        if (outcome == Outcome::kRedeposit) redeposit[counts.redeposit++] = i;
        stay[counts.stay++] = i;
      }
    }
    class_stress_.store_block(b, class_stress, class_acting);
    active_.set_block(b, counts);
  });
  const std::uint32_t acting_agents = active_.count();
  record_.acting_agents = acting_agents;
  const double stress_sum = class_stress_.combine(nblocks, class_ticks_);
  record_.stress_mean = acting_agents > 0 ? stress_sum / acting_agents : 0.0;
  class_stress_.take_quantiles(nblocks, active_, population_, class_ticks_);
  active_.compact(nblocks);
}

}  // namespace bankrun
