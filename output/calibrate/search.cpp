// The search of `bankrun calibrate` (see search.hpp and scenarios/CALIBRATION.md).
#include "output/calibrate/search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "output/sweep/sweep_file.hpp"

namespace bankrun::calibrate {

namespace {

constexpr std::uint64_t kTagShift = 11, kTagPermutation = 12, kTagJitter = 13, kTagNormal = 14;

constexpr unsigned kPrimes[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                                43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};

// The radical inverse of k in base b.
double radical_inverse(std::uint64_t k, unsigned base) {
  double result = 0.0, f = 1.0 / base;
  while (k > 0) {
    result += f * static_cast<double>(k % base);
    k /= base;
    f /= base;
  }
  return result;
}

double halton_coordinate(std::uint64_t index, std::size_t j, std::uint64_t seed) {
  // Bases beyond the table: the next odd numbers (coprime enough for a handful of extra
  // dimensions; calibrations have a few parameters).
  const unsigned base = j < std::size(kPrimes)
                            ? kPrimes[j]
                            : kPrimes[std::size(kPrimes) - 1] + 2 * static_cast<unsigned>(j);
  const double shift = sweep::unit_from_hash(sweep::hash64(seed, kTagShift, j, 0));
  const double u = radical_inverse(index + 1, base) + shift;
  return u - std::floor(u);
}

}  // namespace

Point halton_point(std::uint64_t index, std::size_t dim, std::uint64_t seed) {
  Point x(dim);
  for (std::size_t j = 0; j < dim; ++j) x[j] = halton_coordinate(index, j, seed);
  return x;
}

Point lhs_point(std::uint64_t index, std::uint64_t count, std::size_t dim, std::uint64_t seed) {
  Point x(dim);
  for (std::size_t j = 0; j < dim; ++j) {
    const std::uint64_t k =
        sweep::permute(count, sweep::hash64(seed, kTagPermutation, j, 0), index);
    const double jitter = sweep::unit_from_hash(sweep::hash64(seed, kTagJitter, index, j));
    x[j] = (static_cast<double>(k) + jitter) / static_cast<double>(count);
  }
  return x;
}

double mirror(double x) {
  x = std::fmod(std::fabs(x), 2.0);  // reflection at 0, period 2
  return x > 1.0 ? 2.0 - x : x;
}

// ---- CMA-ES ----------------------------------------------------------------------------------

Cmaes::Cmaes(Point mean, std::uint32_t lambda, double sigma)
    : n_(mean.size()),
      lambda_(std::max<std::uint32_t>(lambda, 2)),
      mean_(std::move(mean)),
      sigma_(sigma) {
  const double n = static_cast<double>(n_);
  mu_ = lambda_ / 2;
  // w_i = ln((lambda + 1) / 2) - ln i, i = 1..mu, normalised to sum 1.
  for (std::uint32_t i = 1; i <= mu_; ++i)
    weights_.push_back(std::log((lambda_ + 1) / 2.0) - std::log(static_cast<double>(i)));
  const double sum = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  double sum_sq = 0.0;
  for (double& w : weights_) {
    w /= sum;
    sum_sq += w * w;
  }
  mu_eff_ = 1.0 / sum_sq;
  c_sigma_ = (mu_eff_ + 2.0) / (n + mu_eff_ + 5.0);
  d_sigma_ = 1.0 + 2.0 * std::max(0.0, std::sqrt((mu_eff_ - 1.0) / (n + 1.0)) - 1.0) + c_sigma_;
  c_c_ = (4.0 + mu_eff_ / n) / (n + 4.0 + 2.0 * mu_eff_ / n);
  c_1_ = 2.0 / ((n + 1.3) * (n + 1.3) + mu_eff_);
  c_mu_ = std::min(1.0 - c_1_,
                   2.0 * (mu_eff_ - 2.0 + 1.0 / mu_eff_) / ((n + 2.0) * (n + 2.0) + mu_eff_));
  chi_n_ = std::sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));  // E||N(0, I)||
  c_.assign(n_ * n_, 0.0);
  b_.assign(n_ * n_, 0.0);
  for (std::size_t i = 0; i < n_; ++i) c_[i * n_ + i] = b_[i * n_ + i] = 1.0;
  d_.assign(n_, 1.0);
  p_sigma_.assign(n_, 0.0);
  p_c_.assign(n_, 0.0);
}

