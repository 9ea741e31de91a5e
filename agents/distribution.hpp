#pragma once
// Parametric distributions of agent attributes (balances, thresholds, ...), sampled with
// Boost.Random from a CounterRng. The scenario loader validates the parameters; sample()
// assumes they are valid.
#include <limits>
#include <string_view>

#include "rng.hpp"

namespace bankrun {

struct Distribution {
  enum class Kind { kConstant, kUniform, kNormal, kLognormal };

  Kind kind = Kind::kConstant;
  double value = 0.0;            // constant
  double low = 0.0, high = 1.0;  // uniform on [low, high)
  double mean = 0.0, sd = 1.0;   // normal
  double mu = 0.0, sigma = 1.0;  // lognormal: log X ~ Normal(mu, sigma)
  // Draws are clipped (not redrawn) to [clip_min, clip_max]; the reference model clips.
  double clip_min = -std::numeric_limits<double>::infinity();
  double clip_max = std::numeric_limits<double>::infinity();

  static Distribution constant(double v) {
    Distribution d;
    d.value = v;
    return d;
  }

  double sample(CounterRng& rng) const;
  // The mean before clipping (used for documentation and statistical tests).
  double unclipped_mean() const;
};

std::string_view to_string(Distribution::Kind kind);

}  // namespace bankrun
