-- Usage errors (bad arguments, unknown options, a closed object) are raised as strings, the way
-- luaL_argerror raises them: "chunk:line: message", the line being the caller's, never a line of
-- the module. U.of(err) asserts that form and gives { kind = "usage", message =, where = } so
-- that specs go on asserting the message; U.raises(pattern, f, ...) does the pcall too.
local U = {}

function U.of(err)
  if type(err) ~= "string" then
    error("a usage error is a string, got a " .. type(err) .. ": " .. tostring(err), 2)
  end
  local where, message = err:match("^([^\n]-:%d+): (.*)$")
  if not where then error("a usage error without the caller's position: " .. err, 2) end
  if where:find("doctranslate%.lua:%d+$") or where:find("doctranslate/[%w_]+%.lua:%d+$") then
    error("a usage error placed inside the module, not at its caller: " .. err, 2)
  end
  if message:find("^doctranslate: ") then error("a runtime error, not a usage error: " .. err, 2) end
  return { kind = "usage", message = message, where = where }
end

function U.raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("no error raised", 2) end
  local e = U.of(err)
  if pattern and not e.message:find(pattern) then
    error("the usage error '" .. e.message .. "' does not match '" .. pattern .. "'", 2)
  end
  return e
end

-- Runs `for item in listing do each(item) end` under pcall: true when the loop ended, or false
-- and the error value when it raised. A listing's for loop raises a string (it prints on every Lua
-- and under nginx): checked to be a string carrying the error value's text, and the value is the
-- one listing:error() keeps.
function U.loop(listing, each)
  local ok, raised = pcall(function()
    for item in listing do
      if each then each(item) end
    end
  end)
  if ok then return true end
  if type(raised) ~= "string" then error("the for loop raised a " .. type(raised) .. ": " .. tostring(raised), 2) end
  local err = listing:error()
  if err == nil then error("the for loop raised, and the listing keeps no error: " .. raised, 2) end
  if not raised:find(tostring(err), 1, true) then
    error("the raised string '" .. raised .. "' is not the error's text '" .. tostring(err) .. "'", 2)
  end
  return false, err, raised
end

return U
