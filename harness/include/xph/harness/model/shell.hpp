// Command lines as a POSIX shell reads them: for replay lines users copy,
// and for --sut-cmd, which is split as a shell would split it but run with
// no shell at all.
#pragma once

#include <string>
#include <vector>

namespace xph::harness {

// Quotes a word for a POSIX shell only when it needs it.
std::string shell_quote(const std::string&);

// Words of TEXT as a shell would split them (quotes, backslashes), with no
// expansion. Throws InputError for an unterminated quote.
std::vector<std::string> split_words(const std::string& text);

}  // namespace xph::harness
