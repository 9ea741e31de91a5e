#pragma once
// Parametric distributions of agent attributes (balances, thresholds, ...), sampled with
// Boost.Random from a CounterRng. The scenario loader validates the parameters; sample()
// assumes they are valid.
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace bankrun {

struct Distribution {
  enum class Kind { kConstant, kUniform, kNormal, kLognormal, kPareto, kBeta, kEmpirical, kExact };

  Kind kind = Kind::kConstant;
  double value = 0.0;               // constant
  double low = 0.0, high = 1.0;     // uniform on [low, high)
  double mean = 0.0, sd = 1.0;      // normal
  double mu = 0.0, sigma = 1.0;     // lognormal: log X ~ Normal(mu, sigma)
  double scale = 1.0, shape = 2.0;  // Pareto type I: P(X > x) = (scale / x)^shape, x >= scale
  double alpha = 1.0, beta = 1.0;   // beta on [low, high] (default [0, 1])
  // empirical: each value equally likely (bootstrap); exact: the k-th draw is
  // values[k mod size] (no randomness: the k-th agent of a class, node k, event k).
  std::vector<double> values;
  // Draws are clipped (not redrawn) to [clip_min, clip_max]; the reference model clips.
  double clip_min = -std::numeric_limits<double>::infinity();
  double clip_max = std::numeric_limits<double>::infinity();

  static Distribution constant(double v) {
    Distribution d;
    d.value = v;
    return d;
  }

  // The draw for item `index` (the agent's position in its class, the node, the event):
  // only `exact` reads the index; every other kind draws from `rng`.
  double sample(std::uint64_t index, CounterRng& rng) const;
  // The mean before clipping (used for documentation and statistical tests).
  double unclipped_mean() const;
  // The cumulative distribution function P(X <= x) before clipping (statistical tests).
  double cdf(double x) const;
  bool operator==(const Distribution&) const = default;
};

std::string_view to_string(Distribution::Kind kind);

}  // namespace bankrun
