#include "distribution.hpp"

#include "names.hpp"

#include <algorithm>
#include <boost/math/special_functions/beta.hpp>
#include <boost/random/beta_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <numeric>

namespace bankrun {

double Distribution::sample(std::uint64_t index, CounterRng& rng) const {
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
    case Kind::kPareto: {
      // Inversion: U uniform on (0, 1], x = scale * U^(-1/shape).
      const double u = 1.0 - rng.uniform01();
      x = scale * std::pow(u, -1.0 / shape);
      break;
    }
    case Kind::kBeta:
      x = low + (high - low) * boost::random::beta_distribution<double>(alpha, beta)(rng);
      break;
    case Kind::kEmpirical:
      if (!values.empty())
        x = values[boost::random::uniform_int_distribution<std::size_t>(0, values.size() - 1)(rng)];
      break;
    case Kind::kExact:
      if (!values.empty()) x = values[index % values.size()];
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
    case Kind::kPareto:
      return shape > 1.0 ? shape * scale / (shape - 1.0) : std::numeric_limits<double>::infinity();
    case Kind::kBeta:
      return low + (high - low) * alpha / (alpha + beta);
    case Kind::kEmpirical:
    case Kind::kExact:
      if (values.empty()) return value;
      return std::accumulate(values.begin(), values.end(), 0.0) /
             static_cast<double>(values.size());
  }
  return value;
}

double Distribution::cdf(double x) const {
  switch (kind) {
    case Kind::kConstant:
      return x >= value ? 1.0 : 0.0;
    case Kind::kUniform:
      if (high <= low) return x >= low ? 1.0 : 0.0;
      return std::clamp((x - low) / (high - low), 0.0, 1.0);
    case Kind::kNormal:
      return 0.5 * std::erfc(-(x - mean) / (sd * std::sqrt(2.0)));
    case Kind::kLognormal:
      if (x <= 0.0) return 0.0;
      return 0.5 * std::erfc(-(std::log(x) - mu) / (sigma * std::sqrt(2.0)));
    case Kind::kPareto:
      if (x < scale) return 0.0;
      return 1.0 - std::pow(scale / x, shape);
    case Kind::kBeta: {
      const double t = (x - low) / (high - low);
      if (t <= 0.0) return 0.0;
      if (t >= 1.0) return 1.0;
      return boost::math::ibeta(alpha, beta, t);
    }
    case Kind::kEmpirical:
    case Kind::kExact: {
      if (values.empty()) return x >= value ? 1.0 : 0.0;
      const auto below =
          std::count_if(values.begin(), values.end(), [x](double v) { return v <= x; });
      return static_cast<double>(below) / static_cast<double>(values.size());
    }
  }
  return 0.0;
}

std::string_view to_string(Distribution::Kind kind) {
  return name_of(kind);
}

}  // namespace bankrun
