#include "rollback.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace fp {

void Rollback::push(std::string what, std::function<void()> undo)
{
    steps_.push_back({std::move(what), std::move(undo)});
}

Rollback::~Rollback()
{
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
        try {
            it->undo();
        } catch (const std::exception &e) {
            spdlog::warn("rollback: could not undo {}: {}", it->what, e.what());
        }
    }
}

} // namespace fp
