-- Release 0.1.0: `make rock` makes its tarball (source.url's file) and its source rock, which
-- installs offline: luarocks install ./doctranslate-0.1.0-1.src.rock
-- It differs from doctranslate-scm-1.rockspec in its version and source only (`make rockspec-check`).
rockspec_format = "3.0"
package = "doctranslate"
version = "0.1.0-1"

source = {
  url = "https://github.com/doctranslate/doctranslate-lua/releases/download/v0.1.0/doctranslate-0.1.0.tar.gz",
  dir = "doctranslate-0.1.0",
}

description = {
  summary = "Track Azure AI Translator Document Translation jobs from Lua",
  detailed = [[
A C core (libcurl) builds the requests, pages through document lists,
retries and parses the answers; a thin Lua layer sits on top. It runs on
Lua 5.1 to 5.4 and LuaJIT, drives the same state machine over OpenResty
cosockets, and offers a non-blocking API for game and app loops. A CLI,
doctranslate, checks on jobs from a shell; another, doctranslate-emulator,
runs a local emulator of the service (nginx and its Lua module) for the
tests of code that uses the module. The service's int64 counters are
integers on Lua 5.3/5.4 and plain numbers on Lua 5.1, 5.2 and LuaJIT, exact
to 2^53 (job.summary.total == 120 holds everywhere).
]],
  homepage = "https://github.com/doctranslate/doctranslate-lua",
  license = "MIT",
  labels = { "azure", "translation", "http", "libcurl" },
}

-- Debian and Ubuntu package all three (lua-dkjson, lua-argparse, lua-cjson); LuaRocks does not
-- see Debian's packages: docs/install.md shows how to tell it (rocks_provided) or to skip the check.
dependencies = {
  "lua >= 5.1, < 5.5",
  "dkjson >= 2.5",      -- report:json() and the CLI's --json
  "argparse >= 0.7",    -- the CLI's options
  "lua-cjson >= 2.1.0", -- doctranslate-emulator (its LuaJIT build, under nginx)
}

-- Only the library is looked for: LuaRocks searches lib/<multiarch> for it, but not
-- include/<multiarch> for curl/curl.h, which is where Debian and Ubuntu keep it. The compiler
-- searches there by itself, so CURL_INCDIR (<prefix>/include of the prefix where libcurl was
-- found, or as given: CURL_DIR=..., CURL_INCDIR=...) serves every layout.
external_dependencies = {
  CURL = { library = "curl" },
}

build = {
  type = "builtin",
  modules = {
    ["doctranslate"] = "lua/doctranslate.lua",
    ["doctranslate.cli"] = "lua/doctranslate/cli.lua",
    ["doctranslate.client"] = "lua/doctranslate/client.lua",
    ["doctranslate.driver"] = "lua/doctranslate/driver.lua",
    ["doctranslate.lifecycle"] = "lua/doctranslate/lifecycle.lua",
    ["doctranslate.watch"] = "lua/doctranslate/watch.lua",
    ["doctranslate.cache"] = "lua/doctranslate/cache.lua",
    ["doctranslate.translate"] = "lua/doctranslate/translate.lua",
    ["doctranslate.openresty"] = "lua/doctranslate/openresty.lua",
    ["doctranslate.core"] = {
      sources = {
        "src/core/dt_buf.c",
        "src/core/dt_conf.c",
        "src/core/dt_consts.c",
        "src/core/dt_cont.c",
        "src/core/dt_date.c",
        "src/core/dt_guard.c",
        "src/core/dt_idset.c",
        "src/core/dt_listing.c",
        "src/core/dt_op.c",
        "src/core/dt_page.c",
        "src/core/dt_pvalue.c",
        "src/core/dt_resp.c",
        "src/core/dt_translate.c",
        "src/core/dt_url.c",
        "src/curl/dt_clock.c",
        "src/curl/dt_curl.c",
        "src/curl/dt_pump.c",
        "src/lua/compat.c",
        "src/lua/lua_async.c",
        "src/lua/lua_client.c",
        "src/lua/lua_consts.c",
        "src/lua/lua_error.c",
        "src/lua/lua_module.c",
        "src/lua/lua_obj.c",
        "src/lua/lua_op.c",
        "src/lua/lua_ops.c",
        "src/lua/lua_pages.c",
        "src/lua/lua_pump.c",
        "src/lua/lua_run.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      incdirs = { "src", "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
      libraries = { "curl" },
    },
  },
  install = {
    bin = {
      ["doctranslate"] = "bin/doctranslate",
      ["doctranslate-emulator"] = "bin/doctranslate-emulator",
    },
  },
  -- the emulator's files, kept in the rock's folder; bin/doctranslate-emulator finds them there
  copy_directories = { "emulator", "docs" },
}
