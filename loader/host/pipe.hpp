// Pipes between flatpath and the processes it starts: both ends owned (UniqueFd,
// close-on-exec), and the two loops every user of one needs.
#pragma once

#include <string>
#include <string_view>

#include "unique_fd.hpp"

namespace fp {

struct Pipe {
    UniqueFd read, write;
};

// Throws fp::Error with errno's text when the kernel refuses.
Pipe open_pipe();

// Writes all of data; a reader that goes away first ends it quietly (SIGPIPE is
// ignored in this process from then on: a broken pipe is the reader's answer).
void write_all(int fd, std::string_view data);

// Everything the other end writes until it closes (or a read fails).
std::string read_all(int fd);

} // namespace fp
