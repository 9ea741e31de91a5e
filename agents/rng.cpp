// The batched first blocks of the decide phase: Philox4x32-10 over many coordinates at once,
// with AVX-512 or AVX2 where the processor has them (chosen once, at the first call), else
// one block at a time. Integer arithmetic only: every path gives the same bits (the unit
// test checks each path the machine can run against Philox4x32::block).
#include "rng.hpp"

#include <immintrin.h>

namespace bankrun {
namespace {

struct Key32 {
  std::uint32_t k0, k1;
};

Key32 key_words(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

void store_lane(BlockWords& out, std::uint32_t a, const Philox4x32::Counter& w) {
  out.w0[a] = w[0];
  out.w1[a] = w[1];
  out.w2[a] = w[2];
  out.w3[a] = w[3];
}

void scalar_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                   std::uint32_t from, std::uint32_t count, BlockWords& out) {
  for (std::uint32_t a = from; a < count; ++a)
    store_lane(out, a, CounterRng::block_at(seed, stream, slot, ids[a]));
}

// Each 32-bit word sits in the low half of a 64-bit lane: mul_epu32 multiplies the low
// halves into the full 64-bit product, so hi = product >> 32 and lo = the product's low half.
// The high halves of c1 and c3 carry garbage, which never reaches a low half (xor is
// bitwise, the multiply reads low halves only, the store keeps low halves).
__attribute__((target("avx512f"))) void avx512_blocks(std::uint64_t seed, Stream stream,
                                                      std::uint32_t slot, const std::uint32_t* ids,
                                                      std::uint32_t count, BlockWords& out) {
  const Key32 key = key_words(seed);
  const __m512i mul0 = _mm512_set1_epi64(Philox4x32::kMul0);
  const __m512i mul1 = _mm512_set1_epi64(Philox4x32::kMul1);
  const __m512i slot_v = _mm512_set1_epi64(slot);
  const __m512i stream_v = _mm512_set1_epi64(static_cast<std::uint32_t>(stream));
  std::uint32_t a = 0;
  for (; a + 8 <= count; a += 8) {
    __m512i c0 =
        _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + a)));
    __m512i c1 = slot_v, c2 = stream_v, c3 = _mm512_setzero_si512();
    std::uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
      const __m512i p0 = _mm512_mul_epu32(c0, mul0);
      const __m512i p1 = _mm512_mul_epu32(c2, mul1);
      // 0x96: a ^ b ^ c
      c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, _mm512_set1_epi64(k0), 0x96);
      c1 = p1;
      c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, _mm512_set1_epi64(k1), 0x96);
      c3 = p0;
      k0 += Philox4x32::kWeyl0;
      k1 += Philox4x32::kWeyl1;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w0 + a), _mm512_cvtepi64_epi32(c0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w1 + a), _mm512_cvtepi64_epi32(c1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w2 + a), _mm512_cvtepi64_epi32(c2));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w3 + a), _mm512_cvtepi64_epi32(c3));
  }
  scalar_blocks(seed, stream, slot, ids, a, count, out);
}

__attribute__((target("avx2"))) __m128i low_halves(__m256i v) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, even));
}

__attribute__((target("avx2"))) void avx2_blocks(std::uint64_t seed, Stream stream,
                                                 std::uint32_t slot, const std::uint32_t* ids,
                                                 std::uint32_t count, BlockWords& out) {
  const Key32 key = key_words(seed);
  const __m256i mul0 = _mm256_set1_epi64x(Philox4x32::kMul0);
  const __m256i mul1 = _mm256_set1_epi64x(Philox4x32::kMul1);
  const __m256i slot_v = _mm256_set1_epi64x(slot);
  const __m256i stream_v = _mm256_set1_epi64x(static_cast<std::uint32_t>(stream));
  std::uint32_t a = 0;
  for (; a + 4 <= count; a += 4) {
    __m256i c0 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ids + a)));
    __m256i c1 = slot_v, c2 = stream_v, c3 = _mm256_setzero_si256();
    std::uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
      const __m256i p0 = _mm256_mul_epu32(c0, mul0);
      const __m256i p1 = _mm256_mul_epu32(c2, mul1);
      c0 =
          _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1), _mm256_set1_epi64x(k0));
      c1 = p1;
      c2 =
          _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3), _mm256_set1_epi64x(k1));
      c3 = p0;
      k0 += Philox4x32::kWeyl0;
      k1 += Philox4x32::kWeyl1;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.w0 + a), low_halves(c0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.w1 + a), low_halves(c1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.w2 + a), low_halves(c2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.w3 + a), low_halves(c3));
  }
  scalar_blocks(seed, stream, slot, ids, a, count, out);
}

void default_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                    std::uint32_t count, BlockWords& out) {
  scalar_blocks(seed, stream, slot, ids, 0, count, out);
}

using BlocksFn = void (*)(std::uint64_t, Stream, std::uint32_t, const std::uint32_t*, std::uint32_t,
                          BlockWords&);

BlocksFn path_function(BlockPath path) {
  switch (path) {
    case BlockPath::kAvx512:
      return avx512_blocks;
    case BlockPath::kAvx2:
      return avx2_blocks;
    case BlockPath::kScalar:
      break;
  }
  return default_blocks;
}

}  // namespace

BlockPath fastest_block_path() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return BlockPath::kAvx512;
  if (__builtin_cpu_supports("avx2")) return BlockPath::kAvx2;
  return BlockPath::kScalar;
}

void first_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                  std::uint32_t count, BlockWords& out, BlockPath path) {
  path_function(path)(seed, stream, slot, ids, count, out);
}

void first_blocks(std::uint64_t seed, Stream stream, std::uint32_t slot, const std::uint32_t* ids,
                  std::uint32_t count, BlockWords& out) {
  static const BlocksFn fastest = path_function(fastest_block_path());
  fastest(seed, stream, slot, ids, count, out);
}

}  // namespace bankrun
