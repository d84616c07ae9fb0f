-- Continuation tokens: resume with no document lost or repeated.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu

describe("pages:continuation", function()
  before_each(function() emu.reset() end)

  local function resume_at(n, k, ps, opts)
    local id = H.job{ documents = n }
    local c = H.client()
    local all = H.listing(c, id, { page_size = 100 })
    local o = { page_size = ps }
    for key, v in pairs(opts or {}) do o[key] = v end
    local pages = c:documents(id, o)
    local got = {}
    for _ = 1, k do got[#got + 1] = assert(pages()).id end
    local token = pages:continuation()
    assert.is_string(token)
    assert.falsy(token:find(emu.key, 1, true))
    pages:close()
    for doc in c:documents(id, { continuation = token }) do got[#got + 1] = doc.id end
    return all, got
  end

  it("resumes mid-page", function()
    local all, got = resume_at(23, 7, 5)
    assert.same(all, got)
  end)

  it("resumes at a page boundary", function()
    local all, got = resume_at(23, 10, 5)
    assert.same(all, got)
  end)

  it("resumes before the first document and after the last", function()
    local all, got = resume_at(12, 0, 5)
    assert.same(all, got)
    all, got = resume_at(12, 12, 5)
    assert.same(all, got)
  end)

  it("keeps top, skip and filters in the token", function()
    local id = H.job{ documents = 60, fail_every = 2 }
    local c = H.client()
    local opts = { statuses = { "Succeeded" }, skip = 3, top = 20, page_size = 4 }
    local want = H.listing(c, id, opts)
    local pages = c:documents(id, opts)
    local got = {}
    for _ = 1, 9 do got[#got + 1] = pages().id end
    local token = pages:continuation()
    for doc in c:documents(id, { continuation = token, page_size = 7 }) do got[#got + 1] = doc.id end
    assert.same(want, got)
  end)

  it("takes a page_size given with the token over the token's, even when it is the client's own", function()
    local id = H.job{ documents = 30 }
    local c = H.client{ page_size = 10 }
    local pages = c:documents(id, { page_size = 4 })
    assert.equal(4, #assert(pages:next_page()))
    local token = pages:continuation()
    pages:close()
    local resumed = c:documents(id, { continuation = token, page_size = 10 })
    assert.equal(10, #assert(resumed:next_page()))
    resumed:close()
    -- without one, the token's page size goes on
    local again = c:documents(id, { continuation = token })
    assert.equal(4, #assert(again:next_page()))
    again:close()
  end)

  it("resumes after next_page", function()
    local id = H.job{ documents = 17 }
    local c = H.client()
    local all = H.listing(c, id)
    local pages = c:documents(id, { page_size = 6 })
    local got = {}
    for _, d in ipairs(assert(pages:next_page())) do got[#got + 1] = d.id end
    local token = pages:continuation()
    for doc in c:documents(id, { continuation = token }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)

  it("a token of a finished listing resumes with no request", function()
    local id = H.job{ documents = 3 }
    local c = H.client()
    local pages = c:documents(id)
    for _ in pages do end
    local token = pages:continuation()
    emu.clear_requests()
    assert.is_nil(c:documents(id, { continuation = token })())
    assert.equal(0, #H.requests())
  end)

  it("a listing that fails at page N resumes from its token", function()
    local id = H.job{ documents = 30 }
    local c = H.client{ retries = 0 }
    local all = H.listing(c, id)
    emu.fault{ route = "documents", job = id, page = 3, action = "status", status = 500, times = 1 }
    local pages = c:documents(id, { page_size = 5 })
    local got = {}
    local ok, err = U.loop(pages, function(doc) got[#got + 1] = doc.id end)
    assert.is_false(ok)
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
    assert.equal(10, #got)
    emu.clear_faults()
    for doc in c:documents(id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)

  it("keeps the token after break closes the listing", function()
    local id = H.job{ documents = 20 }
    local c = H.client()
    local all = H.listing(c, id)
    local pages = c:documents(id, { page_size = 6 })
    local got = {}
    -- the 4th value is what c:documents returns on 5.4: the to-be-closed one
    for doc in pages, nil, nil, pages do
      got[#got + 1] = doc.id
      if #got == 8 then break end
    end
    local token = pages:continuation()
    if _VERSION == "Lua 5.4" then
      assert.equal("usage", U.of(select(2, pcall(pages.next_page, pages))).kind)
    end
    for doc in c:documents(id, { continuation = token }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)

  it("rejects a token of another job", function()
    local a = H.job{ documents = 3 }
    local b = H.job{ documents = 3 }
    local c = H.client()
    local token = c:documents(a):continuation()
    local ok, err = pcall(c.documents, c, b, { continuation = token })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind)
  end)
end)
