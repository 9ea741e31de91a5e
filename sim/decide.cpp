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

// S_i(t) = b_news N_i(t) + b_peer P_i(t-L) + b_flow G_k(t-1) + b_queue Q_k(t-1)
//          + b_price X_k(t-1) + carry S_i(t-1) + eps_i(t),  eps_i(t) ~ Normal(0, sigma_i)
// keyed by (t, i), where k is i's account institution (PublicSignals::term(k, c)
// holds the G, Q, X terms, the same for all its depositors of class c); insured agents'
// S_i is scaled (Policies::insured_scale).
// Threshold rule: withdraw iff S_i > theta_i (comparison at_least: S_i >= theta_i). Hazard rule:
// withdraw with probability h0 * Phi((S_i - theta_i) / T), U ~ (seed, kHazard, t, i). Only an agent
// with a claim that no gate holds back can withdraw. An agent that does not withdraw and has funds
// outside re-deposits, if its class allows it, with probability redeposit_rate when
// S_i < calm_threshold, U ~ (seed, kRedeposit, t, i).
//
// A batch of up to 256 active agents goes through the rule in passes, so that the coin
// flips (is U below h0? is the agent calm?) are data, not branches the processor must
// guess: (1) the news terms and the first Philox blocks of the noise and hazard draws
// (several lanes at a time); (2) S_i of every lane; (3) the lanes that may withdraw,
// compacted, and their decisions; (4) the lanes that may re-deposit, compacted, their
// Philox blocks and decisions (after the calendar's activity draw, when a(t) < 1, has
// made some lanes idle); (5) the outcomes into the block's slots. Every value is the
// one the agent would compute alone, so the passes change no result.

// Pass 2: S_i(t) of each lane, stored for the agent; the per-class sums in lane order.
void Simulation::batch_stress(std::int32_t t, DecideBatch& batch, std::uint32_t count,
                              double* class_stress, std::uint32_t* class_acting) {
  const StressSpec& w = scenario_.stress;
  const auto tick = static_cast<std::uint32_t>(t);
  const bool uniform = public_signals_.uniform();
  const double uniform_term = public_signals_.term(0, 0);
  const bool news = news_.any_live(), peers = w.peer_weight != 0.0, carry = w.carry != 0.0;
  const Population& pop = population_;
  for (std::uint32_t a = 0; a < count; ++a) {
    const std::uint32_t i = batch.ids[a];
    const std::uint8_t c = pop.class_id[i];
    double s = uniform ? uniform_term : public_signals_.term(pop.account[i], c);
    if (carry) s += w.carry * pop.stress[i];
    if (news) s += w.news_weight * batch.news[a];
    if (peers) s += w.peer_weight * peers_.fraction(i, pop);
    if (const float sd = pop.noise_sd_of(i); sd > 0.0f) {
      // Boost's normal deviate; its first ziggurat try (~97%) without Boost (agents/normal.hpp).
      const Philox4x32::Counter block = batch.noise.lane(a);
      double eps;
      if (!normal_first_try(first_draw(block), sd, eps)) {
        CounterRng rng(scenario_.seed, Stream::kDecisionNoise, tick, i, block);
        eps = boost::random::normal_distribution<double>(0.0, sd)(rng);
      }
      s += eps;
    }
    if (policies_.insured(i, pop)) s *= policies_.insured_scale(i, pop);
    batch.stress[a] = s;
    class_stress[c] += s;
    ++class_acting[c];
  }
  // Written after the loop: the compiler need not assume a store to stress[] changes the
  // batch or the population's other arrays.
  for (std::uint32_t a = 0; a < count; ++a) population_.stress[batch.ids[a]] = batch.stress[a];
}

// Pass 3: which lanes withdraw (batch.outcome). Threshold rule: S_i > theta_i (or >=). Hazard rule:
// U < h0 Phi(z); since h0 Phi(z) <= h0 (also in floating point, Phi <= 1), U >= h0 decides
// "no" at once, so only the lanes with U < h0 (about h0 of them) are compacted and given
// to the table of hazard.hpp, which mostly decides without Phi.
void Simulation::batch_withdrawals(std::int32_t t, DecideBatch& batch, std::uint32_t count) const {
  const DecisionSpec& d = scenario_.decision;
  const Population& pop = population_;
  const auto may_withdraw = [&](std::uint32_t i) {
    return pop.claim[i] > 0 && !policies_.gated(i, pop, t);
  };
  if (d.rule == DecisionSpec::Rule::kThreshold) {
    const auto decide_all = [&](auto exceeds) {
      for (std::uint32_t a = 0; a < count; ++a) {
        const std::uint32_t i = batch.ids[a];
        const bool withdraw = may_withdraw(i) & exceeds(batch.stress[a], pop.threshold[i]);
        batch.outcome[a] = withdraw ? Outcome::kWithdraw : Outcome::kStay;
      }
    };
    if (d.comparison == DecisionSpec::Comparison::kAtLeast) {
      decide_all([](double s, double theta) { return s >= theta; });
    } else {
      decide_all([](double s, double theta) { return s > theta; });
    }
    return;
  }
  std::uint32_t candidates = 0;
  for (std::uint32_t a = 0; a < count; ++a) {
    batch.outcome[a] = Outcome::kStay;
    const double u = uniform01_of(batch.hazard.first_draw(a));
    batch.lanes[candidates] = a;
    candidates += (u < d.hazard_rate) & may_withdraw(batch.ids[a]);
  }
  for (std::uint32_t k = 0; k < candidates; ++k) {
    const std::uint32_t a = batch.lanes[k];
    const std::uint32_t i = batch.ids[a];
    const double u = uniform01_of(batch.hazard.first_draw(a));
    if (hazard_.below(u, (batch.stress[a] - pop.threshold[i]) / d.temperature))
      batch.outcome[a] = Outcome::kWithdraw;
  }
}

