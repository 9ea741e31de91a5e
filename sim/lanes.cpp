#include "lanes.hpp"

#include <immintrin.h>

#include "agents/rng.hpp"

namespace bankrun {
namespace {

using AddWhereSetFn = void (*)(const std::uint64_t*, std::uint32_t, double, double*);

void scalar_add_where_set(const std::uint64_t* bits, std::uint32_t count, double v, double* out) {
  for (std::uint32_t a = 0; a < count; ++a)
    if ((bits[a >> 6] >> (a & 63)) & 1u) out[a] += v;
}

// Eight lanes at a time: their eight bits are a mask register for a masked add.
__attribute__((target("avx512f"))) void avx512_add_where_set(const std::uint64_t* bits,
                                                             std::uint32_t count, double v,
                                                             double* out) {
  const __m512d value = _mm512_set1_pd(v);
  std::uint32_t a = 0;
  for (; a + 8 <= count; a += 8) {
    const auto mask = static_cast<__mmask8>(bits[a >> 6] >> (a & 63));
    const __m512d sum = _mm512_loadu_pd(out + a);
    _mm512_storeu_pd(out + a, _mm512_mask_add_pd(sum, mask, sum, value));
  }
  for (; a < count; ++a)
    if ((bits[a >> 6] >> (a & 63)) & 1u) out[a] += v;
}

AddWhereSetFn add_where_set_function(LanePath path) {
  return path == LanePath::kAvx512 ? avx512_add_where_set : scalar_add_where_set;
}

}  // namespace

LanePath fastest_lane_path() {
  return fastest_block_path() == BlockPath::kAvx512 ? LanePath::kAvx512 : LanePath::kScalar;
}

void add_where_set(const std::uint64_t* bits, std::uint32_t count, double v, double* out,
                   LanePath path) {
  add_where_set_function(path)(bits, count, v, out);
}

void add_where_set(const std::uint64_t* bits, std::uint32_t count, double v, double* out) {
  static const AddWhereSetFn fastest = add_where_set_function(fastest_lane_path());
  fastest(bits, count, v, out);
}

}  // namespace bankrun
