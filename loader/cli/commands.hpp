// The top-level verbs of the command line.
#pragma once

#include "cli_context.hpp"

namespace CLI {
class App;
}

namespace fp {

// The top-level verbs, in --help's order, each listed once: VERB's add_VERB_command, which
// adds it to the command line, is in cmd_VERB.cpp.
#define FP_VERBS(X)                                                                                  \
    X(up) X(down) X(status) X(ps) X(attach) X(detach) X(endpoint) X(dnat) X(ct) X(mark) X(masq) X(policy) \
    X(network) X(stats) X(trace) X(simulate) X(logs) X(doctor) X(demo) X(daemon) X(cluster)

#define FP_DECLARE_VERB(verb) void add_##verb##_command(CLI::App &app, CliContext &ctx);
FP_VERBS(FP_DECLARE_VERB)
#undef FP_DECLARE_VERB

} // namespace fp
