// The daemon's log: to stderr as every command logs, and to RUN_DIR/daemon.log (rotated by
// size into daemon.1.log and daemon.2.log) with UTC timestamps, where `flatpath logs` and
// `flatpath status` read it: a daemon under systemd or in a container often has no one
// reading its stderr.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fp {

inline constexpr const char *kDaemonLogName = "daemon.log";
inline constexpr std::size_t kDaemonLogMaxBytes = 4 << 20;
inline constexpr std::size_t kDaemonLogRotated = 2; // daemon.1.log, daemon.2.log

// The log's files under run_dir, oldest first: daemon.2.log, daemon.1.log, daemon.log.
std::vector<std::string> daemon_log_files(const std::string &run_dir);

// Makes the default logger write to both; the file gets info and above whatever the
// command line's verbosity.
void log_to_file(const std::string &run_dir);

} // namespace fp