Point Cmaes::place(const Point& center, double step, const Point& z) const {
  Point x(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    double y = 0.0;  // y = B D z
    for (std::size_t j = 0; j < n_; ++j) y += b_[i * n_ + j] * d_[j] * z[j];
    x[i] = mirror(center[i] + step * y);
  }
  return x;
}

std::vector<Point> Cmaes::ask(std::uint64_t seed, std::uint64_t generation) const {
  std::vector<Point> points;
  Point z(n_);
  for (std::uint32_t k = 0; k < lambda_; ++k) {
    for (std::size_t j = 0; j < n_; ++j)
      z[j] = sweep::normal_quantile(
          sweep::unit_from_hash(sweep::hash64(seed, kTagNormal, generation, k * n_ + j)));
    points.push_back(place(mean_, sigma_, z));  // x = m + sigma B D z
  }
  return points;
}

Point Cmaes::around(const Point& center, double scale, std::uint64_t index,
                    std::uint64_t seed) const {
  const Point u = halton_point(index, n_, seed ^ 0x27d4eb2fu);
  Point z(n_);
  for (std::size_t j = 0; j < n_; ++j)
    z[j] = sweep::normal_quantile(std::clamp(u[j], 1e-12, 1 - 1e-12));
  return place(center, scale * sigma_, z);
}

void Cmaes::tell(const std::vector<Point>& points, const std::vector<double>& losses) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](std::size_t i) {
    return std::isnan(losses[i]) ? std::numeric_limits<double>::infinity() : losses[i];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  // y_i = (x_i:lambda - m) / sigma; y_w = sum w_i y_i.
  std::vector<Point> y(mu_, Point(n_));
  Point y_w(n_, 0.0);
  for (std::uint32_t i = 0; i < mu_; ++i)
    for (std::size_t j = 0; j < n_; ++j) {
      y[i][j] = (points[order[i]][j] - mean_[j]) / sigma_;
      y_w[j] += weights_[i] * y[i][j];
    }
  for (std::size_t j = 0; j < n_; ++j) mean_[j] += sigma_ * y_w[j];  // m <- m + sigma y_w
  // C^-1/2 y_w = B D^-1 B^T y_w.
  Point bt(n_, 0.0), c_inv_half_y(n_, 0.0);
  for (std::size_t k = 0; k < n_; ++k) {
    for (std::size_t j = 0; j < n_; ++j) bt[k] += b_[j * n_ + k] * y_w[j];
    bt[k] /= d_[k];
  }
  for (std::size_t i = 0; i < n_; ++i)
    for (std::size_t k = 0; k < n_; ++k) c_inv_half_y[i] += b_[i * n_ + k] * bt[k];
  const double ps_factor = std::sqrt(c_sigma_ * (2.0 - c_sigma_) * mu_eff_);
  double ps_norm = 0.0;
  for (std::size_t j = 0; j < n_; ++j) {
    p_sigma_[j] = (1.0 - c_sigma_) * p_sigma_[j] + ps_factor * c_inv_half_y[j];
    ps_norm += p_sigma_[j] * p_sigma_[j];
  }
  ps_norm = std::sqrt(ps_norm);
  ++generations_;
  const double n = static_cast<double>(n_);
  const bool h_sigma =
      ps_norm / std::sqrt(1.0 - std::pow(1.0 - c_sigma_, 2.0 * static_cast<double>(generations_))) <
      (1.4 + 2.0 / (n + 1.0)) * chi_n_;
  const double pc_factor = std::sqrt(c_c_ * (2.0 - c_c_) * mu_eff_);
  for (std::size_t j = 0; j < n_; ++j)
    p_c_[j] = (1.0 - c_c_) * p_c_[j] + (h_sigma ? pc_factor * y_w[j] : 0.0);
  // C <- (1 - c1 - cmu) C + c1 (pc pc^T + (1 - h) cc (2 - cc) C) + cmu sum w_i y_i y_i^T.
  const double delta = h_sigma ? 0.0 : c_c_ * (2.0 - c_c_);
  for (std::size_t i = 0; i < n_; ++i)
    for (std::size_t j = 0; j < n_; ++j) {
      double rank_mu = 0.0;
      for (std::uint32_t k = 0; k < mu_; ++k) rank_mu += weights_[k] * y[k][i] * y[k][j];
      double& c = c_[i * n_ + j];
      c = (1.0 - c_1_ - c_mu_) * c + c_1_ * (p_c_[i] * p_c_[j] + delta * c) + c_mu_ * rank_mu;
    }
  // sigma <- sigma exp((c_sigma / d_sigma) (||p_sigma|| / E||N|| - 1)).
  sigma_ *= std::exp((c_sigma_ / d_sigma_) * (ps_norm / chi_n_ - 1.0));
  decompose();
}

