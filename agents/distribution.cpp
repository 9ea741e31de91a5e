#include "distribution.hpp"

#include <algorithm>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

namespace bankrun {

double Distribution::sample(CounterRng& rng) const {
  double x = value;
  switch (kind) {
    case Kind::kConstant:
      break;
    case Kind::kUniform:
      x = boost::random::uniform_real_distribution<double>(low, high)(rng);
      break;
    case Kind::kNormal:
      x = boost::random::normal_distribution<double>(mean, sd)(rng);
      break;
    case Kind::kLognormal:
      x = boost::random::lognormal_distribution<double>(mu, sigma)(rng);
      break;
  }
  return std::clamp(x, clip_min, clip_max);
}

double Distribution::unclipped_mean() const {
  switch (kind) {
    case Kind::kConstant:
      return value;
    case Kind::kUniform:
      return 0.5 * (low + high);
    case Kind::kNormal:
      return mean;
    case Kind::kLognormal:
      return std::exp(mu + 0.5 * sigma * sigma);
  }
  return value;
}

std::string_view to_string(Distribution::Kind kind) {
  switch (kind) {
    case Distribution::Kind::kConstant:
      return "constant";
    case Distribution::Kind::kUniform:
      return "uniform";
    case Distribution::Kind::kNormal:
      return "normal";
    case Distribution::Kind::kLognormal:
      return "lognormal";
  }
  return "?";
}

}  // namespace bankrun
