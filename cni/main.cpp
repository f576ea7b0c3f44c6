// flatpath-cni: the CNI plugin that attaches containers to the flatpath datapath.
// Runtimes run it with CNI_* environment variables and the network configuration on
// stdin; it answers on stdout (a result, or the spec's error JSON and a non-zero exit).
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cni_error.hpp"
#include "invocation_log.hpp"
#include "plugin.hpp"
#include "request.hpp"

namespace {

// Reads at most one byte past the limit, so an oversized input is refused, not buffered.
std::string read_stdin()
{
    std::string text;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > fp::cni::kMaxConfigBytes)
            break;
    }
    return text;
}

// libbpf's own messages (an "exists" it expects, say) would only clutter the runtime's
// log: every failure reaches the runtime as the CNI error, with its context.
int quiet_libbpf(enum libbpf_print_level, const char *, va_list)
{
    return 0;
}

} // namespace

int main()
{
    libbpf_set_print(quiet_libbpf);
    std::string version = "1.0.0"; // for errors before the configuration says otherwise
    fp::cni::InvocationLog log;
    try {
        const fp::cni::Request req = fp::cni::Request::parse(std::getenv, read_stdin());
        version = req.cni_version;
        log.open_for(req);
        const nlohmann::json out = fp::cni::run(req);
        if (!out.is_null())
            std::cout << out.dump() << std::endl;
        log.write("ok");
        return 0;
    } catch (const fp::cni::CniError &e) {
        std::cout << e.to_json(version).dump() << std::endl;
        const std::string line = std::string(e.what()) + (e.details().empty() ? "" : ": " + e.details());
        std::fprintf(stderr, "flatpath-cni: %s\n", line.c_str());
        log.write("error " + std::to_string(static_cast<int>(e.code())) + ": " + line);
    } catch (const std::exception &e) {
        const fp::cni::CniError io(fp::cni::ErrorCode::IoFailure, e.what());
        std::cout << io.to_json(version).dump() << std::endl;
        std::fprintf(stderr, "flatpath-cni: %s\n", e.what());
        log.write(std::string("error 5: ") + e.what());
    }
    return 1;
}
