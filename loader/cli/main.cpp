// flatpath: the loader and control CLI of the flatpath datapath.
#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "commands.hpp"
#include "datapath.hpp"
#include "error.hpp"
#include "programs.hpp"

namespace fp {

MapSet CliContext::open_maps(const PinRoot &root) const
{
    require_root();
    if (!root.is_up())
        throw Error("the datapath is not up at " + root.path() + " (run: flatpath up)");
    return MapSet::open_pinned(root.path());
}

} // namespace fp

namespace {

// libbpf's own messages (warnings about expected misses, the verifier log) reach
// stderr only with -v / -vv, so that an error is the one line flatpath prints.
int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    const spdlog::level::level_enum wanted = level == LIBBPF_WARN   ? spdlog::level::info
                                             : level == LIBBPF_INFO ? spdlog::level::debug
                                                                    : spdlog::level::trace;
    if (spdlog::get_level() > wanted)
        return 0;
    return std::vfprintf(stderr, fmt, args);
}

// The deepest (sub)command that was given words it does not know, if any.
const CLI::App *unknown_command_parent(const CLI::App &app)
{
    for (const CLI::App *sub : app.get_subcommands())
        if (const CLI::App *deeper = unknown_command_parent(*sub))
            return deeper;
    if (!app.remaining().empty() && app.get_require_subcommand_min() > 0 && app.get_subcommands().empty())
        return &app;
    return nullptr;
}

} // namespace

int main(int argc, char **argv)
{
    spdlog::set_default_logger(spdlog::stderr_color_st("flatpath"));
    spdlog::set_pattern("flatpath: %l: %v");
    spdlog::set_level(spdlog::level::warn);
    spdlog::cfg::load_env_levels(); // SPDLOG_LEVEL=debug
    libbpf_set_print(libbpf_print);

    CLI::App app{"flatpath: an eBPF/XDP fast path for container networks.\n"
                 "Forwards between containers, tun/tap devices and uplinks in the kernel."};
    app.require_subcommand(1);
    app.failure_message([](const CLI::App *, const CLI::Error &e) {
        return std::string("flatpath: error: ") + e.what() + " (see --help)\n";
    });
    fp::CliContext ctx;
    app.add_option("--pin-root", ctx.pin_root_flag,
                   "where maps and programs are pinned (default: $FLATPATH_PIN_ROOT, else /sys/fs/bpf/flatpath); "
                   "its parent must be a mounted bpf filesystem");
    int verbosity = 0;
    app.add_flag("-v,--verbose", verbosity,
                 "more log output: -v adds libbpf's warnings (and a failed load's verifier log), -vv debug, "
                 "-vvv everything libbpf says");
    app.parse_complete_callback([&] {
        if (verbosity >= 3)
            spdlog::set_level(spdlog::level::trace);
        else if (verbosity == 2)
            spdlog::set_level(spdlog::level::debug);
        else if (verbosity == 1)
            spdlog::set_level(spdlog::level::info);
    });

#define FP_ADD_VERB(verb) fp::add_##verb##_command(app, ctx);
    FP_VERBS(FP_ADD_VERB)
#undef FP_ADD_VERB

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        // CLI11 reports a mistyped command as a missing one; name what was typed instead.
        if (const CLI::App *where = unknown_command_parent(app); where && e.get_exit_code() != 0) {
            std::fprintf(stderr, "flatpath: error: unknown command '%s' (see --help)\n",
                         where->remaining().front().c_str());
            return e.get_exit_code();
        }
        return app.exit(e);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "flatpath: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