// Pass 4: which of the lanes that stay re-deposit: those with funds outside, a class that
// re-deposits and S_i < calm_threshold are compacted; their draws come from their first
// Philox blocks of the kRedeposit stream, computed for them together.
void Simulation::batch_redeposits(std::int32_t t, DecideBatch& batch, std::uint32_t count) const {
  const Population& pop = population_;
  std::uint32_t candidates = 0;
  for (std::uint32_t a = 0; a < count; ++a) {
    const std::uint32_t i = batch.ids[a];
    const std::uint8_t c = pop.class_id[i];
    batch.lanes[candidates] = a;
    batch.candidate_ids[candidates] = i;
    candidates += (batch.outcome[a] == Outcome::kStay) & (pop.outside[i] > 0) &
                  (redeposit_rate_[c] > 0.0) & (batch.stress[a] < calm_threshold_[c]);
  }
  if (candidates == 0) return;
  first_blocks(scenario_.seed, Stream::kRedeposit, static_cast<std::uint32_t>(t),
               batch.candidate_ids, candidates, batch.redeposit);
  for (std::uint32_t k = 0; k < candidates; ++k) {
    const std::uint32_t a = batch.lanes[k];
    const double u = uniform01_of(batch.redeposit.first_draw(k));
    if (u < redeposit_rate_[pop.class_id[batch.ids[a]]]) batch.outcome[a] = Outcome::kRedeposit;
  }
}

// Calendar (activity a(t) < 1): a lane acts on its decision only if U < a(t),
// U ~ (seed, kActivity, t, i); the others are idle this tick (they stay: no withdrawal, no
// re-deposit). Their stress is still computed and carried.
void Simulation::batch_activity(std::int32_t t, DecideBatch& batch, std::uint32_t count) const {
  first_blocks(scenario_.seed, Stream::kActivity, static_cast<std::uint32_t>(t), batch.ids, count,
               batch.activity);
  for (std::uint32_t a = 0; a < count; ++a)
    if (!(uniform01_of(batch.activity.first_draw(a)) < activity_))
      batch.outcome[a] = Outcome::kIdle;
}

void Simulation::decide(std::int32_t t) {
  const std::uint32_t nblocks = active_.blocks();
  const auto tick = static_cast<std::uint32_t>(t);
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
    DecideBatch batch;
    for (std::uint32_t first = lo; first < hi; first += kBatchLanes) {
      const std::uint32_t count = std::min(kBatchLanes, hi - first);
      // The batch's ids are copied before any stayer is written over them (stay_slots).
      std::copy_n(ids + first, count, batch.ids);
      if (news_.any_live()) news_.sum_news(batch.ids, count, population_, batch.news);
      if (any_noise_)
        first_blocks(scenario_.seed, Stream::kDecisionNoise, tick, batch.ids, count, batch.noise);
      if (scenario_.decision.rule == DecisionSpec::Rule::kHazard)
        first_blocks(scenario_.seed, Stream::kHazard, tick, batch.ids, count, batch.hazard);
      batch_stress(t, batch, count, class_stress, class_acting);
      batch_withdrawals(t, batch, count);
      if (activity_ < 1.0) batch_activity(t, batch, count);
      if (any_redeposit_) batch_redeposits(t, batch, count);
      // Pass 5: an agent is a withdrawer or a stayer; a re-depositor is also a stayer. Each
      // lane is written to all the lists it could join, and only counted where it belongs.
      for (std::uint32_t a = 0; a < count; ++a) {
        const std::uint32_t i = batch.ids[a];
        const Outcome outcome = batch.outcome[a];
        withdraw[counts.withdraw] = i;
        counts.withdraw += outcome == Outcome::kWithdraw;
        stay[counts.stay] = i;
        counts.stay += outcome != Outcome::kWithdraw;
        if (redeposit != nullptr) {
          redeposit[counts.redeposit] = i;
          counts.redeposit += outcome == Outcome::kRedeposit;
        }
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
