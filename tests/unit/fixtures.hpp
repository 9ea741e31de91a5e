#pragma once
// Scenarios built in code for unit tests (the YAML loader has its own tests).
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/record.hpp"
#include "sim/scenario.hpp"

namespace bankrun::testing {

inline Distribution constant(double v) {
  return Distribution::constant(v);
}

inline Distribution normal(double mean, double sd, double lo = -1e300, double hi = 1e300) {
  Distribution d;
  d.kind = Distribution::Kind::kNormal;
  d.mean = mean;
  d.sd = sd;
  d.clip_min = lo;
  d.clip_max = hi;
  return d;
}

inline Distribution lognormal(double mu, double sigma) {
  Distribution d;
  d.kind = Distribution::Kind::kLognormal;
  d.mu = mu;
  d.sigma = sigma;
  return d;
}

// A class with constant noise and attention (the common case in these tests).
inline InvestorClass investor_class(std::string name, double share, Distribution balance,
                                    Distribution threshold, double noise_sd = 0.0,
                                    double attention = 1.0) {
  InvestorClass c;
  c.name = std::move(name);
  c.share = share;
  c.balance_usd = balance;
  c.threshold = threshold;
  c.noise_sd = constant(noise_sd);
  c.attention = constant(attention);
  return c;
}

// n agents of one class with a $100 balance and a constant threshold, no network, a constant news
// value `news` from tick `from` for `duration` ticks.
inline Scenario news_only_scenario(std::uint32_t n, double threshold, double news,
                                   std::int32_t ticks = 5, std::int32_t from = 0,
                                   std::int32_t duration = kForever) {
  Scenario s;
  s.name = "news-only";
  s.time.ticks = ticks;
  s.population.agents = n;
  s.population.classes = {investor_class("a", 1.0, constant(100), constant(threshold))};
  s.stress.news_weight = 1.0;
  NewsEvent e;
  e.tick = from;
  e.magnitude = news;
  e.duration_ticks = duration;
  s.news = {e};
  return s;
}

// The reference model of scenarios/bench/reference.yaml at n agents.
inline Scenario reference_scenario(std::uint32_t n, std::uint64_t seed = 1) {
  Scenario s;
  s.name = "reference";
  s.seed = seed;
  s.time.ticks = 100;
  s.population.agents = n;
  s.population.classes = {
      investor_class("all", 1.0, lognormal(8.0, 1.5), normal(0.5, 0.15, 0.0, 1.0), 0.05, 1.0)};
  s.network = NetworkSpec{};
  s.network.kind = NetworkSpec::Kind::kKOut;
  s.network.k = 10;
  s.network.mean_degree = 0.0;  // unused by k_out
  s.stress = {0.6, 0.6, 0, 0.5, 0, 0.0};
  NewsEvent e;
  e.label = "shock";
  e.tick = 10;
  e.magnitude = 0.35;
  e.duration_ticks = 5;
  s.news = {e};
  return s;
}

// A tick as most tests read it: the population-level record and the first institution's
// fields in one value (the two structs share no field name). Its spans are cleared.
struct TestTick : TickRecord, InstitutionTick {
  TestTick(const TickRecord& r, const InstitutionTick& in) : TickRecord(r), InstitutionTick(in) {
    TickRecord::institutions = {};
    classes = {};
    class_stress_quantiles = {};
    assets = {};
  }
};

// A Recorder that keeps everything in memory.
struct Collect : Recorder {
  std::vector<TestTick> ticks;
  std::vector<std::vector<InstitutionTick>> institutions;  // [tick][institution], spans cleared
  std::vector<std::vector<AssetTick>> assets;  // [tick]: every institution's assets, in order
  std::vector<std::vector<ClassTick>> classes;
  std::vector<std::vector<double>> quantiles;
  std::vector<std::pair<std::int32_t, std::vector<SnapshotRow>>> snapshots;
  void record(const TickRecord& r) override {
    ticks.emplace_back(r, r.institutions.front());
    institutions.emplace_back(r.institutions.begin(), r.institutions.end());
    assets.emplace_back();
    for (InstitutionTick& in : institutions.back()) {
      assets.back().insert(assets.back().end(), in.assets.begin(), in.assets.end());
      in.assets = {};
    }
    classes.emplace_back(r.classes.begin(), r.classes.end());
    quantiles.emplace_back(r.class_stress_quantiles.begin(), r.class_stress_quantiles.end());
  }
  void snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) override {
    snapshots.emplace_back(tick, std::vector<SnapshotRow>(rows.begin(), rows.end()));
  }
};

}  // namespace bankrun::testing
