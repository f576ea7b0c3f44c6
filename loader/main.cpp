// flatpath: the loader and control CLI of the flatpath datapath.
#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli_context.hpp"
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

// libbpf's own messages (the verifier log above all) go to stderr only when asked for
// with -v; its warnings always do.
int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    if (level == LIBBPF_DEBUG && spdlog::get_level() > spdlog::level::debug)
        return 0;
    if (level == LIBBPF_INFO && spdlog::get_level() > spdlog::level::info)
        return 0;
    return std::vfprintf(stderr, fmt, args);
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
    app.add_flag("-v,--verbose", verbosity, "more log output (-v info, -vv debug, with libbpf's verifier log)");
    app.parse_complete_callback([&] {
        if (verbosity >= 2)
            spdlog::set_level(spdlog::level::debug);
        else if (verbosity == 1)
            spdlog::set_level(spdlog::level::info);
    });

    fp::add_datapath_commands(app, ctx);
    fp::add_interface_commands(app, ctx);
    fp::add_endpoint_commands(app, ctx);
    fp::add_stats_command(app, ctx);
    fp::add_demo_command(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "flatpath: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
