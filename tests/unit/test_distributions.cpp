// Distributions: moments within 5 standard errors and Kolmogorov-Smirnov tests against
// Distribution::cdf for every kind; the KS test is shown to reject a wrong distribution.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "agents/distribution.hpp"

using namespace bankrun;

namespace {

constexpr std::uint32_t kDraws = 20000;

std::vector<double> draw(const Distribution& d, std::uint32_t n = kDraws, std::uint64_t seed = 42) {
  std::vector<double> x(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    CounterRng rng(seed, Stream::kClassThreshold, 0, i);
    x[i] = d.sample(i, rng);
  }
  return x;
}

// Kolmogorov-Smirnov distance sup_x |F_n(x) - F(x)|, exact also for step cdfs: at each
// distinct sample value v, compare F(v) with F_n(v) and F(v-) with F_n(v-).
double ks_distance(std::vector<double> x, const Distribution& d) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double dist = 0.0;
  for (std::size_t i = 0; i < x.size();) {
    std::size_t j = i;
    while (j < x.size() && x[j] == x[i]) ++j;
    const double below = d.cdf(std::nextafter(x[i], -std::numeric_limits<double>::infinity()));
    dist = std::max(dist, std::abs(d.cdf(x[i]) - j / n));
    dist = std::max(dist, std::abs(below - i / n));
    i = j;
  }
  return dist;
}

double ks_critical(std::size_t n) {
  return 1.95 / std::sqrt(static_cast<double>(n));
}

// Sample mean within 5 SE of `mean`, sample variance within 5 SE of `var` (the SE of the
// variance from the sample's fourth central moment).
void check_moments(const std::vector<double>& x, double mean, double var) {
  const double n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double m2 = 0, m4 = 0;
  for (const double v : x) {
    const double c = (v - m) * (v - m);
    m2 += c;
    m4 += c * c;
  }
  m2 /= n;
  m4 /= n;
  CHECK(std::abs(m - mean) <= 5 * std::sqrt(var / n) + 1e-12);
  CHECK(std::abs(m2 - var) <= 5 * std::sqrt(std::max(0.0, m4 - m2 * m2) / n) + 1e-12);
}

Distribution make(Distribution::Kind kind) {
  Distribution d;
  d.kind = kind;
  return d;
}

}  // namespace

TEST_CASE("KS distance rejects a wrong distribution") {
  Distribution shifted = make(Distribution::Kind::kNormal);
  shifted.mean = 0.1;
  const Distribution standard = make(Distribution::Kind::kNormal);
  const auto x = draw(shifted);
  CHECK(ks_distance(x, shifted) <= ks_critical(x.size()));
  CHECK(ks_distance(x, standard) > ks_critical(x.size()));
  // A heavier Pareto tail is told apart too.
  Distribution p = make(Distribution::Kind::kPareto);
  p.shape = 3.0;
  Distribution q = p;
  q.shape = 2.8;
  CHECK(ks_distance(draw(p), q) > ks_critical(kDraws));
}

TEST_CASE("constant distribution") {
  const Distribution d = Distribution::constant(3.5);
  const auto x = draw(d);
  CHECK(std::all_of(x.begin(), x.end(), [](double v) { return v == 3.5; }));
  CHECK(ks_distance(x, d) == 0.0);
  CHECK(d.unclipped_mean() == 3.5);
  CHECK(to_string(d.kind) == "constant");
}

TEST_CASE("uniform distribution: moments and KS") {
  Distribution d = make(Distribution::Kind::kUniform);
  d.low = 2.0;
  d.high = 5.0;
  const auto x = draw(d);
  check_moments(x, 3.5, 9.0 / 12.0);
  CHECK(ks_distance(x, d) <= ks_critical(x.size()));
  CHECK(d.unclipped_mean() == 3.5);
}

TEST_CASE("normal distribution: moments and KS") {
  Distribution d = make(Distribution::Kind::kNormal);
  d.mean = 1.0;
  d.sd = 2.0;
  const auto x = draw(d);
  check_moments(x, 1.0, 4.0);
  CHECK(ks_distance(x, d) <= ks_critical(x.size()));
  CHECK(d.cdf(1.0) == doctest::Approx(0.5));
}

TEST_CASE("lognormal distribution: moments and KS") {
  Distribution d = make(Distribution::Kind::kLognormal);
  d.mu = 0.5;
  d.sigma = 0.75;
  const double s2 = d.sigma * d.sigma;
  const auto x = draw(d);
  check_moments(x, std::exp(d.mu + s2 / 2), (std::exp(s2) - 1) * std::exp(2 * d.mu + s2));
  CHECK(ks_distance(x, d) <= ks_critical(x.size()));
  CHECK(d.unclipped_mean() == doctest::Approx(std::exp(d.mu + s2 / 2)));
  CHECK(d.cdf(-1.0) == 0.0);
}