void Cmaes::decompose() {
  for (std::size_t i = 0; i < n_; ++i)  // keep C exactly symmetric
    for (std::size_t j = 0; j < i; ++j) c_[i * n_ + j] = c_[j * n_ + i];
  std::vector<double> values;
  symmetric_eigen(c_, n_, values, b_);
  for (std::size_t k = 0; k < n_; ++k) d_[k] = std::sqrt(std::max(values[k], 1e-20));
}

Point Cmaes::slope(std::size_t j) const {
  Point s(n_);
  for (std::size_t i = 0; i < n_; ++i) s[i] = c_[i * n_ + j] / c_[j * n_ + j];
  return s;
}

double Cmaes::max_step() const {
  double largest = 0.0;
  for (std::size_t i = 0; i < n_; ++i) largest = std::max(largest, c_[i * n_ + i]);
  return sigma_ * std::sqrt(largest);
}

Point Cmaes::steps() const {
  Point s(n_);
  for (std::size_t i = 0; i < n_; ++i) s[i] = sigma_ * std::sqrt(c_[i * n_ + i]);
  return s;
}

void symmetric_eigen(std::vector<double> a, std::size_t n, std::vector<double>& values,
                     std::vector<double>& vectors) {
  vectors.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) vectors[i * n + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    if (off < 1e-30) break;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (std::fabs(apq) < 1e-300) continue;
        // The rotation that zeroes a_pq: tan(2 theta) = 2 a_pq / (a_qq - a_pp).
        const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // A <- A J (columns p, q)
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // A <- J^T A (rows p, q)
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {  // V <- V J
          const double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
          vectors[k * n + p] = c * vkp - s * vkq;
          vectors[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  values.resize(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = a[i * n + i];
}

double chi2_1_quantile(double level) {
  const double z = sweep::normal_quantile((1.0 + level) / 2.0);
  return z * z;
}

namespace {

// Solves the n x n system a x = b (row-major) by Gaussian elimination with partial pivoting;
// false if it is singular.
bool solve(std::vector<double> a, std::vector<double>& b, std::size_t n) {
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    if (std::fabs(a[pivot * n + col]) < 1e-12) return false;
    for (std::size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (std::size_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / a[col * n + col];
      for (std::size_t k = col; k < n; ++k) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  for (std::size_t col = n; col-- > 0;) {
    for (std::size_t k = col + 1; k < n; ++k) b[col] -= a[col * n + k] * b[k];
    b[col] /= a[col * n + col];
  }
  return true;
}

// The evaluations of a local quadratic model, lowest loss first: those within 4 thresholds of
// the lowest loss, at least coefficients + d of them and at most 3 coefficients; empty if
// there are too few.
std::vector<std::size_t> local_points(const std::vector<double>& losses, double threshold,
                                      std::size_t coefficients, std::size_t d) {
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < losses.size(); ++k)
    if (!std::isnan(losses[k])) order.push_back(k);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return losses[a] < losses[b]; });
  std::size_t used = 0;
  while (used < order.size() && losses[order[used]] <= losses[order.front()] + 4.0 * threshold)
    ++used;
  used = std::min(std::max(used, coefficients + d), 3 * coefficients);
  if (order.size() < used) return {};
  order.resize(used);
  return order;
}

}  // namespace

std::optional<QuadraticFit> fit_quadratic(const std::vector<Point>& points,
                                          const std::vector<double>& losses, double threshold) {
  if (points.empty()) return std::nullopt;
  const std::size_t d = points.front().size();
  const std::size_t coefficients = 1 + d + d * (d + 1) / 2;
  std::vector<std::size_t> order = local_points(losses, threshold, coefficients, d);
  if (order.empty()) return std::nullopt;
  const std::size_t used = order.size();
  const Point& center = points[order.front()];
  // Scale each coordinate by the spread of the points used, for a well-conditioned fit.
  Point spread(d, 0.0);
  for (std::size_t k : order)
    for (std::size_t j = 0; j < d; ++j)
      spread[j] = std::max(spread[j], std::fabs(points[k][j] - center[j]));
  for (double& s : spread)
    if (s <= 0.0) return std::nullopt;
  // L(x) = c + g.z + sum_{i <= j} q_ij z_i z_j with z = (x - center) / spread; least squares
  // by the normal equations.
  auto features = [&](const Point& x) {
    std::vector<double> f{1.0};
    Point z(d);
    for (std::size_t j = 0; j < d; ++j) z[j] = (x[j] - center[j]) / spread[j];
    for (std::size_t j = 0; j < d; ++j) f.push_back(z[j]);
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i; j < d; ++j) f.push_back(z[i] * z[j]);
    return f;
  };
  std::vector<double> normal(coefficients * coefficients, 0.0), rhs(coefficients, 0.0);
  for (std::size_t k : order) {
    const std::vector<double> f = features(points[k]);
    for (std::size_t a = 0; a < coefficients; ++a) {
      rhs[a] += f[a] * losses[k];
      for (std::size_t b = 0; b < coefficients; ++b) normal[a * coefficients + b] += f[a] * f[b];
    }
  }
  if (!solve(normal, rhs, coefficients)) return std::nullopt;
  // Gradient g and Hessian H in z; then back to unit coordinates.
  std::vector<double> h(d * d, 0.0), g(d);
  for (std::size_t j = 0; j < d; ++j) g[j] = rhs[1 + j];
  std::size_t at = 1 + d;
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = i; j < d; ++j, ++at) {
      if (i == j) {
        h[i * d + i] = 2.0 * rhs[at];
      } else {
        h[i * d + j] = h[j * d + i] = rhs[at];
      }
    }
  std::vector<double> values, vectors;
  symmetric_eigen(h, d, values, vectors);
  for (double v : values)
    if (v <= 0.0) return std::nullopt;  // not a minimum
  // H^-1 = V diag(1 / values) V^T; x* = center - spread * H^-1 g.
  QuadraticFit fit;
  fit.minimum.assign(d, 0.0);
  fit.inverse_hessian.assign(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      double x = 0.0;
      for (std::size_t k = 0; k < d; ++k) x += vectors[i * d + k] * vectors[j * d + k] / values[k];
      fit.inverse_hessian[i * d + j] = x * spread[i] * spread[j];  // in unit coordinates
    }
  for (std::size_t i = 0; i < d; ++i) {
    double step = 0.0;
    for (std::size_t j = 0; j < d; ++j)
      step += fit.inverse_hessian[i * d + j] / (spread[i] * spread[j]) * g[j];
    fit.minimum[i] = center[i] - spread[i] * step;
  }
  fit.points = used;
  fit.low.assign(d, 1.0);
  fit.high.assign(d, 0.0);
  for (std::size_t k : order)
    for (std::size_t j = 0; j < d; ++j) {
      fit.low[j] = std::min(fit.low[j], points[k][j]);
      fit.high[j] = std::max(fit.high[j], points[k][j]);
    }
  return fit;
}

