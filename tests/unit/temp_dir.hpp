// A directory of a unit test's own under /tmp, removed with everything in it when the
// test ends (also when it fails).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace fp::test {

class TempDir {
public:
    explicit TempDir(const std::string &what)
    {
        std::string tmpl = "/tmp/flatpath-" + what + ".XXXXXX";
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot make a directory like " + tmpl);
        path_ = tmpl;
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    ~TempDir() { std::filesystem::remove_all(path_); }

    const std::string &path() const { return path_; }

private:
    std::string path_;
};

} // namespace fp::test
