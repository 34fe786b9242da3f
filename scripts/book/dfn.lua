-- Pandoc Lua filter: a term where a chapter defines it (see scripts/book/check_glossary.py).
--
-- In a chapter:  [poller]{.dfn}                  -> *poller*, with the id dfn-poller
--                [parks]{.dfn term="park"}       -> *parks*, with the id dfn-park
--
-- The id is "dfn-" and the term in lower case, each run of characters other
-- than letters and digits made one "-"; the glossary's entry links there.
-- Loaded by snippets.lua, so every build of the book (single page, pages,
-- EPUB, the lab edition) has the same anchors.

local function has_class(el, c)
  for _, k in ipairs(el.classes) do if k == c then return true end end
  return false
end

local function anchor(term)
  local s = term:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  return "dfn-" .. s
end

local function span(el)
  if not has_class(el, "dfn") then return nil end
  local term = el.attributes["term"] or pandoc.utils.stringify(el.content)
  el.attributes["term"] = nil
  if el.identifier == "" then el.identifier = anchor(term) end
  el.content = { pandoc.Emph(el.content) }
  return el
end

return {
  { Span = span },
}
