-- The commands of doctranslate_nvim (lua/doctranslate_nvim/init.lua); nothing is loaded until
-- one of them runs.
if vim.g.loaded_doctranslate then return end
vim.g.loaded_doctranslate = true

vim.api.nvim_create_user_command("DocTranslateWatch", function(o)
  require("doctranslate_nvim").watch(o.args)
end, { nargs = 1, desc = "Show a Document Translation job's progress until it ends" })

vim.api.nvim_create_user_command("DocTranslateDocs", function(o)
  require("doctranslate_nvim").docs(o.args)
end, { nargs = 1, desc = "List a Document Translation job's documents in a scratch buffer" })
