// doctor.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "doctor.hpp"

namespace fp {

void add_doctor_command(CLI::App &app, CliContext &ctx)
{
    auto json = std::make_shared<bool>(false);
    auto *doctor = app.add_subcommand(
        "doctor", "check the host for what would fight with flatpath: other users of its mark bits (ip rules, "
                  "iptables, nft), strict rp_filter where traffic is asymmetric, native XDP where it breaks "
                  "senders' checksum offload; and endpoints the datapath cannot see (a damaged prefix summary). "
                  "Each finding comes with its fix. Exits 0 when there is nothing to report, 3 when there is");
    doctor->add_flag("--json", *json, "print JSON");
    doctor->callback([&ctx, json] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::vector<Finding> findings = run_doctor(maps);
        if (*json) {
            nlohmann::json j = nlohmann::json::array();
            for (const auto &f : findings)
                j.push_back({{"problem", f.what}, {"fix", f.fix}});
            std::cout << j.dump(2) << "\n";
        } else if (findings.empty()) {
            std::cout << "nothing to report\n";
        } else {
            for (const auto &f : findings)
                std::cout << "- " << f.what << "\n  fix: " << f.fix << "\n";
        }
        if (!findings.empty())
            throw CLI::RuntimeError(3);
    });
}

} // namespace fp