TEST_CASE("Pareto distribution: moments, KS, support and infinite mean") {
  Distribution d = make(Distribution::Kind::kPareto);
  d.scale = 2.0;
  d.shape = 5.0;
  const auto x = draw(d);
  CHECK(*std::min_element(x.begin(), x.end()) >= 2.0);
  const double var = d.scale * d.scale * d.shape / ((d.shape - 1) * (d.shape - 1) * (d.shape - 2));
  check_moments(x, 2.5, var);
  CHECK(ks_distance(x, d) <= ks_critical(x.size()));
  CHECK(d.unclipped_mean() == doctest::Approx(2.5));
  CHECK(to_string(d.kind) == "pareto");
  Distribution heavy = d;
  heavy.shape = 1.5;  // finite mean, infinite variance: KS only
  CHECK(ks_distance(draw(heavy), heavy) <= ks_critical(kDraws));
  heavy.shape = 1.0;
  CHECK(std::isinf(heavy.unclipped_mean()));
}

TEST_CASE("beta distribution on 0..1 and on a shifted interval: moments and KS") {
  for (const auto& [a, b, lo, hi] :
       {std::tuple{2.0, 5.0, 0.0, 1.0}, std::tuple{0.5, 0.5, -1.0, 3.0}}) {
    Distribution d = make(Distribution::Kind::kBeta);
    d.alpha = a;
    d.beta = b;
    d.low = lo;
    d.high = hi;
    const auto x = draw(d);
    CHECK(*std::min_element(x.begin(), x.end()) >= lo);
    CHECK(*std::max_element(x.begin(), x.end()) <= hi);
    const double w = hi - lo;
    const double mean = lo + w * a / (a + b);
    const double var = w * w * a * b / ((a + b) * (a + b) * (a + b + 1));
    check_moments(x, mean, var);
    CHECK(ks_distance(x, d) <= ks_critical(x.size()));
    CHECK(d.unclipped_mean() == doctest::Approx(mean));
  }
  Distribution flat = make(Distribution::Kind::kBeta);  // beta(1, 1) = uniform(0, 1)
  CHECK(flat.cdf(0.3) == doctest::Approx(0.3));
  CHECK(to_string(flat.kind) == "beta");
}

TEST_CASE("empirical distribution: each value equally likely, moments and KS") {
  Distribution d = make(Distribution::Kind::kEmpirical);
  d.values = {1.0, 2.0, 2.0, 5.0, 10.0};
  const auto x = draw(d);
  for (const double v : x) CHECK(std::find(d.values.begin(), d.values.end(), v) != d.values.end());
  check_moments(x, 4.0, 26.8 - 16.0);
  CHECK(ks_distance(x, d) <= ks_critical(x.size()));
  // The value listed twice is drawn about twice as often (binomial, 5 SE).
  const double twos = static_cast<double>(std::count(x.begin(), x.end(), 2.0));
  CHECK(std::abs(twos - 0.4 * kDraws) < 5 * std::sqrt(kDraws * 0.4 * 0.6));
  CHECK(d.unclipped_mean() == doctest::Approx(4.0));
  CHECK(d.cdf(1.999) == doctest::Approx(0.2));
  CHECK(d.cdf(2.0) == doctest::Approx(0.6));
  CHECK(to_string(d.kind) == "empirical");
  // A different set of values is rejected.
  Distribution other = d;
  other.values = {1.0, 2.0, 5.0, 10.0};
  CHECK(ks_distance(x, other) > ks_critical(x.size()));
}

TEST_CASE("clipping applies to every kind") {
  std::vector<Distribution> all;
  for (const auto kind :
       {Distribution::Kind::kUniform, Distribution::Kind::kNormal, Distribution::Kind::kLognormal,
        Distribution::Kind::kPareto, Distribution::Kind::kBeta, Distribution::Kind::kEmpirical}) {
    Distribution d = make(kind);
    if (kind == Distribution::Kind::kEmpirical) d.values = {0.0, 0.5, 1.0, 3.0};
    d.clip_min = 0.3;
    d.clip_max = 1.2;
    const auto x = draw(d, 5000);
    CHECK(*std::min_element(x.begin(), x.end()) >= 0.3);
    CHECK(*std::max_element(x.begin(), x.end()) <= 1.2);
    const double at_max = static_cast<double>(std::count(x.begin(), x.end(), 1.2)) / x.size();
    // P(X >= 1.2) (draws at the upper bound) within 5 SE.
    const double p = 1.0 - d.cdf(std::nextafter(1.2, 0.0));
    CHECK(std::abs(at_max - p) <= 5 * std::sqrt(p * (1 - p) / x.size()) + 1e-12);
  }
}

TEST_CASE("draws are a pure function of the generator coordinates") {
  Distribution d = make(Distribution::Kind::kBeta);
  d.alpha = 0.7;
  d.beta = 3.0;
  CHECK(draw(d, 1000, 5) == draw(d, 1000, 5));
  CHECK(draw(d, 1000, 5) != draw(d, 1000, 6));
}
