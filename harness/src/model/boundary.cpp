#include "xph/harness/model/boundary.hpp"

#include <algorithm>
#include <sstream>

namespace xph::harness {
namespace {

struct BoundaryPattern {
  const char* text;
  Side side;
};
constexpr BoundaryPattern kBoundaryPatterns[] = {
    {"cannot pickle", Side::Send},
    {"Can't pickle", Side::Send},
    {"can't pickle", Side::Send},
    {"PicklingError", Side::Send},
    {"MaybeEncodingError", Side::Send},
    {"cannot serialise", Side::Send},
    {"UnpicklingError", Side::Receive},
    {"required keyword-only argument", Side::Receive},
    {"required positional argument", Side::Receive},
    {"_handle_results", Side::Receive},
    {"__init__() takes", Side::Receive},  // APIConnectionError rebuilt from args: "takes 1 positional argument but 2"
    {"cannot deserialise", Side::Receive},
    // Node (V8's structured clone: child_process "advanced" serialization,
    // worker_threads): "Error: () => 0 could not be cloned."
    {"could not be cloned", Side::Send},
    {"DataCloneError", Side::Send},
    {"Unable to deserialize cloned data", Side::Receive},
};

}  // namespace

std::optional<Side> boundary_side(const std::string& text) {
  for (const auto& p : kBoundaryPatterns)
    if (text.find(p.text) != std::string::npos) return p.side;
  return std::nullopt;
}

std::string printable_line(const std::string& line) {
  const auto cr = line.find_last_of('\r');
  const std::string text = cr == std::string::npos ? line : line.substr(cr + 1);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {  // ANSI escape: ESC [ ... final byte in @-~
      if (i + 1 < text.size() && text[i + 1] == '[') {
        i += 2;
        while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      }
      continue;
    }
    if (static_cast<unsigned char>(text[i]) < 0x20 && text[i] != '\t') continue;
    out += text[i];
  }
  return out;
}

std::vector<std::string> boundary_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string raw; std::getline(in, raw);) {
    std::string line = printable_line(raw);
    if (!boundary_side(line)) continue;
    // Traceback frames name files; the error line itself says what broke.
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, 5, "File ") == 0) continue;
    line.erase(0, first == std::string::npos ? line.size() : first);
    if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
  }
  return out;
}

}  // namespace xph::harness
