#include "scenarios/data_files.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "scenarios/yaml_reader.hpp"

namespace bankrun::data_files {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Text for messages: at most 60 characters.
std::string shown(std::string_view text) {
  if (text.size() > 60) return std::string(text.substr(0, 57)) + "...";
  return std::string(text);
}

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

bool blank_line(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return is_blank(c); });
}

// Reads the next non-blank line of a CSV file and splits it into `cells`; false at the end.
template <typename Fail>
bool next_csv_row(std::istream& in, std::string& line, int& line_number, std::vector<Cell>& cells,
                  Fail&& fail) {
  while (std::getline(in, line)) {
    ++line_number;
    strip_cr(line);
    if (blank_line(line)) continue;
    if (const std::string error = split_csv(line, cells); !error.empty())
      fail(line_number, 1, "malformed CSV row: " + error);
    return true;
  }
  return false;
}

}  // namespace

std::string split_csv(const std::string& line, std::vector<Cell>& cells) {
  cells.clear();
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_blank(line[i])) ++i;
    Cell cell;
    cell.column = static_cast<int>(i) + 1;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.text += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cell.text += line[i++];
      }
      if (!closed) return "unterminated quoted cell at column " + std::to_string(cell.column);
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i < line.size() && line[i] != ',')
        return "unexpected text after the quoted cell at column " + std::to_string(cell.column);
    } else {
      const std::size_t end = line.find(',', i);
      std::string_view text =
          std::string_view(line).substr(i, end == std::string::npos ? std::string::npos : end - i);
      while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
      cell.text = std::string(text);
      i = end == std::string::npos ? line.size() : end;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return "";
}

std::string read_text_file(const std::filesystem::path& path) {
  if (const auto reason = unusable_file(path)) throw std::runtime_error(*reason);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read the file");
  return text.str();
}

std::optional<std::string> unusable_file(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return std::nullopt;
  if (!fs::is_regular_file(status)) return "not a regular file";
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes)
    return "the file has " + std::to_string(size) + " bytes, more than the " +
           std::to_string(kMaxFileBytes) + " (1 GiB) a data file may have";
  return std::nullopt;
}

std::vector<std::pair<std::int64_t, double>> read_price_series(std::istream& in,
                                                               const std::string& file_name,
                                                               const std::string& key_path) {
  auto fail = [&](int line, int col, const std::string& message) {
    throw ScenarioError(file_name, line, col, key_path, message);
  };
  std::vector<std::pair<std::int64_t, double>> rows;
  std::vector<Cell> cells;
  std::string line;
  int line_number = 0;
  bool first_row = true;
  while (next_csv_row(in, line, line_number, cells, fail)) {
    const yaml_reader::TimestampParse when = yaml_reader::parse_utc_timestamp(cells[0].text);
    if (first_row) {
      first_row = false;
      if (!when.error.empty()) continue;  // a header row
    }
    if (!when.error.empty())
      fail(line_number, cells[0].column,
           "expected " + std::string(yaml_reader::kTimestampFormats) + ", got '" +
               shown(cells[0].text) + "'");
    if (cells.size() < 2)
      fail(line_number, 1, "expected two cells, TIMESTAMP,PRICE; the price is missing");
    const yaml_reader::NumberParse price = yaml_reader::parse_number(cells[1].text);
    if (price.status != yaml_reader::NumberStatus::kOk || !(price.value > 0.0))
      fail(line_number, cells[1].column,
           "expected a price > 0, got '" + shown(cells[1].text) + "'");
    if (!rows.empty() && when.unix_seconds <= rows.back().first)
      fail(line_number, cells[0].column, "timestamps must be strictly increasing");
    rows.emplace_back(when.unix_seconds, price.value);
  }
  if (rows.empty()) fail(line_number, 1, "no price rows");
  return rows;
}

std::string CsvColumn::describe() const {
  return index ? std::to_string(*index) : "'" + name + "'";
}

