-- Pandoc Lua filter: fills empty code blocks that name a snippet with code from the source tree.
--
-- In a chapter:    ```{.c snippet="some-name"}
--                  ```
-- In the sources:  a line holding the begin marker "[snippet" ": some-name]" and,
--                  further down, a line holding "[end" ": some-name]", inside any
--                  comment syntax (// # -- <!-- -->). The marker lines are not shown.
--
-- Written for pandoc 2.17 (Debian 12): plain Lua io/os only, no pandoc.system
-- or pandoc.path helpers newer than that.
--
-- Environment:
--   SNIPPET_DIRS  files and folders searched, relative to the working directory
--                 (default "src bench scripts chapters/code Makefile test.py"). build/,
--                 node_modules/, .git/ and scripts/book/ (this tooling, whose
--                 comments describe the markers) are never searched.
--   SNIPPET_OVERLAY  a lab (scripts/lab.py export): a source file that the lab
--                 holds is read from there, so a listing shows the lab's own
--                 file: the stub and its contract where the lab removed a
--                 body, with the lab file's line numbers. A listing that lies
--                 wholly inside a removed body shows that function's contract
--                 and stub instead. This is how `make lab` writes the lab
--                 edition of the book.
--
-- A source line holding "[later" ": topic]" belongs to a later chapter's
-- branch: listings leave it out, unless the fence says show="topic" (then the
-- marker is cut from the line). So chapter 5 shows the readiness path of a
-- struct that chapter 9 extends, with the file's own line numbers.
--
-- Listings are numbered with the source file's own line numbers. A fence with
-- class `transcript` (see scripts/book/transcripts.py) is shown as "$ command"
-- above its expected output.
--
-- It also runs scripts/book/numbers.lua: `SPEC`{.n} inlines, .approx spans
-- and .measured boxes (numbers from the build; see scripts/book/book_numbers.py),
-- and scripts/book/dfn.lua: [term]{.dfn}, a term where a chapter defines it,
-- the anchor its glossary entry links to (see scripts/book/check_glossary.py).
--
-- Any unknown, duplicate, unterminated or unmatched marker stops pandoc with a
-- non-zero exit and a message naming the snippet, the source file and the chapter.

local DIRS = os.getenv("SNIPPET_DIRS") or "src bench scripts chapters/code Makefile test.py"
local OVERLAY = os.getenv("SNIPPET_OVERLAY")
if OVERLAY == "" then OVERLAY = nil end

-- File name patterns that may hold snippets, and the highlighting class each
-- gets when the fence names none.
local LANG_BY_EXT = {
  c = "c", h = "c", S = "gnuassembler", s = "gnuassembler", inc = "c",
  mk = "makefile", py = "python", lua = "lua", sh = "bash",
  html = "html", htm = "html", js = "javascript", mjs = "javascript",
  css = "css", json = "json", yaml = "yaml", yml = "yaml", toml = "toml",
  conf = "", gp = "", gnuplot = "", plt = "", ld = "", txt = "",
}
local LANG_BY_NAME = { Makefile = "makefile", GNUmakefile = "makefile" }

-- Marker patterns. Names are kebab-case in practice; be liberal about the rest.
local NAME = "([%w_%.%-]+)"
local BEGIN_PAT = "%[snippet:%s*" .. NAME .. "%s*%]"
local END_PAT = "%[end:%s*" .. NAME .. "%s*%]"
-- Lab markers (scripts/lab.py) wrap a function whose body a lab removes; they
-- are for the exporter, not the reader, so listings drop them too.
local LAB_PAT = "^%s*//%s*%[lab:%s*" .. NAME .. "%s*%]%s*$"
local LAB_END_PAT = "^%s*//%s*%[end lab:%s*" .. NAME .. "%s*%]%s*$"
local LATER_PAT = "%[later:%s*" .. NAME .. "%s*%]"

local errors = {}
local function fail(msg) errors[#errors + 1] = msg end
local used_by -- defined with the chapter helpers below

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  if text:sub(-1) == "\n" then lines[#lines] = nil end -- trailing newline is no extra line
  return lines
end

local function lang_of(path)
  local base = path:match("([^/]+)$") or path
  if LANG_BY_NAME[base] then return LANG_BY_NAME[base] end
  local ext = base:match("%.([^.]+)$")
  return ext and LANG_BY_EXT[ext] or nil
end

-- ---------------------------------------------------------------- source scan
local function list_sources()
  local args = {}
  for word in DIRS:gmatch("%S+") do args[#args + 1] = shell_quote(word) end
  local names = {}
  for ext in pairs(LANG_BY_EXT) do names[#names + 1] = "-name '*." .. ext .. "'" end
  for base in pairs(LANG_BY_NAME) do names[#names + 1] = "-name '" .. base .. "'" end
  table.sort(names) -- deterministic order, so duplicate reports are stable
  local cmd = "find " .. table.concat(args, " ")
    .. " \\( -name build -o -name node_modules -o -name .git -o -path scripts/book \\) -prune -o"
    .. " -type f \\( " .. table.concat(names, " -o ") .. " \\) -print 2>/dev/null"
  local p = assert(io.popen(cmd, "r"))
  local files = {}
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  table.sort(files)
  return files
end

-- snippets[name] = { path = , first = , last = , lines = {...} } (first/last: source line numbers)
local snippets = {}
-- With an overlay: labs[path] = { { name = , b = , e = }, ... }, the lab
-- regions of the reference file (b, e: marker lines), and lab_lines[path]
-- the overlay's lines, for the snippets a lab removed with a body.
local labs, lab_lines = {}, {}

local function lab_regions(lines)
  local out, open = {}, nil
  for i, line in ipairs(lines) do
    local b = line:match(LAB_PAT)
    if b then open = { name = b, b = i } end
    local e = line:match(LAB_END_PAT)
    if e and open and open.name == e then
      open.e = i
      out[#out + 1] = open
      open = nil
    end
  end
  return out
end

local function scan()
  for _, path in ipairs(list_sources()) do
    local text = read_file(path)
    local lab_text = OVERLAY and read_file(OVERLAY .. "/" .. path)
    if lab_text then
      local ref = split_lines(text or "")
      labs[path] = lab_regions(ref)
      lab_lines[path] = split_lines(lab_text)
      text = lab_text
    end
    if text and text:find("[", 1, true) then
      local lines = split_lines(text)
      local open = {} -- name -> line number of its begin marker
      local order = {}
      for i, line in ipairs(lines) do
        for name in line:gmatch(BEGIN_PAT) do
          if open[name] then
            fail(string.format("%s:%d: snippet '%s' opened again (already open since line %d)%s",
              path, i, name, open[name], used_by(name)))
          else
            open[name] = i
            order[#order + 1] = name
          end
        end
        for name in line:gmatch(END_PAT) do
          local b = open[name]
          if not b then
            fail(string.format("%s:%d: end of snippet '%s' without a matching begin%s",
              path, i, name, used_by(name)))
          else
            open[name] = nil
            local prev = snippets[name]
            if prev then
              fail(string.format("duplicate snippet '%s': %s:%d and %s:%d%s",
                name, prev.path, prev.begin_line, path, b, used_by(name)))
            else
              snippets[name] = { path = path, begin_line = b, first = b + 1, last = i - 1, lines = lines }
            end
          end
        end
      end
      for _, name in ipairs(order) do
        if open[name] then
          fail(string.format("%s:%d: snippet '%s' is never ended (no end marker)%s",
            path, open[name], name, used_by(name)))
        end
      end
    end
  end
end

-- ---------------------------------------------------------------- extraction
local function expand_tabs(line)
  if not line:find("\t", 1, true) then return line end
  local out, col = {}, 0
  for ch in line:gmatch(".") do
    if ch == "\t" then
      local n = 8 - (col % 8)
      out[#out + 1] = string.rep(" ", n)
      col = col + n
    else
      out[#out + 1] = ch
      col = col + 1
    end
  end
  return table.concat(out)
end

-- Returns the listing text, the source line range it covers, and the runs of
-- consecutive source lines it is made of ({ {first, text}, ... }: more than one
-- when a nested marker line was dropped), so line numbers stay the file's own.
local function extract(sn, show)
  local kept = {} -- { n = source line number, s = text }
  for n = sn.first, sn.last do
    local line = sn.lines[n]
    local later = line:match(LATER_PAT)
    if later and show[later] then
      -- keep the line, without the marker (and without a comment it leaves empty)
      line = line:gsub("%s*" .. LATER_PAT, ""):gsub("%s*//%s*$", "")
      later = nil
    end
    if not (later or line:find(BEGIN_PAT) or line:find(END_PAT) or line:find(LAB_PAT) or line:find(LAB_END_PAT)) then
      -- nested markers vanish
      kept[#kept + 1] = { n = n, s = (expand_tabs(line):gsub("%s+$", "")) }
    end
  end
  while #kept > 0 and kept[1].s == "" do table.remove(kept, 1) end
  while #kept > 0 and kept[#kept].s == "" do table.remove(kept) end
  local indent
  for _, k in ipairs(kept) do
    if k.s ~= "" then
      local lead = #k.s:match("^ *")
      if not indent or lead < indent then indent = lead end
    end
  end
  indent = indent or 0
  local out, runs = {}, {}
  for i, k in ipairs(kept) do
    local s = k.s:sub(indent + 1)
    out[#out + 1] = s
    if i > 1 and k.n == kept[i - 1].n + 1 then
      local r = runs[#runs]
      r.lines[#r.lines + 1] = s
    else
      runs[#runs + 1] = { first = k.n, lines = { s } }
    end
  end
  local first = kept[1] and kept[1].n or sn.first
  local last = kept[#kept] and kept[#kept].n or sn.last
  return table.concat(out, "\n"), first, last, runs
end

-- ---------------------------------------------------------------- chapters
local chapter_cache = {}

local function escape_pattern(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- Where the chapters being built refer to `name`: "chapters/x.md:12, ...",
-- or nil when none does.
local function references(name)
  local files = PANDOC_STATE and PANDOC_STATE.input_files or {}
  local pat = "snippet%s*=%s*[\"']?" .. escape_pattern(name) .. "[\"'%s}]"
  local hits = {}
  for _, f in ipairs(files) do
    if f ~= "-" then
      chapter_cache[f] = chapter_cache[f] or split_lines(read_file(f) or "")
      for i, line in ipairs(chapter_cache[f]) do
        if line:find(pat) then hits[#hits + 1] = f .. ":" .. i end
      end
    end
  end
  return #hits > 0 and table.concat(hits, ", ") or nil
end

-- Prefix for an error about a listing: the chapter line(s), else the inputs.
local function where_referenced(name)
  local files = PANDOC_STATE and PANDOC_STATE.input_files or {}
  return references(name) or (#files > 0 and table.concat(files, ", ") or "standard input")
end

-- Suffix for an error found in the sources: which chapter uses that snippet.
used_by = function(name)
  local r = references(name)
  return r and (" (used by " .. r .. ")") or " (not used by the chapters being built)"
end

-- ---------------------------------------------------------------- filter
local scanned = false

-- A console transcript (checked by scripts/book/transcripts.py): shown as a
-- prompt line with the command, then the expected output.
local function transcript(el)
  local cmd = el.attributes["command"] or ""
  local text = "$ " .. cmd .. (el.text ~= "" and ("\n" .. el.text) or "")
  return pandoc.Div({ pandoc.CodeBlock(text, pandoc.Attr(el.identifier, { "transcript" }, {})) },
    pandoc.Attr("", { "transcript-block" }, { ["data-stage"] = el.attributes["stage"] or "" }))
end

-- A snippet the lab removed with the body around it: returns, as a snippet,
-- that function's contract (the comment block above its marker) and its stub
-- in the lab's file; nil if no lab body of the reference holds the snippet.
local function removed_by_lab(name)
  if not OVERLAY then return nil end
  local pat = "%[snippet:%s*" .. escape_pattern(name) .. "%s*%]"
  for path, regions in pairs(labs) do
    local ref = split_lines(read_file(path) or "")
    for i, line in ipairs(ref) do
      if line:find(pat) then
        for _, r in ipairs(regions) do
          if r.b < i and i < r.e then
            local lines = lab_lines[path]
            for _, lr in ipairs(lab_regions(lines)) do
              if lr.name == r.name then
                local first = lr.b
                while first > 1 and lines[first - 1]:match("^%s*//") do first = first - 1 end
                return { path = path, first = first, last = lr.e, lines = lines, inside_lab = true }
              end
            end
          end
        end
      end
    end
  end
  return nil
end

local function codeblock(el)
  local name = el.attributes["snippet"]
  if not name then
    for _, c in ipairs(el.classes) do
      if c == "transcript" then return transcript(el) end
    end
    return nil
  end
  if not scanned then scan(); scanned = true end
  if el.text:match("%S") then
    fail(string.format("%s: listing for snippet '%s' must have an empty body", where_referenced(name), name))
    return nil
  end
  local sn = snippets[name] or removed_by_lab(name)
  if not sn then
    fail(string.format("%s: unknown snippet '%s' (no marker under %s)", where_referenced(name), name, DIRS))
    return nil
  end
  local show = {}
  for topic in (el.attributes["show"] or ""):gmatch("[%w_%.%-]+") do show[topic] = true end
  local code, first, last, runs = extract(sn, show)

  -- Every listing carries the file's own line numbers (class numberLines,
  -- startFrom = its first source line) unless the chapter says .plain.
  local classes, numbered, plain = {}, false, false
  for _, c in ipairs(el.classes) do
    if c == "plain" then plain = true else classes[#classes + 1] = c end
    if c == "numberLines" or c == "number-lines" then numbered = true end
  end
  local has_lang = false
  for _, c in ipairs(classes) do
    if c ~= "numberLines" and c ~= "number-lines" then has_lang = true end
  end
  if not has_lang then
    local lang = lang_of(sn.path)
    if lang and lang ~= "" then table.insert(classes, 1, lang) end
  end
  if not numbered and not plain then classes[#classes + 1] = "numberLines" end
  local attrs = {}
  for k, v in pairs(el.attributes) do
    if k ~= "snippet" and k ~= "show" then attrs[k] = v end
  end

  local where = first == last and string.format("%s:%d", sn.path, first)
    or string.format("%s:%d-%d", sn.path, first, last)
  local caption = pandoc.Div({ pandoc.Plain({ pandoc.Code(where) }) },
    pandoc.Attr("", { "listing-caption" }))
  local blocks = { caption }
  if plain or attrs["startFrom"] then
    blocks[2] = pandoc.CodeBlock(code, pandoc.Attr(el.identifier, classes, attrs))
  else
    for i, r in ipairs(runs) do -- one block per run of consecutive source lines
      local a = {}
      for k, v in pairs(attrs) do a[k] = v end
      a["startFrom"] = tostring(r.first)
      blocks[#blocks + 1] = pandoc.CodeBlock(table.concat(r.lines, "\n"),
        pandoc.Attr(i == 1 and el.identifier or "", classes, a))
    end
  end
  -- The lab edition says which bodies of the listing are the reader's.
  local todo = {}
  for n in code:gmatch("%[lab%-todo:%s*([%w_]+)%]") do todo[#todo + 1] = n end
  if #todo > 0 then
    local note = sn.inside_lab
      and { pandoc.Str("Lab: this listing is part of the body of "), pandoc.Code(todo[1]),
            pandoc.Str(", which you write; here are its contract and its stub.") }
      or { pandoc.Str("Lab: you write the body of "), pandoc.Code(table.concat(todo, ", ")),
           pandoc.Str("; the listing shows the contract above it and the stub.") }
    table.insert(blocks, 1, pandoc.Div({ pandoc.Plain(note) }, pandoc.Attr("", { "lab-note" })))
  end
  return pandoc.Div(blocks, pandoc.Attr("", { "listing" }, { ["data-snippet"] = name }))
end

local function finish(doc)
  if not scanned then scan(); scanned = true end -- tree errors count even with no listing
  if #errors > 0 then
    for _, e in ipairs(errors) do io.stderr:write("snippets: ", e, "\n") end
    error(string.format("snippets: %d error(s), see above", #errors), 0)
  end
  return nil
end

-- The numbers in prose (scripts/book/numbers.lua) are resolved by the same
-- filter, so every build of the book shows the same figures.
local filters = {
  { CodeBlock = codeblock },
  { Pandoc = finish },
}
local here = (PANDOC_SCRIPT_FILE or "scripts/book/snippets.lua"):match("^(.*/)") or "./"
for _, f in ipairs(dofile(here .. "numbers.lua")) do filters[#filters + 1] = f end
for _, f in ipairs(dofile(here .. "dfn.lua")) do filters[#filters + 1] = f end
return filters
