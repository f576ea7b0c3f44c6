// Reading and writing one /proc/sys value of the current network namespace.
#pragma once

#include <string>

namespace fp {

// name as sysctl(8) writes it: "net.ipv4.conf.eth0.rp_filter".
std::string sysctl_read(const std::string &name);
void sysctl_write(const std::string &name, const std::string &value);

} // namespace fp