std::vector<double> read_csv_column(std::istream& in, const std::string& file_name,
                                    const CsvColumn& column, const std::string& key_path) {
  auto fail = [&](int line, int col, const std::string& message) {
    throw ScenarioError(file_name, line, col, key_path, message);
  };
  std::vector<double> values;
  std::vector<Cell> cells;
  std::string line;
  int line_number = 0, header_line = 0;
  bool first_row = true;
  std::size_t index = column.index.value_or(0);
  std::string what = "column " + column.describe();
  while (next_csv_row(in, line, line_number, cells, fail)) {
    if (first_row) {
      first_row = false;
      if (!column.index) {
        const auto it = std::find_if(cells.begin(), cells.end(),
                                     [&](const Cell& c) { return c.text == column.name; });
        if (it == cells.end()) {
          std::vector<std::string> names;
          for (const Cell& c : cells) names.push_back("'" + shown(c.text) + "'");
          fail(line_number, 1,
               "no column named '" + column.name + "' in the header row (found " +
                   yaml_reader::join(names) + ")");
        }
        index = static_cast<std::size_t>(it - cells.begin());
        what += " (index " + std::to_string(index) + ")";
        header_line = line_number;
        continue;
      }
      if (index < cells.size() && yaml_reader::parse_number(cells[index].text).status ==
                                      yaml_reader::NumberStatus::kNotANumber) {
        header_line = line_number;
        what = "column " + std::to_string(index) + " ('" + shown(cells[index].text) + "')";
        continue;
      }
    }
    if (index >= cells.size())
      fail(line_number, 1,
           "the row has " + std::to_string(cells.size()) + " cell" +
               (cells.size() == 1 ? "" : "s") + "; " + what + " is missing");
    const Cell& cell = cells[index];
    const yaml_reader::NumberParse parsed = yaml_reader::parse_number(cell.text);
    if (parsed.status == yaml_reader::NumberStatus::kNotANumber)
      fail(line_number, cell.column,
           "expected a number in " + what + ", got " +
               (cell.text.empty() ? std::string("an empty cell") : "'" + shown(cell.text) + "'"));
    if (parsed.status == yaml_reader::NumberStatus::kNonFinite)
      fail(line_number, cell.column,
           "expected a finite number in " + what + ", got '" + shown(cell.text) + "'");
    values.push_back(parsed.value);
  }
  if (in.bad()) fail(0, 0, "cannot read the file");
  if (values.empty()) {
    if (header_line > 0)
      fail(header_line, 1, "no data rows after the header: expected numbers in " + what);
    fail(0, 0, "empty file: expected numbers in " + what);
  }
  return values;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> read_edge_list(std::istream& in,
                                                                    const std::string& file_name,
                                                                    const EdgeListOptions& options,
                                                                    const std::string& key_path) {
  auto fail = [&](int line, int col, const std::string& message) {
    throw ScenarioError(file_name, line, col, key_path, message);
  };
  const std::string id_range = "0 .. " + (options.agents == 0 ? std::string("-1 (no agents)")
                                                              : std::to_string(options.agents - 1));
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  std::string line;
  int line_number = 0;
  struct Token {
    std::string_view text;
    int column;
  };
  std::vector<Token> tokens;
  while (std::getline(in, line)) {
    ++line_number;
    strip_cr(line);
    std::string_view content(line);
    content = content.substr(0, content.find('#'));
    tokens.clear();
    std::size_t commas = 0, comma_at = 0;
    for (std::size_t i = 0; i < content.size();) {
      const char c = content[i];
      if (is_blank(c)) {
        ++i;
      } else if (c == ',') {
        ++commas;
        comma_at = i++;
      } else {
        const std::size_t start = i;
        while (i < content.size() && !is_blank(content[i]) && content[i] != ',') ++i;
        tokens.push_back({content.substr(start, i - start), static_cast<int>(start) + 1});
      }
    }
    if (tokens.empty() && commas == 0) continue;
    std::string_view trimmed = content;
    while (!trimmed.empty() && is_blank(trimmed.front())) trimmed.remove_prefix(1);
    while (!trimmed.empty() && is_blank(trimmed.back())) trimmed.remove_suffix(1);
    const std::string expected =
        "expected two agent ids (integers) separated by whitespace or a comma, got '" +
        shown(trimmed) + "'";
    const bool comma_between =
        commas == 0 || (commas == 1 && tokens.size() == 2 &&
                        comma_at + 1 > static_cast<std::size_t>(tokens[0].column) &&
                        comma_at + 1 < static_cast<std::size_t>(tokens[1].column));
    if (tokens.size() != 2 || !comma_between)
      fail(line_number, tokens.empty() ? 1 : tokens[0].column, expected);
    std::uint32_t ids[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const Token& t = tokens[k];
      const bool digits = std::all_of(t.text.begin(), t.text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
      if (!digits) fail(line_number, t.column, expected);
      std::uint64_t id = 0;
      const auto result = std::from_chars(t.text.data(), t.text.data() + t.text.size(), id);
      if (result.ec != std::errc() || id >= options.agents)
        fail(line_number, t.column,
             "agent id " + std::string(t.text) + " out of range " + id_range +
                 " (population.agents = " + std::to_string(options.agents) + ")");
      ids[k] = static_cast<std::uint32_t>(id);
    }
    if (ids[0] == ids[1]) {
      if (options.drop_self_loops) continue;
      fail(line_number, tokens[0].column,
           "self-loop: agent " + std::to_string(ids[0]) +
               " is linked to itself (set network.self_loops: drop to skip self-loops)");
    }
    edges.emplace_back(ids[0], ids[1]);
  }
  if (in.bad()) fail(0, 0, "cannot read the file");
  return edges;
}

}  // namespace bankrun::data_files
