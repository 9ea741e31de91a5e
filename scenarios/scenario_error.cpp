#include "scenarios/scenario_error.hpp"

#include <utility>

namespace bankrun {

namespace {

std::string compose_what(const std::string& file, int line, int column, const std::string& key_path,
                         const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

}  // namespace

ScenarioError::ScenarioError(std::string file, int line, int column, std::string key_path,
                             std::string message)
    : std::runtime_error(compose_what(file, line, column, key_path, message)),
      file_(std::move(file)),
      key_path_(std::move(key_path)),
      message_(std::move(message)),
      line_(line),
      column_(column) {}

}  // namespace bankrun
