#pragma once
// Local runs of a sweep: the coordinator (this process) starts up to --jobs worker
// processes of the same binary (`bankrun sweep FILE --output DIR --worker`), hands them run
// indices one at a time over a pipe and reads back each run's status. A worker runs one
// run at a time, in-process, like `bankrun run --threads T` (the one pipeline,
// output/run_to_file.hpp), so memory is bounded by the runs in flight, and a crash loses
// only the run it was running.
#include "output/sweep/runner.hpp"
#include "output/sweep/sweep_file.hpp"

namespace bankrun::sweep {

// The coordinator: runs the shard's runs that are not complete yet (by the manifest, which
// must exist) in worker processes, prints each outcome and the tally, and forwards a stop
// signal to the workers. Returns 0, 1 (a run failed) or 130 (interrupted).
int run_locally(const Sweep& sweep, const SweepCommand& command, const Shard& shard);

// A worker (`--worker`): reads "INDEX SHA256" lines on stdin, runs each run and answers
// "INDEX STATUS SECONDS" on stdout, until EOF or a stop signal.
int run_worker(const Sweep& sweep, const SweepCommand& command);

}  // namespace bankrun::sweep
