// toml++'s implementation (parser, nodes, formatters), compiled into
// fuzz_config_file with the fuzz build's instrumentation; see
// tests/fuzz/CMakeLists.txt. The library itself uses Debian's
// libtomlplusplus.so, built from the same headers.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
