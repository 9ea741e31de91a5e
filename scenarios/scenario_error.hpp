#pragma once
// The error of everything that reads scenario input (the loader, the YAML reader, the data
// files, the sweep files): file, line, column, key path and what was expected. Its own
// header, so that the readers need not include the loader.
#include <stdexcept>
#include <string>

namespace bankrun {

class ScenarioError : public std::runtime_error {
 public:
  // line and column are 1-based; 0 when unknown (e.g. a value given with --set).
  ScenarioError(std::string file, int line, int column, std::string key_path, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, key_path_, message_;
  int line_, column_;
};

}  // namespace bankrun