std::vector<Interval> profile_intervals(const std::vector<Point>& points,
                                        const std::vector<double>& losses, double threshold) {
  constexpr double kNearBound = 0.01;  // unit coordinates
  const std::size_t dim = points.empty() ? 0 : points.front().size();
  std::vector<Interval> intervals(dim);
  double best = std::numeric_limits<double>::infinity();
  std::size_t best_k = 0;
  for (std::size_t k = 0; k < losses.size(); ++k)
    if (!std::isnan(losses[k]) && losses[k] < best) best = losses[best_k = k];
  for (std::size_t j = 0; j < dim; ++j) {
    Interval& in = intervals[j];
    const double b = points.empty() ? 0.0 : points[best_k][j];
    in.low = in.high = b;
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (std::isnan(losses[k])) continue;
      // Evaluation k bounds the profile: P(x_kj) <= L_k. If P rises quadratically from the
      // best point, P(t) = L_min + a (t - b)^2 with a <= (L_k - L_min) / (x_kj - b)^2, so the
      // interval reaches at least b + (x_kj - b) min(1, sqrt(q / (L_k - L_min))). The widest
      // of these bounds on each side (those within the threshold count in full).
      const double excess = losses[k] - best;
      const double reach = excess <= threshold ? 1.0 : std::sqrt(threshold / excess);
      const double edge = b + (points[k][j] - b) * reach;
      in.low = std::min(in.low, edge);
      in.high = std::max(in.high, edge);
      if (excess <= threshold) ++in.within;
    }
    // The quadratic model's profile: L - L* = (x - x*)' H (x - x*) / 2 is at most threshold
    // over the other coordinates where |x_j - x*_j| <= sqrt(2 threshold (H^-1)_jj).
    if (const auto fit = fit_quadratic(points, losses, threshold)) {
      // A local model is trusted only over the points it was fitted to: no extrapolation.
      const double half = std::sqrt(2.0 * threshold * fit->inverse_hessian[j * dim + j]);
      in.low = std::min(in.low, std::max(fit->low[j], fit->minimum[j] - half));
      in.high = std::max(in.high, std::min(fit->high[j], fit->minimum[j] + half));
    }
    in.low_at_bound = in.low <= kNearBound;
    in.high_at_bound = in.high >= 1.0 - kNearBound;
    const double step = edge_step(in);
    in.low_resolved = in.low_at_bound;
    in.high_resolved = in.high_at_bound;
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (std::isnan(losses[k])) continue;
      const double x = points[k][j];
      if (x < in.low && x >= in.low - step) in.low_resolved = true;
      if (x > in.high && x <= in.high + step) in.high_resolved = true;
    }
  }
  return intervals;
}

}  // namespace bankrun::calibrate

namespace bankrun::calibrate {

double edge_step(const Interval& in) {
  return std::max(0.25 * (in.high - in.low), 0.02);
}

std::vector<Point> edge_points(const Point& best, const Interval& in, std::size_t j,
                               const Point& direction) {
  std::vector<Point> points;
  const double step = edge_step(in);
  for (const bool upper : {false, true}) {
    if (upper ? in.high_resolved : in.low_resolved) continue;
    const double edge = upper ? in.high : in.low;
    for (const double k : {1.0, 2.0}) {
      const double t = std::clamp(edge + (upper ? k : -k) * step, 0.0, 1.0);
      Point x(best.size());
      for (std::size_t i = 0; i < best.size(); ++i)
        x[i] = mirror(best[i] + direction[i] * (t - best[j]));
      x[j] = t;
      points.push_back(x);
    }
  }
  return points;
}

}  // namespace bankrun::calibrate
