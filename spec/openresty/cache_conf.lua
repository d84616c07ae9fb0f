-- spec/openresty and bench/cache_status.lua: the eval nginx.conf edited for the status cache:
-- a lua_shared_dict `doctranslate` and the routes of cache_handler.lua.
local M = {}

function M.edit(conf)
  conf = conf:gsub("env DT_API_VERSION;", "env DT_API_VERSION;\nenv DT_CACHE_TTL;")
  conf = conf:gsub("lua_socket_log_errors off;", "lua_socket_log_errors off;\n    lua_shared_dict doctranslate 4m;")
  -- (the replacement holds no '%')
  return (conf:gsub("        location / {", [[
        location ~ ^/(status|plain|other|document|cache-stats) {
            content_by_lua_block {
                require("cache_handler").handle()
            }
        }

        location / {]], 1))
end

return M
