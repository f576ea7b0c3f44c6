// Reading and writing one /proc/sys value of the current network namespace.
#pragma once

#include <string>

namespace fp {

// name as sysctl(8) takes it: "net.ipv4.ip_forward", or with slashes, in which dots are
// part of the names: "net/ipv4/conf/eth0.100/rp_filter".
std::string sysctl_read(const std::string &name);
void sysctl_write(const std::string &name, const std::string &value);

// The name of a per-device setting, safe for device names with dots (VLAN devices such
// as eth0.100): conf_sysctl("ipv4", "eth0.100", "rp_filter").
std::string conf_sysctl(const std::string &family, const std::string &dev, const std::string &key);

} // namespace fp
