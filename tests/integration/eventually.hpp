// Waiting in tests for what happens in another process (a daemon, a runtime service).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace fp::test {

// Polls cond every 100 ms for up to `seconds`.
inline bool eventually(const std::function<bool()> &cond, int seconds = 30)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until) {
        if (cond())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return cond();
}

} // namespace fp::test
