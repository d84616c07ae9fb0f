std = "max"
max_line_length = 120
exclude_files = { "build/", "luarocks-tree/", "bench/node_modules/" }
files["spec/"] = { std = "+busted" }
files["emulator/"] = { globals = { "ngx" } }
files["lua/doctranslate/openresty.lua"] = { read_globals = { "ngx" } }
files["examples/emulator_spec.lua"] = { std = "+busted" }
