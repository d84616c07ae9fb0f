std = "max"
max_line_length = 120
exclude_files = { "build/", "luarocks-tree/", "bench/node_modules/" }
files["spec/"] = { std = "+busted" }
files["emulator/"] = { globals = { "ngx" } }
files["lua/doctranslate/openresty.lua"] = { read_globals = { "ngx" } }
files["examples/love/"] = { read_globals = { "love" }, globals = { "love.load", "love.update", "love.draw",
  "love.keypressed", "love.run", "love.conf" } }
files["examples/nvim/"] = { read_globals = { "vim" }, globals = { "vim.g", "vim.bo" } }
files["spec/hosts/nvim_check.lua"] = { read_globals = { "vim" } }
files["examples/emulator_spec.lua"] = { std = "+busted" }
