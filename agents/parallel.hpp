#pragma once
// The one wrapper of oneTBB's parallel algorithms (nothing else in bankrun includes TBB).
// Every parallel loop writes each index's result to its own place, or combines per-block
// results later in block order, so the output never depends on how the work is split or
// on the thread count; the grain only sets the smallest piece of work one task gets.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <cstddef>

namespace bankrun {

// The worker threads a parallel loop started here may use (--threads, or the cores). For
// splitting work whose result does not depend on the split, never for results.
inline std::size_t worker_count() {
  return static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
}

// body(lo, hi) for pieces [lo, hi) covering [begin, end), in parallel, each at least
// `grain` indices long where there are enough (for loops that work a piece at a time).
template <typename Index, typename Body>
void for_pieces(Index begin, Index end, std::size_t grain, Body&& body) {
  tbb::parallel_for(tbb::blocked_range<Index>(begin, end, grain),
                    [&](const tbb::blocked_range<Index>& r) { body(r.begin(), r.end()); });
}

// body(i) for every i in [begin, end), in parallel, in pieces of at least `grain`.
template <typename Index, typename Body>
void for_range(Index begin, Index end, std::size_t grain, Body&& body) {
  for_pieces(begin, end, grain, [&](Index lo, Index hi) {
    for (Index i = lo; i != hi; ++i) body(i);
  });
}
template <typename Index, typename Body>
void for_range(Index begin, Index end, Body&& body) {
  for_range(begin, end, 1, body);
}

// body(b) for each of `count` fixed blocks of work, in parallel: one block is the smallest
// task, so the blocks, not the scheduler, decide how the work is cut.
template <typename Index, typename Body>
void for_blocks(Index count, Body&& body) {
  for_range(Index{0}, count, 1, body);
}

// Sorts [first, last) in parallel. `less` must be a strict total order on the values (no
// two distinct values equivalent), so the result is the one sorted array whatever the
// algorithm's schedule.
template <typename It, typename Less>
void sort_in_parallel(It first, It last, Less less) {
  tbb::parallel_sort(first, last, less);
}

}  // namespace bankrun
