-- Start-time configuration of the emulator (set once from nginx.conf's init_by_lua_block).
local config = {
  key = "doctranslate-emulator-key",
  dir = ".",
}

function config.set(values)
  for k, v in pairs(values) do
    config[k] = v
  end
end

return config
