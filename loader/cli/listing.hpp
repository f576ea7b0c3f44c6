// Every `list` verb's output from one description of its rows: a JSON array with
// --json, else a table with a header line (the CLI's two output forms).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_context.hpp"
#include "table.hpp"

namespace fp {

template <class Row>
struct Listing {
    std::vector<std::string> header;                          // the table's column names
    std::function<nlohmann::json(const Row &)> json;          // a row as a JSON object
    std::function<std::vector<std::string>(const Row &)> cells; // a row as table cells
};

template <class Row>
void print_listing(std::ostream &out, const std::vector<Row> &rows, bool json, const Listing<Row> &how)
{
    if (json) {
        nlohmann::json j = nlohmann::json::array();
        for (const Row &r : rows)
            j.push_back(how.json(r));
        out << j.dump(2) << "\n";
        return;
    }
    Table t(how.header);
    for (const Row &r : rows)
        t.add(how.cells(r));
    t.print(out);
}

// `PARENT list [--json]`: rows(root, maps) read from the pinned maps, printed as `how` says.
template <class Row>
void add_list_command(CLI::App &parent, CliContext &ctx, const std::string &help,
                      std::function<std::vector<Row>(const PinRoot &, MapSet &)> rows, Listing<Row> how)
{
    auto json = std::make_shared<bool>(false);
    auto *list = parent.add_subcommand("list", help);
    list->add_flag("--json", *json, "print JSON");
    list->callback([&ctx, json, rows = std::move(rows), how = std::move(how)] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        print_listing(std::cout, rows(root, maps), *json, how);
    });
}

} // namespace fp
