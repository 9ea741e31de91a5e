#pragma once
// Child processes for the sweep runner (POSIX fork/exec): the local workers and Slurm's
// squeue/sbatch.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace bankrun::sweep {

// In a forked child: replaces the process with argv (searched on PATH if search_path), or
// exits 127 (the shell's "command not found") if it cannot.
[[noreturn]] void exec_or_exit(const std::vector<std::string>& argv, bool search_path);

// Runs argv, returns (exit status, stdout); stderr is inherited. -1 if it cannot start.
std::pair<int, std::string> run_capture(const std::vector<std::string>& argv);

// Waits for the child `pid` (through EINTR); its wait status.
int reap(pid_t pid);

// Why a child ended, from its wait status: "killed by signal 9", "exited with status 1".
std::string exit_reason(int wstatus);

}  // namespace bankrun::sweep
