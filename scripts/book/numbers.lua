-- Pandoc Lua filter: the book's numbers come from the build (see scripts/book/book_numbers.py).
--
-- In a chapter:  `lines src/net/*.c`{.n}            -> 854 (resolved by book_numbers.py; a spec that
--                                                     does not resolve stops pandoc, naming the
--                                                     chapter line)
--                [about 40 ms]{.approx src="..."}   -> about 40 ms (its source as a title)
--                ::: {.measured on="..." command="..."}
--                ...table and the sentences that read it...
--                :::                                -> the same, under a "Measured on" line
--                ::: {.approx src="..."} ... :::    -> the same, under "Approximate; source: ..."
--
-- Loaded by snippets.lua, so every build of the book (single page, pages,
-- EPUB, the lab edition) resolves the same numbers. Written for pandoc 2.17:
-- pandoc.pipe only, no JSON module.

local HERE = (PANDOC_SCRIPT_FILE or "scripts/book/numbers.lua"):match("^(.*/)") or "./"
local PYTHON = os.getenv("BOOK_PYTHON") or "python3"

local function has_class(el, c)
  for _, k in ipairs(el.classes) do if k == c then return true end end
  return false
end

local specs, order, values = {}, {}, {}

local function read_lines(path)
  local f = io.open(path, "r")
  if not f then return {} end
  local out = {}
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

-- "chapters/x.md:12" for the first chapter line holding the spec, else the inputs.
local function where(spec)
  local files = PANDOC_STATE and PANDOC_STATE.input_files or {}
  for _, f in ipairs(files) do
    for i, line in ipairs(read_lines(f)) do
      if line:find("`" .. spec .. "`", 1, true) then return f .. ":" .. i end
    end
  end
  return table.concat(files, ", ")
end

local function collect(el)
  if has_class(el, "n") and not specs[el.text] then
    specs[el.text] = true
    order[#order + 1] = el.text
  end
end

local function resolve_all(doc)
  if #order == 0 then return nil end
  local ok, out = pcall(pandoc.pipe, PYTHON, { HERE .. "book_numbers.py", "resolve" }, table.concat(order, "\n") .. "\n")
  if not ok then error("numbers: book_numbers.py resolve failed: " .. tostring(out), 0) end
  local errors, i = {}, 0
  for line in out:gmatch("([^\n]*)\n") do
    i = i + 1
    local spec = order[i]
    local status, text = line:match("^(%a+)\t(.*)$")
    if status == "ok" then
      values[spec] = text
    else
      errors[#errors + 1] = string.format("%s: `%s`{.n}: %s", where(spec), spec, text or line)
    end
  end
  if i ~= #order then errors[#errors + 1] = string.format("book_numbers.py answered %d of %d specs", i, #order) end
  if #errors > 0 then
    for _, e in ipairs(errors) do io.stderr:write("numbers: ", e, "\n") end
    error(string.format("numbers: %d figure(s) do not resolve, see above", #errors), 0)
  end
  return nil
end

local function code(el)
  if not has_class(el, "n") then return nil end
  return pandoc.Span({ pandoc.Str(values[el.text]) }, pandoc.Attr("", { "n" }, { title = el.text }))
end

local function span(el)
  if not has_class(el, "approx") then return nil end
  local src = el.attributes["src"] or ""
  el.attributes["src"] = nil
  el.attributes["title"] = "approximate; source: " .. src
  return el
end

local function div(el)
  if has_class(el, "approx") then
    local src = el.attributes["src"] or ""
    el.attributes["src"] = nil
    local note = { pandoc.Strong({ pandoc.Str("Approximate;") }), pandoc.Space(), pandoc.Str("source: " .. src) }
    table.insert(el.content, 1, pandoc.Div({ pandoc.Plain(note) }, pandoc.Attr("", { "measured-on" })))
    return el
  end
  if not has_class(el, "measured") then return nil end
  local on, cmd = el.attributes["on"] or "", el.attributes["command"] or ""
  el.attributes["on"], el.attributes["command"] = nil, nil
  local note = { pandoc.Strong({ pandoc.Str("Measured") }), pandoc.Space(), pandoc.Str("on " .. on .. ", with"),
    pandoc.Space(), pandoc.Code(cmd) }
  table.insert(el.content, 1, pandoc.Div({ pandoc.Plain(note) }, pandoc.Attr("", { "measured-on" })))
  return el
end

return {
  { Code = collect },
  { Pandoc = resolve_all },
  { Code = code, Span = span, Div = div },
}
