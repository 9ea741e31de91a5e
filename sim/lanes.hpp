#pragma once
// Kernels over the lanes of a decide batch (up to kBatchLanes agents) whose fastest form
// needs an instruction set the baseline build does not assume: the AVX-512 form is chosen
// at run time where the processor has it (as first_blocks does, agents/rng.hpp), else the
// portable loop. Each path gives the same bits (tests/unit/test_engine_parts.cpp).
#include <cstdint>

namespace bankrun {

enum class LanePath { kScalar, kAvx512 };
LanePath fastest_lane_path();

// out[a] += v for each lane a < count whose bit is set in `bits` (bit a % 64 of
// bits[a / 64]); the other lanes are left as they are, which is out[a] + (+0.0) for every
// out[a] but -0.0 (a sum that starts at +0.0 never is -0.0).
void add_where_set(const std::uint64_t* bits, std::uint32_t count, double v, double* out);
void add_where_set(const std::uint64_t* bits, std::uint32_t count, double v, double* out,
                   LanePath path);

}  // namespace bankrun
