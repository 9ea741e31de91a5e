// Fuzz target: the data-file readers of scenarios/data_files.hpp. Every input is read as a
// CSV column (by index 0 and 1, and by the name of its first cell, as a header would give
// it), as a price series and as an edge list (two option sets).
// ScenarioError is the readers' one error type; anything else that escapes is a finding.
#include <limits>
#include <sstream>

#include "fuzz_input.hpp"
#include "scenarios/data_files.hpp"

namespace {

using namespace bankrun::data_files;

template <typename Read>
void read_ignoring_errors(std::string_view text, Read&& read) {
  std::istringstream in{std::string(text)};
  try {
    const std::string rows = std::to_string(read(in).size()) + " rows read";
    bankrun::fuzz::note(rows.c_str());
  } catch (const bankrun::ScenarioError& e) {
    bankrun::fuzz::note(e.what());
  }
}

// The first cell of the first line, as a column name a scenario could give.
std::string first_cell(std::string_view text) {
  return std::string(text.substr(0, text.find_first_of(",\n")));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = bankrun::fuzz::as_text(data, size);
  const std::string file = "fuzz.csv", key = "population.classes[0].balance_usd.file";
  for (const CsvColumn& column :
       {CsvColumn::at(0), CsvColumn::at(1), CsvColumn::named(first_cell(text))})
    read_ignoring_errors(text,
                         [&](std::istream& in) { return read_csv_column(in, file, column, key); });
  read_ignoring_errors(text, [&](std::istream& in) { return read_price_series(in, file, key); });
  for (const EdgeListOptions& options :
       {EdgeListOptions{1000, false},
        EdgeListOptions{std::numeric_limits<std::uint32_t>::max(), true}})
    read_ignoring_errors(text,
                         [&](std::istream& in) { return read_edge_list(in, file, options, key); });
  return 0;
}
