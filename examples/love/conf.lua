-- LÖVE's configuration of the job viewer (examples/love/README.md).
function love.conf(t)
  t.identity = "doctranslate-love"
  t.version = "11.4"
  t.console = false
  t.window.title = "doctranslate: a job, never blocking a frame"
  t.window.width = 800
  t.window.height = 600
  t.window.resizable = false
  t.window.vsync = 1
  -- what the viewer does not use is not loaded (a quicker start, less memory)
  t.modules.audio = false
  t.modules.sound = false
  t.modules.joystick = false
  t.modules.physics = false
  t.modules.video = false
  t.modules.touch = false
end
