// Undo steps for a multi-step change: each side effect pushes its undo; if the
// change does not reach commit(), the undos run in reverse order, so a failed
// operation leaves nothing behind (STYLE.md 13).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace fp {

class Rollback {
public:
    Rollback() = default;
    Rollback(const Rollback &) = delete;
    Rollback &operator=(const Rollback &) = delete;
    ~Rollback();

    // what: a few words for the log if this undo itself fails.
    void push(std::string what, std::function<void()> undo);
    void commit() { steps_.clear(); }

private:
    struct Step {
        std::string what;
        std::function<void()> undo;
    };
    std::vector<Step> steps_;
};

} // namespace fp
