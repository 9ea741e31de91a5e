#pragma once
// Data files a scenario refers to: a numeric CSV column (dist: empirical, file: ...) and an
// edge list (network type: edge_list). The loader opens the file; these read the stream.
// Errors are ScenarioError naming the data file, its 1-based line and column, the key
// path of the scenario key that refers to the file, and what is wrong.
#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario_error.hpp"

namespace bankrun::data_files {

// The largest data file a scenario may name: 1 GiB (an edge list of about 100 million
// edges). The loader reads a data file into memory whole, so a larger one is refused
// before it is read.
inline constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{1} << 30;

// Why the existing file at `path` cannot be a data file, or nullopt if it can: it is not a
// regular file (a device such as /dev/zero, a FIFO, a socket: reading one may never end
// or block forever), or it is larger than kMaxFileBytes. A missing file is left to the
// caller's open (its error names the system's reason).
std::optional<std::string> unusable_file(const std::filesystem::path& path);

// The whole text of a file; std::runtime_error with the reason (unusable_file's, or the
// system's) if it cannot be read. Scenario, sweep and calibration files are read with it,
// so that none of them reads a device or a FIFO forever.
std::string read_text_file(const std::filesystem::path& path);

// One cell of a CSV line: its text (unquoted) and the 1-based column of its first character.
struct Cell {
  std::string text;
  int column = 1;
};
// Splits one CSV line (comma-separated; cells may be double-quoted, with "" for a quote;
// spaces around cells are ignored) into `cells`; returns an error message, or "" on success.
std::string split_csv(const std::string& line, std::vector<Cell>& cells);

// Which CSV column to read: a 0-based index, or the name of a header column.
struct CsvColumn {
  std::optional<std::size_t> index;  // set: by index
  std::string name;                  // used when index is unset
  static CsvColumn at(std::size_t i) { return {i, ""}; }
  static CsvColumn named(std::string n) { return {std::nullopt, std::move(n)}; }
  std::string describe() const;  // "0", "'balance'"
};

// Reads one column of a CSV file (comma-separated; cells may be double-quoted, with ""
// for a quote; spaces around cells are ignored; blank lines are skipped; '\r\n' works).
// The first non-blank row is a header when its cell in the column is not a number
// (a column chosen by name always needs a header). Every other row must have a finite
// number (YAML 1.2 decimal) in the column. At least one number is required.
// `file_name` is used in errors; `key_path` is the scenario key naming the file.
std::vector<double> read_csv_column(std::istream& in, const std::string& file_name,
                                    const CsvColumn& column, const std::string& key_path);

// Reads a price series: rows "TIMESTAMP,PRICE" (timestamps as in scenarios:
// YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DDTHH:MMZ or YYYY-MM-DD; strictly increasing; prices
// finite and > 0). An optional header row (its first cell not a timestamp) is skipped.
// Returns (unix seconds, price) pairs; at least one row is required.
std::vector<std::pair<std::int64_t, double>> read_price_series(std::istream& in,
                                                               const std::string& file_name,
                                                               const std::string& key_path);

struct EdgeListOptions {
  std::uint32_t agents = 0;  // ids must be in 0 .. agents - 1
  bool drop_self_loops = false;
};

// Reads an edge list: one edge "a b" or "a,b" a line (0-based agent ids, whitespace or a
// single comma between them), '#' starts a comment, blank lines are ignored. Self-loops
// are an error unless drop_self_loops (then they are skipped). Duplicates are kept (the
// network builder drops them).
std::vector<std::pair<std::uint32_t, std::uint32_t>> read_edge_list(std::istream& in,
                                                                    const std::string& file_name,
                                                                    const EdgeListOptions& options,
                                                                    const std::string& key_path);

}  // namespace bankrun::data_files
