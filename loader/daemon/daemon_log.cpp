#include "daemon_log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace fp {

std::vector<std::string> daemon_log_files(const std::string &run_dir)
{
    std::vector<std::string> files;
    for (std::size_t i = kDaemonLogRotated; i >= 1; --i)
        files.push_back(run_dir + "/daemon." + std::to_string(i) + ".log");
    files.push_back(run_dir + "/" + kDaemonLogName);
    return files;
}

void log_to_file(const std::string &run_dir)
{
    std::error_code ec;
    std::filesystem::create_directories(run_dir, ec);
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(run_dir + "/" + kDaemonLogName,
                                                                       kDaemonLogMaxBytes, kDaemonLogRotated);
    file->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %l: %v", spdlog::pattern_time_type::utc));
    file->set_level(spdlog::level::info);
    // The daemon logs from several threads (the event loop, housekeeping, the cluster
    // member): both sinks lock.
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err->set_pattern("flatpath: %l: %v");
    const spdlog::level::level_enum wanted = spdlog::default_logger()->level();
    err->set_level(wanted);
    auto logger = std::make_shared<spdlog::logger>("flatpath", spdlog::sinks_init_list{err, file});
    logger->set_level(std::min(wanted, spdlog::level::info));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

} // namespace fp
