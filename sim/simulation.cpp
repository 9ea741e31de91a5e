// The wiring of the engine: the constructor builds each mechanism's state, step() runs the
// phases in order. The mechanisms themselves live in their own files (simulation.hpp).
#include "simulation.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "calendar.hpp"
#include "memory.hpp"

namespace bankrun {
namespace {

// The active list's room: re-depositors if some class re-deposits, and one waiting entry
// per agent with a reaction lag.
ActiveList::Room active_list_room(const Scenario& s, const Population& p) {
  ActiveList::Room room;
  room.redepositors = any_class_redeposits(s.population);
  for (std::uint32_t i = 0; i < p.size(); ++i) room.lagged += p.reaction_lag_of(i) > 0;
  return room;
}

// Only balance-weighted peers read the initial claims once the population is drawn: the
// others free them before the network is built.
Population drop_initial_claims(Population population, const Scenario& s) {
  if (!s.stress.peer_balance_weighted) std::vector<Money>().swap(population.initial_claim);
  return population;
}

}  // namespace

Simulation::Simulation(Scenario scenario)
    : scenario_(require_memory(std::move(scenario))),  // before anything is allocated
      population_(
          drop_initial_claims(create_population(scenario_.population, scenario_.seed), scenario_)),
      peers_(Peers::for_scenario(scenario_, population_, network_stats_)),
      classes_(population_.class_count()),
      portfolio_(scenario_, classes_),
      institutions_(build_institutions()),
      active_(population_.size(), active_list_room(scenario_, population_)),
      news_(scenario_, population_.size()),
      public_signals_(scenario_, institutions_, portfolio_, classes_),
      policies_(scenario_, population_.size()),
      transfers_(institutions_.size(), portfolio_.currencies()),
      class_stress_(classes_, population_.size(), scenario_.output.stress_quantiles),
      snapshots_(scenario_.output, population_.size()),
      hazard_(scenario_.decision.hazard_rate) {
  const std::uint32_t n = population_.size();
  const std::size_t nin = institutions_.size();
  pending_parts_.assign(n, 0);
  credit_sums_.assign((n / kCreditPiece + 1) * (nin + 1), 0);
  for (const auto& cls : scenario_.population.classes) {
    redeposit_rate_.push_back(cls.redeposit_rate);
    calm_threshold_.push_back(cls.calm_threshold);
  }
  any_redeposit_ = any_class_redeposits(scenario_.population);

  any_noise_ = std::any_of(population_.noise_sd.begin(), population_.noise_sd.end(),
                           [](float sd) { return sd > 0.0f; }) ||
               std::any_of(population_.class_noise_sd.begin(), population_.class_noise_sd.end(),
                           [](float sd) { return sd > 0.0f; });
  state_.assign(n, AgentState::kHolding);
  class_ticks_.resize(classes_);
  institution_ticks_.resize(nin);
  asset_begin_.assign(1, 0);
  for (const InstitutionSpec& spec : scenario_.institutions)
    asset_begin_.push_back(asset_begin_.back() + spec.assets.size());
  asset_ticks_.resize(asset_begin_.back());
}

// Institution k starts with the claims of the agents whose account it holds (of which the
// parts in its assets, split by the holders' portfolios); its queues have room for every
// agent that can ever have a request there (account or destination k). What each
// institution owes the others is the sum of their exposures to it.
std::vector<Institution> Simulation::build_institutions() const {
  const std::size_t nin = scenario_.institutions.size();
  if (nin == 0 || nin > kMaxInstitutions)
    throw std::invalid_argument("a scenario needs 1 to " + std::to_string(kMaxInstitutions) +
                                " institutions");
  const std::size_t currencies = portfolio_.currencies();
  std::vector<Money> issued(nin, 0);
  std::vector<std::vector<Money>> asset_issued(nin);
  for (std::size_t k = 0; k < nin; ++k)
    asset_issued[k].assign(scenario_.institutions[k].assets.size(), 0);
  std::vector<std::uint32_t> capacity(nin, 0);
  std::vector<Money> parts(currencies);
  for (std::uint32_t i = 0; i < population_.size(); ++i) {
    const std::uint8_t a = population_.account[i], d = population_.destination[i];
    if (a >= nin || (d != kSelfCustody && d >= nin))
      throw std::invalid_argument("an agent's account or destination names no institution");
    issued[a] += population_.claim[i];
    const std::uint8_t cls = population_.class_id[i];
    if (portfolio_.in_kind(cls))
      for (std::size_t c = 1; c < currencies; ++c)
        if (portfolio_.weight(cls, c) > 0.0 &&
            (portfolio_.asset_of(a, c) < 0 || (d != kSelfCustody && portfolio_.asset_of(d, c) < 0)))
          throw std::invalid_argument("claim currency '" + scenario_.currencies[c - 1] +
                                      "' is not an asset of every institution its holders use");
    if (portfolio_.split(population_.claim[i], cls, parts.data()))
      for (std::size_t c = 1; c < currencies; ++c) {
        if (parts[c] > 0)
          asset_issued[a][static_cast<std::size_t>(portfolio_.asset_of(a, c))] += parts[c];
      }
    ++capacity[a];
    if (d != kSelfCustody) ++capacity[d];
  }
  std::vector<Institution> institutions;
  institutions.reserve(nin);
  for (std::size_t k = 0; k < nin; ++k) {
    std::vector<char> claim_assets(scenario_.institutions[k].assets.size());
    for (std::size_t a = 0; a < claim_assets.size(); ++a)
      claim_assets[a] = portfolio_.currency_of(k, a) > 0;
    institutions.emplace_back(scenario_.institutions[k], issued[k], capacity[k],
                              scenario_.time.tick_hours, asset_issued[k], claim_assets);
  }
  std::vector<Money> owed(nin, 0);
  for (const InstitutionSpec& spec : scenario_.institutions)
    for (const ExposureSpec& e : spec.exposures) {
      if (e.debtor >= nin) throw std::invalid_argument("an exposure names no institution");
      owed[e.debtor] += e.amount;
    }
  for (std::size_t k = 0; k < nin; ++k) institutions[k].set_owed_to_institutions(owed[k]);
  return institutions;
}

// Phase 1, observe: the policies due at t (armed at the end of t-1 or scheduled) take
// effect (policies.*); then the public signals of each institution from the end of t-1 (G,
// Q, X; signals.*), the news values of tick t (news.*) and which peers' decisions are
// visible; the calendar of tick t: the agents' activity a(t) and each institution's
// opening hours (calendar.hpp).
void Simulation::observe(std::int32_t t) {
  policies_.apply(t, institutions_, institution_ticks_, news_);
  activity_ = activity_in_tick(scenario_.calendar, scenario_.time, t);
  record_.activity = activity_;
  for (Institution& in : institutions_) in.open_for(scenario_.time, t);
  public_signals_.observe(t, institutions_, portfolio_, institution_ticks_);
  record_.news_signal = news_.prepare(t, population_);
  peers_.reveal(t, population_);
}

// The tick, in the phase order of the header comment (MODEL.md section 7).
const TickRecord& Simulation::step() {
  const std::int32_t t = tick_;
  start_tick(t);
  observe(t);           // 1. (the policies due fire first)
  decide(t);            // 2.
  submit(t);            // 3.
  settle(t);            // 4. (and the market prices for t+1)
  resolve_defaults(t);  // 5.
  record(t);            // 6. (ledger identities checked first)
  end_tick();
  return record_;
}

void Simulation::start_tick(std::int32_t t) {
  record_ = TickRecord{};
  record_.tick = t;
  std::fill(institution_ticks_.begin(), institution_ticks_.end(), InstitutionTick{});
}

// Bookkeeping for the next tick: the policies whose conditions hold now fire at t+1, and the
// flow rings keep this tick's net outflows.
void Simulation::end_tick() {
  policies_.arm(institutions_);
  public_signals_.remember(tick_, institutions_);
  ++tick_;
}

}  // namespace bankrun
