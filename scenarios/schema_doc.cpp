// bankrun_schema_doc: the key tables of scenarios/README.md, generated from the schema
// (scenarios/schema.cpp).
//
//   bankrun_schema_doc              print every table between its markers
//   bankrun_schema_doc --check FILE exit 1 (and say which tables differ) when the tables
//                                   between FILE's markers are not the generated ones
//   bankrun_schema_doc --write FILE rewrite the tables between FILE's markers
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "scenarios/schema.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The names of the tables whose text in `readme` differs from the generated one.
void report_differences(const std::string& readme) {
  for (const auto& table : bankrun::schema::markdown_tables()) {
    const std::string marker = "<!-- schema:" + table.id + " -->\n";
    const std::size_t at = readme.find(marker);
    if (at == std::string::npos) continue;  // rewrite_reference has reported it
    if (readme.compare(at + marker.size(), table.text.size(), table.text) != 0 ||
        readme.compare(at + marker.size() + table.text.size(), 16, "<!-- /schema -->") != 0)
      std::cerr << "  table '" << table.id << "' differs from the schema\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (argc == 1) {
      for (const auto& table : bankrun::schema::markdown_tables())
        std::cout << "<!-- schema:" << table.id << " -->\n" << table.text << "<!-- /schema -->\n\n";
      return 0;
    }
    if (argc != 3 || (mode != "--check" && mode != "--write")) {
      std::cerr << "usage: bankrun_schema_doc [--check FILE | --write FILE]\n";
      return 2;
    }
    const std::string readme = read_file(argv[2]);
    const std::string generated = bankrun::schema::rewrite_reference(readme);
    if (mode == "--write") {
      if (generated != readme) std::ofstream(argv[2], std::ios::binary) << generated;
      return 0;
    }
    if (generated == readme) return 0;
    std::cerr << argv[2] << ": the key tables differ from the schema (scenarios/schema.cpp):\n";
    report_differences(readme);
    std::cerr << "run: bankrun_schema_doc --write " << argv[2] << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bankrun_schema_doc: " << e.what() << "\n";
    return 2;
  }
}
