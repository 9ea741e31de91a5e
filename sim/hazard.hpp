#pragma once
// The hazard rule's comparison U < p(x), p(x) = h0 Phi(x) (x = (S_i - theta_i) / T), mostly
// without evaluating Phi: p is tabulated at a grid of x at set-up with the same expression,
// and U is compared with the table entries that bracket x, widened by a relative margin; only
// a U inside the bracket (a fraction of about h0 phi(x) / 32 of the draws) evaluates p(x).
// The answer is the direct comparison's: the true p is increasing and std::erfc is within a
// few units in the last place of it (glibc: at most 2), far inside the margin of 1e-12.
#include <array>
#include <cmath>
#include <cstddef>

namespace bankrun {

class HazardProbability {
 public:
  explicit HazardProbability(double hazard_rate) : h0_(hazard_rate) {
    for (std::size_t m = 0; m < table_.size(); ++m) table_[m] = exact(grid(m));
  }

  // p(x) = h0 Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2.
  double exact(double x) const { return h0_ * (0.5 * std::erfc(-x * M_SQRT1_2)); }

  // u < exact(x), for every u and x.
  bool below(double u, double x) const {
    if (!(x >= kLow && x < kHigh)) return u < exact(x);  // outside the grid, or NaN
    // Cell k = floor((x - kLow) * kPerUnit) lies within [grid(k), grid(k + 3)] even if
    // the rounding of the index put x one cell off.
    const auto k = static_cast<std::size_t>((x - kLow) * kPerUnit);
    if (u < table_[k] * (1.0 - kMargin)) return true;
    if (u >= table_[k + 3] * (1.0 + kMargin)) return false;
    return u < exact(x);
  }

 private:
  static constexpr double kLow = -8.0, kHigh = 8.0, kPerUnit = 64.0, kMargin = 1e-12;
  static constexpr std::size_t kCells = static_cast<std::size_t>((kHigh - kLow) * kPerUnit);
  // Entry m is p at x = kLow + (m - 1) / kPerUnit (one cell of padding on each side).
  static constexpr double grid(std::size_t m) {
    return kLow + (static_cast<double>(m) - 1.0) / kPerUnit;
  }

  double h0_;
  std::array<double, kCells + 4> table_{};
};

}  // namespace bankrun
