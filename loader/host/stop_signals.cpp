#include "stop_signals.hpp"

#include <signal.h>

#include <atomic>

namespace fp {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int)
{
    g_stop = true;
}

} // namespace

void stop_on_signals()
{
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested()
{
    return g_stop;
}

} // namespace fp
