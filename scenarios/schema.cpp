#include "scenarios/schema.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "agents/names.hpp"
#include "sim/names.hpp"

namespace bankrun::schema {

Money read_usd(const Value& v, bool positive) {
  const Money cents =
      usd_to_cents(v.number(positive ? Range::open_closed(0, kMaxUsd) : Range::closed(0, kMaxUsd)));
  if (positive && cents < 1) v.fail("expected at least 0.01 USD (one cent), got " + v.describe());
  return cents;
}

namespace {

// "`a`, `b`, `c`": the names of an enum <-> name table, for the docs.
template <class Enum, std::size_t N>
std::string listed(const std::array<EnumName<Enum>, N>& table) {
  std::string out;
  for (const auto& row : table) out += (out.empty() ? "`" : ", `") + std::string(row.name) + "`";
  return out;
}

// `text` as inline code.
std::string code(const char* text) {
  return std::string("`") + text + "`";
}

template <class Enum, std::size_t N>
std::string one_of(const std::array<EnumName<Enum>, N>& table) {
  return "one of " + listed(table);
}

}  // namespace

// ---- The tables: the key rows of scenarios/README.md, in the order the loader lists the
// valid keys in its messages (data, built before main; read through the accessors below).

namespace {

const Section<Scenario> kScenario{
    "scenario",
    {
        {{"name", "string", "", "required", "non-empty", "Name of the scenario (shown in output)."},
         plain(&Scenario::name)},
        {{"description", "string", "", "`\"\"`", "", "Free text."}, plain(&Scenario::description)},
        {{"seed", "int", "", "`1`", "0 .. 2^64-1",
          "Seed of every random stream (population, network, noise, news reach, news process, "
          "hazard decisions, re-deposits, accounts, destinations)."},
         integer(&Scenario::seed, 0, std::numeric_limits<std::uint64_t>::max())},
        {{"time", "mapping", "", "required", "", "The time axis (below)."},
         by("read_time"),
         Child{"time"}},
        {{"population", "mapping", "", "required", "", "The investors (below)."},
         by("read_population"),
         Child{"population"}},
        {{"network", "mapping", "", "type `none`", "", "Who observes whom (below)."},
         by("read_network"),
         Child{"network"}},
        {{"stress", "mapping", "", "all 0", "", "Weights of the stress equation (below)."},
         by("read_stress"),
         Child{"stress"}},
        {{"news", "list", "", "`[]`", "", "Scheduled news events (below)."},
         by("read_news"),
         Child{"news[i]"}},
        {{"news_process", "mapping", "", "absent (no stochastic news)", "",
          "Randomly arriving news events (below)."},
         by("read_news_process"),
         Child{"news_process"}},
        {{"decision", "mapping", "", "rule `threshold`", "",
          "How stress turns into a withdrawal decision (below)."},
         by("read_decision"),
         Child{"decision"}},
        {{"calendar", "mapping", "", "absent (always active)", "",
          "Agents' activity by local hour, weekday and holiday (below)."},
         by("read_calendar"),
         Child{"calendar"}},
        {{"institutions", "list of mappings", "", "required", "1 .. 254 items",
          "The institutions (below), settled each tick in list order. Other keys name them by "
          "`name`."},
         by("read_institutions"),
         Child{"institutions[k]"}},
        {{"output", "mapping", "", "see below", "",
          "What is recorded beyond the standard series (below)."},
         by("read_output"),
         Child{"output"}},
    }};

const Section<TimeSpec> kTime{
    "time",
    {
        {{"ticks", "int", "ticks", "required", "1 .. 10,000,000", "Number of ticks simulated."},
         integer(&TimeSpec::ticks, 1, 10'000'000)},
        {{"tick_hours", "number", "hours", "`1`", "(0, 8760]", "Length of one tick."},
         number(&TimeSpec::tick_hours, Range::open_closed(0, 8760))},
        {{"start", "timestamp", "UTC", code(kDefaultStart), "",
          "Time of the start of tick 0; normalised to `YYYY-MM-DDTHH:MM:SSZ`."},
         by("read_time")},
    }};

const Section<CalendarSpec> kCalendar{
    "calendar",
    {
        {{"utc_offset_hours", "number", "hours", "`0`", "[-12, 14]",
          "Local time = UTC + this (fixed: no daylight saving)."},
         number(&CalendarSpec::utc_offset_hours, Range::closed(-12, 14))},
        {{"activity_by_hour", "list of 24 numbers", "probability", "all `1`", "each in [0, 1]",
          "Factor of each local hour of the day, 0 .. 23."},
         by("read_calendar")},
        {{"activity_by_weekday", "list of 7 numbers", "probability", "all `1`", "each in [0, 1]",
          "Factor of each weekday, Monday first."},
         by("read_calendar")},
        {{"holidays", "list of dates", "", "`[]`", "`YYYY-MM-DD`",
          "Local dates that count as Sundays (their weekday factor is Sunday's)."},
         by("read_calendar")},
    }};

const Section<OpeningHours> kOpeningHours{
    "opening_hours",
    {
        {{"utc_offset_hours", "number", "hours", "`0`", "[-12, 14]",
          "Local time = UTC + this (fixed: no daylight saving)."},
         number(&OpeningHours::utc_offset_hours, Range::closed(-12, 14))},
        {{"days", "list of weekdays", "", "all seven", "`mon` .. `sun`, no repeats",
          "The weekdays it opens on."},
         by("read_opening_hours")},
        {{"from_hour", "int", "local hour", "`0`", "0 .. 23", "Opens at this hour."},
         integer(&OpeningHours::from_hour, 0, 23)},
        {{"to_hour", "int", "local hour", "`24`", "1 .. 24, > `from_hour`",
          "Closes at this hour (open while from_hour <= hour < to_hour)."},
         integer(&OpeningHours::to_hour, 1, 24)},
        {{"closed_dates", "list of dates", "", "`[]`", "`YYYY-MM-DD`",
          "Local dates it stays closed (bank holidays, a pause)."},
         by("read_opening_hours")},
    }};

const Section<PopulationSpec> kPopulation{
    "population",
    {
        {{"agents", "int", "agents", "required", "1 .. 4,000,000,000",
          "Number of investors (32-bit ids)."},
         integer(&PopulationSpec::agents, 1, 4'000'000'000U)},
        {{"total_balance_usd", "number", "USD", "unset", "(0, 1e14]",
          "If set, balances are rescaled after drawing so that they sum to this."},
         number(&PopulationSpec::total_balance_usd, Range::open_closed(0, kMaxUsd))},
        {{"classes", "list of mappings", "", "required", "1 .. 255 items",
          "Investor classes (below). Agents are split among them by share (largest remainder)."},
         by("read_classes"),
         Child{"population.classes[i]"}},
    }};

const Section<InvestorClass> kClass{
    "population.classes[i]",
    {
        {{"name", "name", "", "required", "unique among classes", "Class name (shown in output)."},
         by("read_class")},
        {{"share", "number", "", "`1`", "> 0",
          "Relative weight of the class in the population; shares are normalised."},
         number(&InvestorClass::share, Range::above(0))},
        {{"accounts_per_agent", "number", "accounts", "`1`",
          "> 0; at most one of it and "
          "`account_count`",
          "w: the accounts each agent of the class stands for (super-individuals). The agent's "
          "claim is w times the balance drawn for one account, and the deposit-insurance "
          "coverage applies per account, so the agent count is a resolution knob, not a model "
          "parameter."},
         by("read_class")},
        {{"account_count", "number", "accounts", "unset",
          "> 0; the class needs at least one "
          "agent",
          "The number of accounts the class stands for: w = account_count / (the class's agent "
          "count), whatever `population.agents` is."},
         by("read_class")},
        {{"balance_usd", "distribution", "USD", "required", "",
          "Initial claim of one account at the agent's account institution (the agent's claim is "
          "`accounts_per_agent` times it); draws are clipped at 0 by the engine."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"threshold", "distribution", "stress", "required", "",
          "Panic threshold theta_i: with `decision.rule: threshold` the agent decides to "
          "withdraw once its stress exceeds it."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"noise_sd", "distribution", "stress", "`0`", "constant >= 0",
          "sigma_i: standard deviation of the agent's per-tick stress noise. Draws are clamped "
          "at 0."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"attention", "distribution", "probability", "`1`", "constant in [0, 1]",
          "Probability that the agent notices a news event that reaches it. Draws are clamped to "
          "[0, 1]."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"withdraw_fraction", "distribution", "share of the claim", "`1`", "constant in (0, 1]",
          "omega_i: the share of its *remaining* claim an agent asks for each time it decides to "
          "withdraw (1: everything at once). Draws are clamped to (0, 1]."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"reaction_lag_ticks", "distribution", "ticks", "`0`", "constant >= 0",
          "Ticks between an agent's decision and its withdrawal request. Draws are rounded to "
          "whole ticks and clamped at 0."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"threshold_balance_rank_correlation", "number", "", "`0`", "[-1, 1]",
          "rho: rank correlation between balance and threshold within the class. Thresholds are "
          "drawn from `threshold`, then assigned in the order of rho * z(balance rank) + sqrt(1 "
          "- rho^2) * noise; rho < 0 makes large holders more skittish, 0 leaves them "
          "independent."},
         number(&InvestorClass::threshold_balance_rank_correlation, Range::closed(-1, 1))},
        {{"calm_threshold", "number", "stress", "`0`", "any",
          "An agent holding withdrawn funds outside any institution whose stress is below this "
          "is *calm* and may re-deposit."},
         number(&InvestorClass::calm_threshold, Range::any())},
        {{"redeposit_rate", "number", "probability per tick", "`0`", "[0, 1]",
          "Probability per tick that a calm agent re-deposits; 0 disables re-deposits."},
         number(&InvestorClass::redeposit_rate, Range::closed(0, 1))},
        {{"redeposit_fraction", "number", "share of outside funds", "`1`", "(0, 1]",
          "Share of its outside funds a calm agent re-deposits when it does."},
         number(&InvestorClass::redeposit_fraction, Range::open_closed(0, 1))},
        {{"accounts", "mapping: institution name → number", "share",
          "absent: everyone at `institutions[0]`",
          "each share >= 0, at least one > 0; keys are institution names",
          "Where the class banks: each agent's account (its whole initial claim) is at one "
          "institution, drawn once at set-up with probabilities proportional to these shares "
          "(normalised). Institutions not named get share 0."},
         by("read_shares")},
        {{"destinations", "mapping: `self_custody` or institution name → number", "share",
          "absent: all `self_custody`",
          "each share >= 0, at least one > 0; keys are `self_custody` or institution names",
          "Where withdrawn funds go (below). Keys not named get share 0."},
         by("read_shares")},
        {{"portfolio", "mapping: `USD` or asset name → number", "share of the claim's value",
          "absent: all `USD`",
          "each share >= 0, at least one > 0; keys are `USD` or names of assets "
          "(`institutions[k].assets[i].name`); an asset with a share > 0 must be held by every "
          "institution where the class's agents can hold claims",
          "The claim currencies: the share of each agent's claim (by value) held in US dollars "
          "and in each asset (below). Keys not named get share 0."},
         by("read_portfolio")},
    }};

const Section<Distribution> kDistribution{
    "distribution",
    {
        {{"dist", one_of(kDistributionKindNames), "", "required", "", "The kind."},
         by("read_distribution")},
        {{"value", "number", "", "required", "", "The value."},
         by("read_parameters"),
         Variants{{"constant"}}},
        {{"low", "number", "", "required", "", "Lower end."},
         number(&Distribution::low, Range::any()),
         Variants{{"uniform"}}},
        {{"high", "number", "", "required", "> `low`",
          "Upper end: draws are uniform on [low, high)."},
         number(&Distribution::high, Range::any()),
         Variants{{"uniform"}}},
        {{"mean", "number", "", "required", "", "Mean."},
         number(&Distribution::mean, Range::any()),
         Variants{{"normal"}}},
        {{"sd", "number", "", "required", ">= 0", "Standard deviation."},
         number(&Distribution::sd, Range::at_least(0)),
         Variants{{"normal"}}},
        {{"mu", "number", "", "required", "", "Mean of log X."},
         number(&Distribution::mu, Range::any()),
         Variants{{"lognormal"}}},
        {{"sigma", "number", "", "required", ">= 0", "Standard deviation of log X."},
         number(&Distribution::sigma, Range::at_least(0)),
         Variants{{"lognormal"}}},
        {{"scale", "number", "", "required", "> 0",
          "x_m: the minimum; Pareto type I, P(X > x) = (scale / x)^shape for x >= scale."},
         number(&Distribution::scale, Range::above(0)),
         Variants{{"pareto"}}},
        {{"shape", "number", "", "required", "> 0",
          "alpha: the tail index (the mean is infinite for shape <= 1)."},
         number(&Distribution::shape, Range::above(0)),
         Variants{{"pareto"}}},
        {{"alpha", "number", "", "required", "> 0", "First shape parameter."},
         number(&Distribution::alpha, Range::above(0)),
         Variants{{"beta"}}},
        {{"beta", "number", "", "required", "> 0", "Second shape parameter."},
         number(&Distribution::beta, Range::above(0)),
         Variants{{"beta"}}},
        {{"low", "number", "", "`0`", "",
          "Lower end: the beta variate on [0, 1] is mapped linearly to [low, high]."},
         number(&Distribution::low, Range::any()),
         Variants{{"beta"}}},
        {{"high", "number", "", "`1`", "> `low`", "Upper end."},
         number(&Distribution::high, Range::any()),
         Variants{{"beta"}}},
        {{"values", "list of numbers", "", "", "non-empty, finite",
          "The sample: each draw is one of them, each equally likely (bootstrap). Exactly one of "
          "`values` and `file`."},
         by("read_values"),
         Variants{{"empirical"}}},
        {{"values", "list of numbers", "", "", "non-empty, finite",
          "The values in order, no randomness: agent k of the class (counting from 0 in the "
          "class's id range) gets values[k mod n], so a class of n agents holds exactly these "
          "values, and a class of m n agents holds each m times (its agent count must be a "
          "multiple of n). Elsewhere the k-th draw takes values[k mod n]: node k's degree "
          "(`network.degree`), the k-th event of the news process (`news_process.magnitude`). "
          "Exactly one of `values` and `file`."},
         by("read_values"),
         Variants{{"exact"}}},
        {{"file", "path", "", "", "a CSV file",
          "The values are read from this CSV file at load time (below)."},
         by("read_values"),
         Variants{{"empirical", "exact"}}},
        {{"column", "name or int", "", "first column (`0`)", "an int in 0 .. 1,000,000",
          "The CSV column: the name of a header column, or a 0-based index. An unquoted integer "
          "is an index; quote a numeric header name (`column: \"2022\"`)."},
         by("read_values"),
         Variants{{"empirical", "exact"}, ", with `file`"}},
        {{"clip_min", "number", "", "unset (-inf)", "",
          "Draws below are set to it (clipped, not redrawn)."},
         number(&Distribution::clip_min, Range::any())},
        {{"clip_max", "number", "", "unset (+inf)", ">= `clip_min`", "Draws above are set to it."},
         number(&Distribution::clip_max, Range::any())},
    },
    "dist",
    names_of(kDistributionKindNames),
    DocLayout::kVariantColumn};

const Section<NetworkSpec> kNetwork{
    "network",
    {
        {{"type", one_of(kNetworkKindNames), "", "`none`", "", "The network model (below)."},
         by("read_network")},
        {{"k", "int", "agents", "`10`",
          "`k_out`: 0 .. 1000; `watts_strogatz`: even, 2 .. min(1000, agents - 1)",
          "`k_out`: out-degree. `watts_strogatz`: degree of the ring lattice (k / 2 neighbours "
          "on each side). Only with these two types."},
         by("read_network_parameters"),
         Variants{{"k_out", "watts_strogatz"}}},
        {{"mean_degree", "number", "agents", "`10`", "[0, agents - 1]",
          "Expected degree; only with `type: erdos_renyi`."},
         by("read_mean_degree"),
         Variants{{"erdos_renyi"}}},
        {{"rewire_probability", "number", "probability", "`0.1`", "[0, 1]",
          "Probability that each lattice edge is rewired; only with `type: watts_strogatz`."},
         number(&NetworkSpec::rewire_probability, Range::closed(0, 1)),
         Variants{{"watts_strogatz"}}},
        {{"m", "int", "edges", "`3`", "1 .. min(1000, agents - 1)",
          "Edges each new node attaches to existing nodes; only with `type: barabasi_albert`."},
         by("read_network_parameters"),
         Variants{{"barabasi_albert"}}},
        {{"degree", "distribution", "agents", "required", "",
          "Degree of each node; draws are rounded to integers, negative draws become 0. Only "
          "with `type: configuration`."},
         by("read_distribution"),
         Variants{{"configuration"}},
         Child{"distribution"}},
        {{"block_probability", "list of lists of numbers", "probability", "required",
          "each in [0, 1]; square, one row and one column per investor class in class order; "
          "symmetric (`a[i][j] == a[j][i]` exactly)",
          "Edge probability between an agent of class i and one of class j; with super-"
          "individuals (`accounts_per_agent`), per pair of accounts: two agents of weights w_i, "
          "w_j are linked with probability 1 - (1 - p)^(w_i w_j). Only with `type: "
          "stochastic_block`."},
         by("read_block_matrix"),
         Variants{{"stochastic_block"}}},
        {{"file", "path", "", "required", "",
          "The edge list (below). Only with `type: edge_list`."},
         by("read_edge_list"),
         Variants{{"edge_list"}}},
        {{"directed", "bool", "", "`false`", "",
          "`true`: a line `a b` means a observes b (b is a's neighbour, not the reverse); "
          "`false`: a and b observe each other. Only with `type: edge_list`."},
         plain(&NetworkSpec::directed),
         Variants{{"edge_list"}}},
        {{"self_loops", one_of(kSelfLoopsNames), "", "`reject`", "",
          "An edge from an agent to itself is an error (`reject`) or is skipped (`drop`). Only "
          "with `type: edge_list`."},
         by("read_edge_list"),
         Variants{{"edge_list"}}},
    },
    "type",
    names_of(kNetworkKindNames)};

const Section<StressSpec> kStress{
    "stress",
    {
        {{"news_weight", "number", "", "`0`", "any", "beta_news: weight of the news signal."},
         number(&StressSpec::news_weight, Range::any())},
        {{"peer_weight", "number", "", "`0`", "any",
          "beta_peer: weight of the share of peers that have withdrawn."},
         number(&StressSpec::peer_weight, Range::any())},
        {{"flow_weight", "number", "", "`0`", "any",
          "beta_flow: weight of the recent outflow of the agent's account institution, as a "
          "share of its deposits."},
         number(&StressSpec::flow_weight, Range::any())},
        {{"carry", "number", "", "`0`", "[0, 1]", "Weight of the agent's previous stress."},
         number(&StressSpec::carry, Range::closed(0, 1))},
        {{"peer_lag_ticks", "int", "ticks", "`0`", "0 .. 100,000",
          "L: peers are seen as they were at the end of tick t-1-L."},
         integer(&StressSpec::peer_lag_ticks, 0, 100'000)},
        {{"flow_window_ticks", "int", "ticks", "`0`", "0 .. 100,000",
          "W: outflow over the last W ticks; 0 = since the start."},
         integer(&StressSpec::flow_window_ticks, 0, 100'000)},
        {{"peer_balance_weighted", "bool", "", "`false`", "",
          "`true`: in the peer signal P_i each neighbour counts with its initial claim c_j(0), "
          "so P_i is the share of the neighbours' initial balances (not of their number) whose "
          "holders have decided to withdraw."},
         plain(&StressSpec::peer_balance_weighted)},
        {{"peer_measure", one_of(kPeerMeasureNames), "", "`share`",
          "not `count` with "
          "`peer_balance_weighted: true`",
          "`share`: P_i is the share of the agent's neighbours (on the complete graph: of all "
          "other agents) seen to have decided to withdraw, m_i / d_i. `count`: P_i is their "
          "number m_i, so that with `peer_weight: 1` a threshold theta_i is a count of others "
          "(Granovetter's \"joins once k others have\": theta_i = k with `decision.comparison: "
          "at_least`, or k - 0.5 with the strict default)."},
         by("read_stress")},
        {{"queue_weight", "number", "", "`0`", "any",
          "beta_queue: weight of Q, the waiting time in days of the oldest unpaid withdrawal "
          "request in the queue of the agent's account institution (at the end of the previous "
          "tick; 0 when the queue is empty)."},
         number(&StressSpec::queue_weight, Range::any())},
        {{"price_weight", "number", "", "`0`", "any",
          "beta_price: multiplies the price signal X, the drawdown of the own token of the "
          "agent's account institution at the end of the previous tick (X = 1 − P / highest P so "
          "far; see `institutions[k].assets[i]`). X is 0 when that institution has no asset with "
          "`own_token: true`."},
         number(&StressSpec::price_weight, Range::any())},
    }};

const Section<DecisionSpec> kDecision{
    "decision",
    {
        {{"rule", one_of(kDecisionRuleNames), "", "`threshold`", "",
          "`threshold`: the agent decides when S_i exceeds its threshold theta_i (see "
          "`comparison`). `hazard`: each "
          "tick, it decides with probability hazard_rate * Phi((S_i - theta_i) / temperature), "
          "Phi the standard normal CDF."},
         by("read_decision")},
        {{"comparison", one_of(kComparisonNames), "", "`greater`", "",
          "`greater`: the agent decides when S_i > theta_i (strictly: S_i equal to theta_i does "
          "not decide). `at_least`: when S_i >= theta_i (with `stress.peer_measure: count`, "
          "theta_i = k means \"once k others have\"; theta_i = 0 decides at tick 0). Only with "
          "`rule: threshold`."},
         by("read_decision"),
         Variants{{"threshold"}}},
        {{"hazard_rate", "number", "probability per tick", "`1`", "(0, 1]",
          "h0: the probability per tick when S_i is far above theta_i. Only with `rule: "
          "hazard`."},
         number(&DecisionSpec::hazard_rate, Range::open_closed(0, 1)),
         Variants{{"hazard"}}},
        {{"temperature", "number", "stress", "`0.1`", "> 0",
          "T: how gradual the hazard is around the threshold (small: close to the threshold "
          "rule). Only with `rule: hazard`."},
         number(&DecisionSpec::temperature, Range::above(0)),
         Variants{{"hazard"}}},
    },
    "rule",
    names_of(kDecisionRuleNames)};

const Section<NewsEvent> kNewsEvent{
    "news[i]",
    {
        {{"label", "string", "", "`news <i>`", "",
          "Shown in output; `<i>` is the index in the file."},
         by("read_news_event")},
        {{"tick", "int", "ticks", "", "0 .. 2,147,483,646",
          "Tick of the event. Exactly one of `tick` and `at` is required."},
         by("read_news_event")},
        {{"at", "timestamp", "UTC", "", "not before `time.start`",
          "Time of the event; tick = floor((at - start) / tick_hours)."},
         by("read_news_event")},
        {{"magnitude", "number", "stress", "required", "any", "A_j; negative values reassure."},
         number(&NewsEvent::magnitude, Range::any())},
        {{"decay_ticks", "number", "ticks", "unset (no decay)", "> 0",
          "tau_j: the contribution is magnitude * exp(-(t - tick) / decay_ticks)."},
         number(&NewsEvent::decay_ticks, Range::above(0))},
        {{"duration_ticks", "int", "ticks", "unset (forever)", "1 .. 2,147,483,647",
          "The event contributes for this many ticks from `tick`."},
         integer(&NewsEvent::duration_ticks, 1, kForever)},
        {{"reach", "number", "probability", "`1`", "[0, 1]",
          "Probability that the event reaches a given agent."},
         number(&NewsEvent::reach, Range::closed(0, 1))},
        {{"institution", "string (institution name)", "", "unset (every agent)",
          "a name in `institutions`",
          "Target: only the depositors of this institution (agents whose account is there) feel "
          "the event."},
         by("read_news_event")},
    }};

const Section<NewsProcessSpec> kNewsProcess{
    "news_process",
    {
        {{"rate_per_tick", "number", "events per tick", "required", ">= 0",
          "Poisson mean number of events per tick (0: none)."},
         number(&NewsProcessSpec::rate_per_tick, Range::at_least(0))},
        {{"magnitude", "distribution", "stress", "required", "",
          "A_j of each event; negative draws reassure."},
         by("read_distribution"),
         Child{"distribution"}},
        {{"decay_ticks", "number", "ticks", "unset (no decay)", "> 0",
          "tau: each event contributes magnitude * exp(-(t - tick) / decay_ticks)."},
         number(&NewsProcessSpec::decay_ticks, Range::above(0))},
        {{"duration_ticks", "int", "ticks", "unset (forever)", "1 .. 2,147,483,647",
          "Each event contributes for this many ticks."},
         integer(&NewsProcessSpec::duration_ticks, 1, kForever)},
        {{"reach", "number", "probability", "`1`", "[0, 1]",
          "Probability that an event reaches a given agent."},
         number(&NewsProcessSpec::reach, Range::closed(0, 1))},
        {{"start_tick", "int", "ticks", "`0`", "0 .. 2,147,483,646",
          "First tick in which events can occur. At most one of `start_tick` and `start`."},
         by("read_news_process")},
        {{"start", "timestamp", "UTC", "", "not before `time.start`",
          "The same as a time: events can occur from the tick containing it."},
         by("read_news_process")},
        {{"end_tick", "int", "ticks", "unset (forever)", "> start_tick, at most 2,147,483,647",
          "Events occur in ticks before this one (exclusive end). At most one of `end_tick` and "
          "`end`."},
         by("read_news_process")},
        {{"end", "timestamp", "UTC", "", "not before `time.start`; its tick > start_tick",
          "The same as a time: end_tick is the tick containing it, so no events occur in that "
          "tick or later."},
         by("read_news_process")},
        {{"institution", "string (institution name)", "", "unset (every agent)",
          "a name in `institutions`",
          "Target of every event: only the depositors of this institution feel them (as "
          "`news[i].institution`)."},
         by("read_news_process")},
    }};

const Section<InstitutionSpec> kInstitution{
    "institutions[k]",
    {
        {{"name", "name", "", code(kDefaultInstitutionName),
          "unique among the institutions; not `self_custody`; not only dots (`.`, `..`)",
          "Name of the institution (it names the institution's group in the output file). With "
          "several institutions, at most one may leave it unset."},
         by("read_institution_names")},
        {{"hot_reserve_fraction", "number", "share of deposits", "`1`", "[0, 100]",
          "Hot (payable) reserves at tick 0, as a share of the initial deposits."},
         number(&InstitutionSpec::hot_reserve_fraction, Range::closed(0, 100))},
        {{"cold_reserve_fraction", "number", "share of deposits", "`0`", "[0, 100]",
          "Cold reserves at tick 0, as a share of the initial deposits: they pay no one "
          "directly, but move to the hot reserves when the queue needs them (below)."},
         number(&InstitutionSpec::cold_reserve_fraction, Range::closed(0, 100))},
        {{"illiquid_fraction", "number", "share of deposits", "`0`", "[0, 100]",
          "Illiquid assets at tick 0 (loans and the like), as a share of the initial deposits. "
          "They count towards equity at par and pay no one, unless sold early "
          "(`illiquid_liquidation_value`) or paid out at the final date (`final_payout`); market "
          "assets that can be sold (the institution's own token, other crypto assets) go in "
          "`assets`."},
         number(&InstitutionSpec::illiquid_fraction, Range::closed(0, 100))},
        {{"cold_to_hot_per_tick_usd", "number", "USD per tick", "unset (unlimited)",
          "(0, 1e14], at least one cent",
          "The most that can be moved from cold to hot reserves in one tick; stored in cents "
          "(rounded)."},
         usd(&InstitutionSpec::cold_to_hot_per_tick, true)},
        {{"cold_delay_ticks", "int", "ticks", "`0`", "0 .. 100,000",
          "How long a transfer from cold reserves takes: money moved in tick t arrives in the "
          "hot reserves in tick t + cold_delay_ticks (0: in the same tick, before that tick's "
          "payments)."},
         integer(&InstitutionSpec::cold_delay_ticks, 0, 100'000)},
        {{"max_payout_per_tick_usd", "number", "USD per tick", "unset (unlimited)",
          "(0, 1e14], at least one cent", "Payout throughput; stored in cents (rounded)."},
         usd(&InstitutionSpec::max_payout_per_tick, true)},
        {{"opening_hours", "mapping", "", "always open (24/7)", "",
          "When it pays its cash queue and moves cold reserves to hot (below). Closed, requests "
          "wait; cold funds already on their way still arrive."},
         by("read_opening_hours"),
         Child{"opening_hours"}},
        {{"illiquid_liquidation_value", "number", "USD per USD of book", "`0`", "[0, 1]",
          "ell: early liquidation of the illiquid assets. When hot and cold reserves and market "
          "assets cannot pay a tick's queue, illiquid book is sold for ell per unit (a loss of "
          "1 - ell per unit sold) to pay it; 0: never sold (they pay no one before the final "
          "date)."},
         number(&InstitutionSpec::illiquid_liquidation_value, Range::closed(0, 1))},
        {{"final_payout", "bool", "", "`false`",
          "not with `assets` or `exposures` (on either side), nor with classes that have "
          "`destinations`",
          "`true`: the run's last tick is the final date (Diamond-Dybvig's T = 2). At its end the "
          "illiquid assets mature (worth `illiquid_final_return` per unit of book) and everything "
          "the institution holds is paid out to its depositors pro rata to their remaining "
          "claims, queued or not, even when halted: they share the surplus (payoff above par) "
          "or the shortfall (the rest of their claims is written off). Payoffs are recorded "
          "(output/README.md, `summary/payoffs`)."},
         plain(&InstitutionSpec::final_payout)},
        {{"illiquid_final_return", "number", "USD per USD of book", "`1`",
          "[0, 1000]; only with "
          "`final_payout: true`",
          "R: what one unit of illiquid book is worth at the final date."},
         number(&InstitutionSpec::illiquid_final_return, Range::closed(0, 1000))},
        {{"halt", "mapping (trigger)", "", "none (never halts)", "",
          "When convertibility is suspended (below). With `withdrawn_fraction_at_least` f the "
          "halt is exact: the payments of a tick stop once the net withdrawn share reaches f "
          "(the request reached then is paid in part), and the institution halts in that "
          "tick."},
         by("read_halt"),
         Child{"trigger"}},
        {{"policies", "list", "", "`[]`", "at most 64 items",
          "Interventions, each fired once when its trigger is met (below)."},
         by("read_policies"),
         Child{"institutions[k].policies[i]"}},
        {{"assets", "list", "", "`[]`", "at most 32 items",
          "Market assets (below), in liquidation order: fire sales sell the first asset first."},
         by("read_assets"),
         Child{"institutions[k].assets[i]"}},
        {{"exposures", "list", "", "`[]`", "at most 64 items",
          "Claims of this institution on other institutions (below)."},
         by("read_exposures"),
         Child{"institutions[k].exposures[j]"}},
    }};

const Section<Trigger> kTrigger{
    "trigger",
    {
        {{"at_tick", "int", "ticks", "unset", "0 .. 2,147,483,646",
          "Fire at the start of this tick. At most one of `at_tick` and `at`."},
         by("read_trigger")},
        {{"at", "timestamp", "UTC", "unset", "not before `time.start`",
          "Fire at the start of the tick containing this time."},
         by("read_trigger")},
        {{"withdrawn_fraction_at_least", "number", "share of deposits", "unset", "(0, 1]",
          "Fire once this share of the initial deposits has been withdrawn (net of "
          "re-deposits)."},
         number(&Trigger::withdrawn_fraction_at_least, Range::open_closed(0, 1))},
        {{"hot_ratio_below", "number", "ratio", "unset", "(0, 1]",
          "Fire once the hot reserves fall below this share of the remaining deposits."},
         number(&Trigger::hot_ratio_below, Range::open_closed(0, 1))},
        {{"liquid_ratio_below", "number", "ratio", "unset", "(0, 1]",
          "Fire once everything that could still pay depositors — hot, cold and in-transit "
          "reserves and market assets at their current prices — falls below this share of the "
          "remaining deposits."},
         number(&Trigger::liquid_ratio_below, Range::open_closed(0, 1))},
        {{"when_insolvent", "bool", "", "`false`", "",
          "Fire once the institution is insolvent (equity < 0, see above)."},
         plain(&Trigger::when_insolvent)},
        {{"when_insolvent_at_market", "bool", "", "`false`", "",
          "Fire once the institution's equity at market (securities held to maturity at their "
          "market price, not at book) is negative: the solvency signal of unrealised losses."},
         plain(&Trigger::when_insolvent_at_market)},
    }};

const Section<AssetSpec> kAsset{
    "institutions[k].assets[i]",
    {
        {{"name", "name", "", "required",
          "letters, digits, `_`, `.`, `-`; unique among the assets; not `USD`",
          "Name of the asset (shown in output; a class's `portfolio` names it). `USD` is "
          "reserved for US dollars."},
         by("read_asset")},
        {{"holding_fraction", "number", "share of deposits", "required", "[0, 100]",
          "Value held at tick 0, as a share of the initial deposits."},
         number(&AssetSpec::holding_fraction, Range::closed(0, 100))},
        {{"price_usd", "number", "USD per unit", "`1`", "(0, 1e9]", "P(0): the price at tick 0."},
         number(&AssetSpec::price_usd, Range::open_closed(0, 1e9))},
        {{"drift_per_day", "number", "per day", "`0`", "any",
          "mu: drift of the geometric Brownian motion."},
         number(&AssetSpec::drift_per_day, Range::any())},
        {{"volatility_per_day", "number", "per day", "`0`", "[0, 10]",
          "sigma: volatility of the geometric Brownian motion; it also scales the price impact "
          "of sales."},
         number(&AssetSpec::volatility_per_day, Range::closed(0, 10))},
        {{"daily_volume_usd", "number", "USD per day", "`1e9`", "(0, 1e15]",
          "Market depth: the daily traded volume, converted to units at the tick-0 price."},
         number(&AssetSpec::daily_volume_usd, Range::open_closed(0, 1e15))},
        {{"impact", "number", "", "`0.5`", "[0, 10]",
          "Y: the constant of the square-root impact law."},
         number(&AssetSpec::impact, Range::closed(0, 10))},
        {{"permanent_share", "number", "", "`0.5`", "[0, 1]",
          "Share of a sale's impact that stays in the price (the rest is temporary: it only "
          "lowers that sale's execution price)."},
         number(&AssetSpec::permanent_share, Range::closed(0, 1))},
        {{"outflow_drift", "number", "", "`0`", "[0, 1000]",
          "kappa: extra fall of the own token with the institution's net outflow (below). Only "
          "used with `own_token: true`."},
         number(&AssetSpec::outflow_drift, Range::closed(0, 1000))},
        {{"own_token", "bool", "", "`false`", "at most one asset",
          "`true`: this is the institution's own token; its drawdown is the price signal X in "
          "the stress equation of the institution's depositors."},
         plain(&AssetSpec::own_token)},
        {{"price_file", "string (path)", "", "none", "a CSV file",
          "An exogenous price path instead of the geometric Brownian motion: rows "
          "`TIMESTAMP,PRICE` (timestamps in the scenario formats, strictly increasing; prices > "
          "0; an optional header row). From the tick a row's time falls in, the market price is "
          "that value (rows before `time.start` apply from tick 0; the last row of a tick wins). "
          "Sales' permanent impact and the own token's outflow drift still multiply it. Resolved "
          "like other data files (relative to the scenario's folder); errors name the CSV file "
          "and line. `price_usd` values the holding at tick 0: give it the series' first "
          "price."},
         by("read_price_file")},
        {{"duration_years", "number", "years", "unset", "[0, 100]; with `rate_path`",
          "D: modified duration of a bond holding. With `rate_path`, the market price follows "
          "P(t) = price_usd * max(0, 1 - D * (r(t) - r(0))), the first-order (duration) "
          "approximation."},
         by("read_rate_path")},
        {{"rate_path", "list of mappings", "", "none",
          "`{tick: T, change_pct: x}` or `{at: "
          "TIME, change_pct: x}`: T >= 1 (tick 0 is valued at `price_usd`), increasing; x in "
          "[-100, 100]; not with `price_file`",
          "The market rate's change since tick 0, in percentage points, from each listed tick "
          "on (0 before the first): e.g. `[{at: 2022-03-16, change_pct: 0.25}, ...]`. Needs "
          "`duration_years`."},
         by("read_rate_path")},
        {{"held_to_maturity", "bool", "", "`false`", "",
          "`true`: carried at amortised cost (book: its tick-0 value) in equity, not at market "
          "(held-to-maturity accounting); the unrealised loss (book - market) shows in the "
          "output's `unrealised_loss` and `equity_at_market`, and in the trigger "
          "`when_insolvent_at_market`. A fire sale realises it: the realised loss is measured "
          "against book."},
         plain(&AssetSpec::held_to_maturity)},
        {{"news_per_realised_loss", "number", "", "`0`", ">= 0",
          "The first tick in which sales of this asset realise a loss L (against its carrying "
          "value) is announced to the institution's depositors from the next tick: a news "
          "event of magnitude news_per_realised_loss * L / deposits (no decay)."},
         number(&AssetSpec::news_per_realised_loss, Range::at_least(0))},
        {{"hot_share", "number", "share of the units", "`1`", "[0, 1]",
          "Share of the holding's units that is *hot* (in hot wallets): payable to customers in "
          "kind and sellable now."},
         number(&AssetSpec::hot_share, Range::closed(0, 1))},
        {{"cold_share", "number", "share of the units", "`0`",
          "[0, 1]; hot_share + cold_share <= 1",
          "Share of the units in cold storage: moved to hot when this asset's queue needs them "
          "(below). The rest, 1 − hot_share − cold_share, is illiquid (lent out): valued at the "
          "price, never sold or paid out."},
         number(&AssetSpec::cold_share, Range::closed(0, 1))},
        {{"cold_to_hot_units_per_tick", "number", "units of the asset per tick",
          "unset (unlimited)", "> 0", "The most units moved from cold to hot in one tick."},
         number(&AssetSpec::cold_to_hot_units_per_tick, Range::above(0))},
        {{"cold_delay_ticks", "int", "ticks", "`0`", "0 .. 100,000",
          "How long a move from cold takes: units moved in tick t arrive in hot in tick t + "
          "cold_delay_ticks (0: in the same tick, before paying)."},
         integer(&AssetSpec::cold_delay_ticks, 0, 100'000)},
        {{"max_payout_per_tick_usd", "number", "USD per tick", "unset (unlimited)",
          "(0, 1e14], at least one cent",
          "Payout throughput of this asset's queue: the most value paid in kind in one tick "
          "(units at the current price); stored in cents (rounded)."},
         usd(&AssetSpec::max_payout_per_tick, true)},
        {{"opening_hours", "mapping", "", "always open (24/7)", "",
          "When this asset's queue is paid in kind and its cold units move (below): e.g. a "
          "stablecoin whose redemptions wait for its banks to open."},
         by("read_opening_hours"),
         Child{"opening_hours"}},
    }};

const Section<PolicySpec> kPolicy{
    "institutions[k].policies[i]",
    {
        {{"kind", "string", "", "required", listed(kPolicyKindNames),
          "What the policy does (below)."},
         by("read_policy")},
        {{"label", "string", "", "`<kind> <i>`", "",
          "Shown in output; `<i>` is the index in the list (e.g. `gate 2`)."},
         by("read_policy")},
        {{"when", "mapping (trigger)", "", "required", "at least one condition set",
          "When the policy fires (triggers, above)."},
         by("read_trigger"),
         Child{"trigger"}},
        {{"amount_usd", "number", "USD", "required", "(0, 1e14], at least one cent",
          "Amount injected into the hot reserves; stored in cents (rounded). "
          "`lender_of_last_resort`: a loan (equity unchanged); `capital_raise`: new equity."},
         usd(&PolicySpec::injection, true),
         Variants{{"lender_of_last_resort", "capital_raise"}}},
        {{"magnitude", "number", "stress", "`-0.2`", "<= 0",
          "A_j of the event: negative values reassure (0: no effect)."},
         number(&PolicySpec::news_magnitude, Range::at_most(0)),
         Variants{{"proof_of_reserves"}}},
        {{"magnitude", "number", "stress", "`0`", "any",
          "A_j of the announcement of the raise, to the institution's depositors: positive "
          "alarms (a raise that reveals losses, as SVB's of 8 Mar 2023), negative reassures."},
         by("read_policy"),
         Variants{{"capital_raise"}}},
        {{"decay_ticks", "number", "ticks", "unset (no decay)", "> 0",
          "tau: the event contributes magnitude * exp(-(t - fire tick) / decay_ticks)."},
         number(&PolicySpec::news_decay_ticks, Range::above(0)),
         Variants{{"proof_of_reserves", "capital_raise"}}},
        {{"duration_ticks", "int", "ticks", "unset (forever)", "1 .. 2,147,483,647",
          "The event contributes for this many ticks."},
         integer(&PolicySpec::news_duration_ticks, 1, kForever),
         Variants{{"proof_of_reserves", "capital_raise"}}},
        {{"reach", "number", "probability", "`1`", "[0, 1]",
          "Probability that the event reaches a given depositor."},
         number(&PolicySpec::news_reach, Range::closed(0, 1)),
         Variants{{"proof_of_reserves", "capital_raise"}}},
        {{"coverage_usd", "number", "USD per depositor", "required", "[0, 1e14]",
          "Insured amount of each depositor's claim; stored in cents (rounded). 0 insures "
          "nothing."},
         usd(&PolicySpec::coverage, false),
         Variants{{"deposit_insurance"}}},
        {{"insured_stress_factor", "number", "", "`0`", "[0, 1]",
          "How much stress the insured share of a claim still carries."},
         number(&PolicySpec::insured_stress_factor, Range::closed(0, 1)),
         Variants{{"deposit_insurance"}}},
        {{"fraction_per_day", "number", "share of the claim", "required", "(0, 1]",
          "The most a depositor may ask for in one day (1: the whole claim, once a day)."},
         number(&PolicySpec::gate_fraction, Range::open_closed(0, 1)),
         Variants{{"gate"}}},
    },
    "kind",
    names_of(kPolicyKindNames),
    DocLayout::kTablePerVariant};

const Section<ExposureSpec> kExposure{
    "institutions[k].exposures[j]",
    {
        {{"to", "string (institution name)", "", "required",
          "another institution's name (not the creditor's own); it may be listed later",
          "The debtor."},
         by("read_exposure")},
        {{"amount_usd", "number", "USD", "required", "(0, 1e14], at least one cent",
          "Face value of the claim; stored in cents (rounded)."},
         usd(&ExposureSpec::amount, true)},
        {{"loss_given_default", "number", "share of the face value", "`1`", "[0, 1]",
          "Share of the face value written down when the debtor defaults."},
         number(&ExposureSpec::loss_given_default, Range::closed(0, 1))},
        {{"news_per_loss", "number", "stress", "`0`", ">= 0",
          "Magnitude of the news event the creditor's depositors get per unit of (write-down / "
          "creditor's deposits at that moment); 0: the write-down makes no news."},
         number(&ExposureSpec::news_per_loss, Range::at_least(0))},
        {{"news_decay_ticks", "number", "ticks", "unset (no decay)", "> 0",
          "tau of that news event (as `news[i].decay_ticks`)."},
         number(&ExposureSpec::news_decay_ticks, Range::above(0))},
        {{"news_duration_ticks", "int", "ticks", "unset (forever)", "1 .. 2,147,483,647",
          "How many ticks that news event contributes (as `news[i].duration_ticks`)."},
         integer(&ExposureSpec::news_duration_ticks, 1, kForever)},
        {{"news_reach", "number", "probability", "`1`", "[0, 1]",
          "Probability that the news event reaches a given depositor of the creditor (as "
          "`news[i].reach`)."},
         number(&ExposureSpec::news_reach, Range::closed(0, 1))},
    }};

const Section<OutputSpec> kOutput{
    "output",
    {
        {{"stress_quantiles", "list of numbers", "probability", "`[0.1, 0.5, 0.9]`",
          "each in [0, 1], strictly increasing, at most 16 items (`[]`: none)",
          "Quantiles of the agents' stress recorded per class and per tick."},
         by("read_output")},
        {{"snapshot_ticks", "list of ints", "ticks", "`[]`",
          "each in 0 .. time.ticks - 1, strictly increasing",
          "Per-agent snapshots are written at the end of these ticks. At most one of "
          "`snapshot_ticks` and `snapshot_at`."},
         by("read_output")},
        {{"snapshot_at", "list of timestamps", "UTC", "",
          "each not before `time.start`, in a tick < time.ticks; strictly increasing ticks",
          "The same as times: each is converted to the tick containing it (as `news[i].at`); two "
          "times in the same tick are an error."},
         by("read_output")},
        {{"snapshot_agents", "int", "agents", "min(1000, population.agents)",
          "1 .. population.agents",
          "m: number of agents in each snapshot, agents floor(k * agents / m) for k = 0 .. m - 1 "
          "(spread evenly over the ids, so over the classes)."},
         by("read_output")},
    }};

}  // namespace

const Section<Scenario>& scenario_section() {
  return kScenario;
}
const Section<TimeSpec>& time_section() {
  return kTime;
}
const Section<PopulationSpec>& population_section() {
  return kPopulation;
}
const Section<InvestorClass>& class_section() {
  return kClass;
}
const Section<Distribution>& distribution_section() {
  return kDistribution;
}
const Section<NetworkSpec>& network_section() {
  return kNetwork;
}
const Section<StressSpec>& stress_section() {
  return kStress;
}
const Section<DecisionSpec>& decision_section() {
  return kDecision;
}
const Section<NewsEvent>& news_event_section() {
  return kNewsEvent;
}
const Section<NewsProcessSpec>& news_process_section() {
  return kNewsProcess;
}
const Section<InstitutionSpec>& institution_section() {
  return kInstitution;
}
const Section<Trigger>& trigger_section() {
  return kTrigger;
}
const Section<AssetSpec>& asset_section() {
  return kAsset;
}
const Section<PolicySpec>& policy_section() {
  return kPolicy;
}
const Section<ExposureSpec>& exposure_section() {
  return kExposure;
}
const Section<OutputSpec>& output_section() {
  return kOutput;
}
const Section<CalendarSpec>& calendar_section() {
  return kCalendar;
}
const Section<OpeningHours>& opening_hours_section() {
  return kOpeningHours;
}

// ---- The reference --------------------------------------------------------------------------

const std::vector<DocSection>& reference() {
  static const std::vector<DocSection> sections = {
      doc_view(scenario_section()),     doc_view(time_section()),
      doc_view(population_section()),   doc_view(class_section()),
      doc_view(distribution_section()), doc_view(network_section()),
      doc_view(stress_section()),       doc_view(decision_section()),
      doc_view(news_event_section()),   doc_view(news_process_section()),
      doc_view(institution_section()),  doc_view(trigger_section()),
      doc_view(asset_section()),        doc_view(policy_section()),
      doc_view(exposure_section()),     doc_view(opening_hours_section()),
      doc_view(calendar_section()),     doc_view(output_section()),
  };
  return sections;
}

const DocSection* find_section(std::string_view id) {
  for (const DocSection& s : reference())
    if (s.id == id) return &s;
  return nullptr;
}

// ---- --set paths ----------------------------------------------------------------------------

namespace {

const DocRow* find_row(const DocSection& section, std::string_view key) {
  for (const DocRow& row : section.rows)
    if (row.doc.key == key) return &row;
  return nullptr;
}

std::vector<std::string> keys_of(const DocSection& section) {
  std::vector<std::string> keys;
  for (const DocRow& row : section.rows)
    if (std::find(keys.begin(), keys.end(), row.doc.key) == keys.end()) keys.push_back(row.doc.key);
  return keys;
}

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

}  // namespace

void check_override_path(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) return;
  const auto steps = yaml_reader::parse_path(trimmed(std::string_view(text).substr(0, eq)));
  if (!steps) return;
  const DocSection* section = find_section("scenario");
  bool in_list = false;  // the value at `path` is a list of `section` items
  std::string path;
  for (std::size_t i = 0; i + 1 < steps->size() && section != nullptr; ++i) {
    const yaml_reader::PathStep& step = (*steps)[i];
    if (in_list) {
      if (!step.number) return;  // apply_override reports it
      path = yaml_reader::index_path(path, *step.number);
      in_list = false;
      continue;
    }
    if (step.is_index) return;
    const DocRow* row = find_row(*section, step.key);
    if (row == nullptr)
      throw ScenarioError("--set " + text, 0, 0, yaml_reader::child_path(path, step.key),
                          "unknown key '" + step.key + "' " + yaml_reader::location(path) + "; " +
                              yaml_reader::suggestion(step.key, keys_of(*section)));
    path = yaml_reader::child_path(path, step.key);
    section = row->child.empty() ? nullptr : find_section(row->child);
    in_list = !row->child.empty() && row->child.back() == ']';
  }
}

// ---- Markdown -------------------------------------------------------------------------------

namespace {

std::string table_row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const std::string& cell : cells) line += cell.empty() ? " |" : " " + cell + " |";
  return line + "\n";
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = table_row(header) + "|";
  for (std::size_t i = 0; i < header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : rows) out += table_row(row);
  return out;
}

std::vector<std::string> standard_cells(const KeyDoc& d) {
  return {"`" + d.key + "`", d.type, d.unit, d.default_text, d.range, d.meaning};
}

const std::vector<std::string> kStandardHeader = {"key",     "type",  "unit",
                                                  "default", "range", "meaning"};

}  // namespace

std::vector<MarkdownTable> markdown_tables() {
  std::vector<MarkdownTable> out;
  for (const DocSection& s : reference()) {
    std::vector<std::vector<std::string>> rows;
    switch (s.layout) {
      case DocLayout::kTable:
        for (const DocRow& r : s.rows) rows.push_back(standard_cells(r.doc));
        out.push_back({s.id, table(kStandardHeader, rows)});
        break;
      case DocLayout::kVariantColumn:
        for (const DocRow& r : s.rows) {
          const std::string variants =
              r.variants.empty() ? "all" : yaml_reader::join(r.variants) + r.variant_note;
          rows.push_back({"`" + r.doc.key + "`", r.doc.type, r.doc.default_text, r.doc.range,
                          variants, r.doc.meaning});
        }
        out.push_back(
            {s.id, table({"key", "type", "default", "range", "for `" + s.selector + "`", "meaning"},
                         rows)});
        break;
      case DocLayout::kTablePerVariant:
        for (const DocRow& r : s.rows)
          if (r.variants.empty()) rows.push_back(standard_cells(r.doc));
        out.push_back({s.id, table(kStandardHeader, rows)});
        for (const std::string& variant : s.variant_names) {
          rows.clear();
          for (const DocRow& r : s.rows)
            if (!r.variants.empty() &&
                std::find(r.variants.begin(), r.variants.end(), variant) != r.variants.end())
              rows.push_back(standard_cells(r.doc));
          out.push_back({s.id + " " + s.selector + ": " + variant, table(kStandardHeader, rows)});
        }
        break;
    }
  }
  return out;
}

std::string rewrite_reference(const std::string& readme) {
  const std::string open = "<!-- schema:", close = "<!-- /schema -->";
  const std::vector<MarkdownTable> tables = markdown_tables();
  std::vector<bool> used(tables.size(), false);
  std::string out;
  std::size_t pos = 0;
  for (std::size_t start; (start = readme.find(open, pos)) != std::string::npos;) {
    const std::size_t id_end = readme.find(" -->\n", start);
    if (id_end == std::string::npos)
      throw std::runtime_error("unterminated marker at offset " + std::to_string(start));
    const std::string id = readme.substr(start + open.size(), id_end - start - open.size());
    if (id.find('\n') != std::string::npos || (start > 0 && readme[start - 1] != '\n'))
      throw std::runtime_error("a marker must be a line of its own: " + open + id + " -->");
    const std::size_t body = id_end + 5;
    const std::size_t end = readme.find(close, body);
    if (end == std::string::npos) throw std::runtime_error("no " + close + " after schema:" + id);
    std::size_t k = 0;
    while (k < tables.size() && tables[k].id != id) ++k;
    if (k == tables.size()) throw std::runtime_error("no schema table named '" + id + "'");
    if (used[k]) throw std::runtime_error("two markers for schema table '" + id + "'");
    used[k] = true;
    out += readme.substr(pos, body - pos) + tables[k].text;
    pos = end;
  }
  for (std::size_t k = 0; k < tables.size(); ++k)
    if (!used[k]) throw std::runtime_error("no marker <!-- schema:" + tables[k].id + " -->");
  return out + readme.substr(pos);
}

}  // namespace bankrun::schema
