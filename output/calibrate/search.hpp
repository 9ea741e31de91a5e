#pragma once
// The search of `bankrun calibrate`, in the unit cube of the free parameters: space-filling
// starting designs (Halton, Latin hypercube), CMA-ES, the box of the uncertainty phase and
// the profile intervals. Pure functions of their inputs and the calibration's seed: a
// calibration started again replays the same points (scenarios/CALIBRATION.md has the
// equations).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bankrun::calibrate {

using Point = std::vector<double>;  // unit coordinates, one per free parameter

// Halton point `index` (0-based; the sequence starts at its element 1) with bases 2, 3, 5,
// ... and a Cranley-Patterson rotation keyed by `seed` (u + shift mod 1).
Point halton_point(std::uint64_t index, std::size_t dim, std::uint64_t seed);
// Latin hypercube point `index` of `count`: parameter j in stratum permute_j(index).
Point lhs_point(std::uint64_t index, std::uint64_t count, std::size_t dim, std::uint64_t seed);
// Points of the box [center - half_width, center + half_width] clipped to [0, 1]: Halton
// points scaled into it (the uncertainty phase).
Point box_point(std::uint64_t index, const Point& center, const Point& half_width,
                std::uint64_t seed);

// Folds x into [0, 1] by reflection at the bounds.
double mirror(double x);

// CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial"), with the default
// parameters of that tutorial, weights for the best mu = lambda / 2 points, and samples
// mirrored into the unit cube (the update uses the mirrored points).
class Cmaes {
 public:
  Cmaes(Point mean, std::uint32_t lambda, double sigma);
  // Generation `generation`'s lambda points; normal deviates are keyed by (seed,
  // generation, point, coordinate), so the same state gives the same points.
  std::vector<Point> ask(std::uint64_t seed, std::uint64_t generation) const;
  // Updates the distribution from the points of ask() and their losses (lower is better;
  // NaN is worst).
  void tell(const std::vector<Point>& points, const std::vector<double>& losses);
  // sigma * sqrt(the largest diagonal element of C): the largest step's scale.
  double max_step() const;
  // sigma * sqrt(C_jj) per coordinate.
  Point steps() const;
  const Point& mean() const { return mean_; }
  double sigma() const { return sigma_; }

 private:
  void decompose();  // B and D from C (Jacobi)
  std::size_t n_;
  std::uint32_t lambda_, mu_;
  std::vector<double> weights_;
  double mu_eff_, c_sigma_, d_sigma_, c_c_, c_1_, c_mu_, chi_n_;
  Point mean_;
  double sigma_;
  std::vector<double> c_, b_, d_;  // C and B (n x n, row-major), D (sqrt of eigenvalues)
  Point p_sigma_, p_c_;
  std::uint64_t generations_ = 0;
};

// The eigen decomposition of the symmetric n x n matrix `a` (row-major) by cyclic Jacobi
// rotations: a = V diag(values) V^T, V's columns the eigenvectors.
void symmetric_eigen(std::vector<double> a, std::size_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

// The chi-square quantile with one degree of freedom at `level`: Phi^-1((1 + level) / 2)^2
// (3.84 at 0.95).
double chi2_1_quantile(double level);

// A profile interval from the evaluations: the range of parameter j over the points whose
// loss is within `threshold` of the lowest; at_bound when that range reaches the search
// bounds (within 0.01 of 0 or 1 in unit coordinates), i.e. the interval is open there.
struct Interval {
  double low = 0.0, high = 0.0;
  bool low_at_bound = false, high_at_bound = false;
  std::uint64_t within = 0;  // evaluations within the threshold
};
std::vector<Interval> profile_intervals(const std::vector<Point>& points,
                                        const std::vector<double>& losses, double threshold);

}  // namespace bankrun::calibrate
